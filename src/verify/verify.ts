// verify: the node against the desired state — static (accounts, files, manifests) and, when the
// processes are visible, runtime.
import type { Config } from '../model/config.js';
import type { NodeState } from '../model/node.js';
import { buildPlan } from '../plan/plan.js';
import type { MigrationRecord } from '../state/record.types.js';
import { runtimeFindings } from './runtime.js';
import { userNamespaceFindings } from './userns.js';
import { undoingRun } from './causes.js';
import type { NodeHistory } from '../state/history.js';
import { neverMigrated, staticFindings } from './static.js';
import type { VerifyReport } from './types.js';
import type { Plan } from '../plan/types.js';
import { compareText } from '../model/order.js';

export interface VerifyOptions {
  now: Date;
  proc: string | null;
  rootFlag: string;
  /**
   * What the tool's journals say about this node (replayJournals), read by the caller. When the latest
   * standing outcome is a rollback or a revert, the node is unmigrated whatever accounts were kept, and
   * nothing is blamed on kubeadm.
   */
  history?: NodeHistory;
  record?: MigrationRecord | null;
}

export async function verifyNode(node: NodeState, config: Config, opts: VerifyOptions): Promise<VerifyReport> {
  return (await verifyWithPlan(node, config, opts)).report;
}

/** verifyNode, also returning the plan the node was judged against (status reads each component's identity from it). */
export async function verifyWithPlan(node: NodeState, config: Config, opts: VerifyOptions): Promise<{ plan: Plan; report: VerifyReport }> {
  const plan = buildPlan(node, config, { now: opts.now, record: opts.record ?? null });
  const undoneBy = undoingRun(opts.history);
  const undone = undoneBy !== null;
  const findings = staticFindings(plan, opts.rootFlag, undone);
  if (opts.proc) findings.push(...(await runtimeFindings(plan, node, opts.proc, opts.rootFlag)), ...(await userNamespaceFindings(plan, node, opts.proc)));
  findings.sort((a, b) => compareText(a.kind, b.kind) || compareText(a.subject, b.subject));
  const state = findings.length === 0 ? 'holds' : undone || neverMigrated(plan) ? 'not-migrated' : 'drift';
  const why = undoneBy && state === 'not-migrated' ? (undoneBy.state === 'rolled-back' ? { rolledBackRun: undoneBy.run } : { revertedRun: undoneBy.run }) : {};
  return { plan, report: { ok: findings.length === 0, state, runtimeChecked: opts.proc !== null, findings, ...why } };
}
