// verify and status as commands: read the config, record and node, decide where to see the processes,
// replay the tool's journals, and judge the node. Read-only; the caller (src/cli/verify.ts,
// src/cli/status.ts) renders the result and maps it to an exit code.
import { loadConfig, loadNode, requireProc } from '../inputs.js';
import type { Config } from '../model/config.js';
import { readRunJournals } from '../state/backups.js';
import type { ConfigSource } from '../state/config-source.js';
import { replayJournals, type NodeHistory } from '../state/history.js';
import type { MigrationRecord } from '../state/record.types.js';
import { componentHealth, type ComponentHealth } from '../verify/health.js';
import type { VerifyReport } from '../verify/types.js';
import { verifyNode, verifyWithPlan, type VerifyOptions } from '../verify/verify.js';

export interface VerifyCommandInputs {
  /** Host path of the node's root. */
  root: string;
  /** -c: host path of the config file, or null. */
  config: string | null;
  /** --proc: the proc filesystem to check processes in; absent: /proc when the root is /, else none. */
  proc?: string;
  /** false with --no-runtime: no process checks. */
  runtime: boolean;
}

/** " --root DIR" for the commands verify's findings print, "" on the machine's own root. */
function rootFlagOf(root: string): string {
  return root === '/' ? '' : ` --root ${root}`;
}

/**
 * What the tool's runs on this node add up to (replayJournals), for verify to name the rollback or
 * revert that left it unmigrated instead of blaming kubeadm for kept accounts. Only an explanation: a
 * journal that cannot be read leaves verify to judge by the node alone.
 */
async function nodeHistory(root: string): Promise<NodeHistory | undefined> {
  try {
    return replayJournals(await readRunJournals(root));
  } catch {
    return undefined;
  }
}

/** What verify and status judge a node by: its config (and where it came from), record and state, and the options. */
async function judgeInputs(inputs: VerifyCommandInputs) {
  const { config, source, record } = await loadConfig(inputs);
  const node = await loadNode(inputs, config);
  const proc = !inputs.runtime ? null : (inputs.proc ?? (inputs.root === '/' ? '/proc' : null));
  if (proc) requireProc(proc);
  const options: VerifyOptions = { now: new Date(), proc, rootFlag: rootFlagOf(inputs.root), history: await nodeHistory(inputs.root), record };
  return { config, source, record, node, options };
}

/** verify: the node against the desired state. */
export async function runVerify(inputs: VerifyCommandInputs): Promise<{ report: VerifyReport; rootFlag: string }> {
  const { config, node, options } = await judgeInputs(inputs);
  return { report: await verifyNode(node, config, options), rootFlag: options.rootFlag };
}

/** status: the node's migration as its record says, and each component's health as verify judges it. */
export interface NodeStatus {
  migrated: boolean;
  status: MigrationRecord['status'] | 'never-migrated';
  since: string | null;
  updatedAt: string | null;
  toolVersion: string | null;
  by: string | null;
  kubernetesVersion: string | null;
  etcdVersion: string | null;
  configSource: ConfigSource;
  config: Config;
  verify: { state: VerifyReport['state']; findings: number; runtimeChecked: boolean };
  components: ComponentHealth[];
}

export async function runStatus(inputs: VerifyCommandInputs): Promise<{ status: NodeStatus; record: MigrationRecord | null; rootFlag: string }> {
  const { config, source, record, node, options } = await judgeInputs(inputs);
  const { plan, report } = await verifyWithPlan(node, config, options);
  const status: NodeStatus = {
    migrated: record?.status === 'migrated',
    status: record?.status ?? 'never-migrated',
    since: record?.migratedAt ?? null,
    updatedAt: record?.updatedAt ?? null,
    toolVersion: record?.toolVersion ?? null,
    by: record?.by ?? null,
    kubernetesVersion: plan.kubernetesVersion,
    etcdVersion: plan.etcdVersion,
    configSource: source,
    config,
    verify: { state: report.state, findings: report.findings.length, runtimeChecked: report.runtimeChecked },
    components: componentHealth(plan, report),
  };
  return { status, record, rootFlag: options.rootFlag };
}
