// apply and revert as commands: refuse what cannot run → lock → read the config and the node → plan
// (or take a saved plan the node's own plan accepts) → continue an unfinished run or start a new one →
// ask → the journaled run with its health gates and automatic rollback. Returns how it ended; the
// caller (src/cli/apply.ts) renders it and maps it to an exit code, and provides the question, the
// progress display and the signal handling. Refusals throw InputError/RefusedError (nothing changed).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, RefusedError } from '../errors.js';
import { loadConfig, loadNode, requireProc, requirePrograms, requireRoot } from '../inputs.js';
import type { Config } from '../model/config.js';
import type { NodeState } from '../model/node.js';
import { buildPlan } from '../plan/plan.js';
import { buildRevertPlan } from '../plan/revert.js';
import { acceptSavedPlan } from '../plan/saved-plan.js';
import { hasChanges, isBlocked } from '../plan/summary.js';
import type { Plan } from '../plan/types.js';
import { listBackups, type BackupInfo } from '../state/backups.js';
import { createdAccounts } from '../state/created-accounts.js';
import { Journal, JOURNAL_FILE } from '../state/journal.js';
import { assertJournalTrusted } from '../state/journal-check.js';
import { acquireLock } from '../state/lock.js';
import { recordInputs } from '../state/record.js';
import type { MigrationRecord } from '../state/record.types.js';
import { chooseApplyStart } from '../state/run-selection.js';
import { rollbackCommandLine } from '../apply/rollback-hint.js';
import { applyPlan, type ApplyEvent, type ApplyResult } from '../apply/run.js';

export interface ApplyCommandInputs {
  verb: 'apply' | 'revert';
  /** Host path of the node's root. */
  root: string;
  /** -c: host path of the config file, or null. */
  config: string | null;
  /** --plan: host path of a saved plan to apply instead of the node's own. */
  planFile?: string;
  dryRun: boolean;
  /** Wait for each component's health gate (false with --no-wait). */
  wait: boolean;
  timeoutMs: number;
  proc: string;
  /** --grant: paths the operator consents to grant beyond the migration record (apply only). */
  grants: readonly string[];
  /** --user-namespaces: the mode, overriding the config's userNamespaces (apply only). */
  userNamespaces?: string | undefined;
  /** --node-status: a file holding the node's `kubectl get node -o json`, for the runtime's support. */
  nodeStatus?: string | undefined;
  /** Test hook, passed to the runner: called after each journal record (src/apply/run.ts). */
  afterRecord?: () => Promise<void> | void;
}

/** What the caller gives a running command: when to stop (signals) and where its progress goes. */
export interface RunControl {
  /** Aborted: stop the apply and roll back (the first signal). */
  signal: AbortSignal;
  /** Aborted: stop waiting for restored components' health (every undo still runs). */
  gateSignal?: AbortSignal;
  events: (e: ApplyEvent) => void;
}

/** What the command asks of its caller: notes for the operator, the question, and how to run. */
export interface CommandHooks<Ready, Result> {
  note(message: string): void;
  /** Once nothing is refused: the operator's yes (true) or no. */
  confirm(ready: Ready): Promise<boolean>;
  /** Runs the change under the caller's signal handling and progress display. */
  run(ready: Ready, change: (control: RunControl) => Promise<Result>): Promise<Result>;
}

/** What apply/revert is about to run: the plan, and the unfinished run it continues (null: a new run). */
export interface ApplyReady {
  plan: Plan;
  continues: BackupInfo | null;
}

export type ApplyOutcome =
  /** The node's own plan has blocking problems: nothing changed. */
  | { outcome: 'blocked'; plan: Plan }
  | { outcome: 'nothing-to-do' }
  | { outcome: 'dry-run'; plan: Plan }
  /** The operator said no: nothing changed. */
  | { outcome: 'declined' }
  | { outcome: 'applied'; result: ApplyResult; healthChecked: boolean };

