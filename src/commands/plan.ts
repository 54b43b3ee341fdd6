// plan as a command: read the config, record and node, and plan (read-only). Returns the plan and
// whether it may run; the caller (src/cli/plan.ts) renders it and maps the verdict to an exit code.
import { loadConfig, loadNode } from '../inputs.js';
import { buildPlan } from '../plan/plan.js';
import { isBlocked } from '../plan/summary.js';
import type { Plan } from '../plan/types.js';

export interface PlanCommandInputs {
  /** Host path of the node's root. */
  root: string;
  /** -c: host path of the config file, or null. */
  config: string | null;
  /** --kubernetes-version: an upgrade target to judge too. */
  targetVersion?: string;
  /** --user-namespaces: the mode, overriding the config's userNamespaces. */
  userNamespaces?: string | undefined;
  /** --proc: the procfs the user-namespace prerequisites are read from. */
  proc?: string;
  /** --node-status: a file holding the node's `kubectl get node -o json`, for the runtime's support. */
  nodeStatus?: string | undefined;
}

export interface PlanOutcome {
  plan: Plan;
  /** blocked: blocking problems; unsupported-target: the upgrade target is not one the tool handles. */
  verdict: 'ok' | 'blocked' | 'unsupported-target';
}

export async function runPlan(inputs: PlanCommandInputs): Promise<PlanOutcome> {
  const { config, record } = await loadConfig(inputs, inputs.userNamespaces);
  const node = await loadNode(inputs, config, { proc: inputs.proc ?? '/proc', ...(inputs.nodeStatus === undefined ? {} : { nodeStatus: inputs.nodeStatus }) });
  const plan = buildPlan(node, config, { now: new Date(), targetVersion: inputs.targetVersion, record, consentedGrants: config.grants ?? [] });
  if (isBlocked(plan)) return { plan, verdict: 'blocked' };
  if (plan.target && plan.target.support !== 'known') return { plan, verdict: 'unsupported-target' };
  return { plan, verdict: 'ok' };
}
