// verify: the node against the desired state — static (accounts, files, manifests) and, when the
// processes are visible, runtime.
import type { Config } from '../model/config.js';
import type { NodeState } from '../model/node.js';
import { buildPlan } from '../plan/plan.js';
import type { MigrationRecord } from '../state/record.types.js';
import { runtimeFindings } from './runtime.js';
import { neverMigrated, staticFindings } from './static.js';
import type { VerifyReport } from './types.js';
import type { Plan } from '../plan/types.js';
import { compareText } from '../model/order.js';

export interface VerifyOptions {
  now: Date;
  proc: string | null;
  rootFlag: string;
  /**
   * Set by the caller, which reads the tool's journals, when every apply on this node was rolled back
   * (the id of the latest): the node is then unmigrated whatever accounts were kept.
   */
  rolledBackRun?: string;
  record?: MigrationRecord | null;
}

export async function verifyNode(node: NodeState, config: Config, opts: VerifyOptions): Promise<VerifyReport> {
  return (await verifyWithPlan(node, config, opts)).report;
}

/** verifyNode, also returning the plan the node was judged against (status reads each component's identity from it). */
export async function verifyWithPlan(node: NodeState, config: Config, opts: VerifyOptions): Promise<{ plan: Plan; report: VerifyReport }> {
  const plan = buildPlan(node, config, { now: opts.now, record: opts.record ?? null });
  const undone = opts.rolledBackRun !== undefined;
  const findings = staticFindings(plan, opts.rootFlag, undone);
  if (opts.proc) findings.push(...(await runtimeFindings(plan, node, opts.proc, opts.rootFlag)));
  findings.sort((a, b) => compareText(a.kind, b.kind) || compareText(a.subject, b.subject));
  const state = findings.length === 0 ? 'holds' : undone || neverMigrated(plan) ? 'not-migrated' : 'drift';
  return { plan, report: { ok: findings.length === 0, state, runtimeChecked: opts.proc !== null, findings, ...(undone && state === 'not-migrated' ? { rolledBackRun: opts.rolledBackRun } : {}) } };
}