export async function runApply(inputs: ApplyCommandInputs, hooks: CommandHooks<ApplyReady, ApplyResult>): Promise<ApplyOutcome> {
  refuseWhatCannotRun(inputs);
  const lock = inputs.dryRun ? null : await acquireLock(inputs.root, inputs.verb, hooks.note);
  try {
    const { config, record } = await loadConfig(inputs, inputs.userNamespaces);
    const node = await loadNode(inputs, config, inputs.verb === 'apply' ? { proc: inputs.proc, ...(inputs.nodeStatus === undefined ? {} : { nodeStatus: inputs.nodeStatus }) } : undefined);
    // Decisions (blocked? identities?) always come from the node's own plan, never from a plan file.
    const fresh = await nodePlan(inputs, node, config, record);
    const plan = inputs.planFile ? readSavedPlan(inputs.planFile, { verb: inputs.verb, fresh, node, config }) : fresh;
    const continued = inputs.dryRun ? null : await unfinishedRun(inputs.root);
    if (isBlocked(fresh)) return { outcome: 'blocked', plan: fresh };
    if (!hasChanges(plan) && !continued) return { outcome: 'nothing-to-do' };
    if (inputs.dryRun) return { outcome: 'dry-run', plan };
    const ready = { plan, continues: continued?.run ?? null };
    if (!(await hooks.confirm(ready))) return { outcome: 'declined' };
    const result = await hooks.run(ready, ({ signal, gateSignal, events }) =>
      applyPlan(plan, { root: inputs.root, wait: inputs.wait, timeoutMs: inputs.timeoutMs, proc: inputs.proc, signal, gateSignal, now: () => new Date(), events, record: recordInputs(plan, config, node), afterRecord: inputs.afterRecord }, continued ?? undefined),
    );
    return { outcome: 'applied', result, healthChecked: inputs.wait };
  } finally {
    await lock?.release();
  }
}

/** Refuse before the lock what would fail only half-way: not root, no usable --proc, a program missing. */
function refuseWhatCannotRun(inputs: ApplyCommandInputs): void {
  if (inputs.dryRun) return;
  requireRoot(inputs.verb);
  if (inputs.wait) requireProc(inputs.proc);
  requirePrograms();
}

/** The node's own plan. revert removes only the accounts the tool's own journals say it created. */
async function nodePlan(inputs: ApplyCommandInputs, node: NodeState, config: Config, record: MigrationRecord | null): Promise<Plan> {
  if (inputs.verb === 'apply') return buildPlan(node, config, { now: new Date(), record, consentedGrants: [...(config.grants ?? []), ...inputs.grants] });
  const created = await createdAccounts(await listBackups(inputs.root));
  return buildRevertPlan(node, config, { now: new Date(), created, record });
}

/** A plan saved with "plan -o json", if the node's own plan accepts it (src/plan/saved-plan.ts). */
function readSavedPlan(file: string, ctx: Parameters<typeof acceptSavedPlan>[1]): Plan {
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`cannot read a plan from it: ${(e as Error).message}`, file);
  }
  const accepted = acceptSavedPlan(saved, ctx);
  if (accepted.accepted) return accepted.plan;
  if (accepted.refusal === 'changed') throw new RefusedError(`${file}: ${accepted.message}`);
  throw new InputError(accepted.message, file);
}

/**
 * The latest run, when it was killed mid-apply: this run continues it, from its journal checked exactly
 * as rollback checks it. Refused when a rollback of it is still to be completed.
 */
async function unfinishedRun(root: string): Promise<{ id: string; run: BackupInfo; journal: Journal } | null> {
  const start = chooseApplyStart(await listBackups(root));
  if (start.kind === 'new') return null;
  const { run } = start;
  if (start.kind === 'rollback-pending') {
    throw new RefusedError(`a rollback of run ${run.id} did not ${run.status === 'rollback-failed' ? 'succeed' : 'finish'}; complete it first with: ${rollbackCommandLine(root)}`);
  }
  const journal = await Journal.open(run.dir);
  assertJournalTrusted(journal.entries, join(run.dir, JOURNAL_FILE));
  return { id: run.id, run, journal };
}
