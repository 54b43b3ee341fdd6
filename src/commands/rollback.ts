// rollback as a command: refuse what cannot run → lock → choose the run to undo → check its journal
// and every manifest restore → ask → undo it from its journal. Returns how it ended; the caller
// (src/cli/rollback.ts) renders it, asks, shows progress and handles signals. Refusals throw
// InputError/RefusedError (nothing changed); a rollback that could not undo everything throws
// RollbackFailedError with the manual steps.
import { join } from 'node:path';
import { RefusedError, RollbackFailedError } from '../errors.js';
import { xattrToolsMissing } from '../fs/xattr.js';
import { requireDir, requireProc, requirePrograms, requireRoot } from '../inputs.js';
import { keptWithAccounts, selectUndos } from '../plan/keep-accounts.js';
import { listBackups, type BackupInfo } from '../state/backups.js';
import { Journal, JOURNAL_FILE } from '../state/journal.js';
import { assertJournalTrusted } from '../state/journal-check.js';
import { acquireLock } from '../state/lock.js';
import { chooseRollbackTarget } from '../state/run-selection.js';
import { shadowUtils } from '../apply/accounts.js';
import type { CommandHooks } from './apply.js';
import { preflightManifestRestores } from '../apply/manifest-restore.js';
import { rollbackJournal, type RollbackResult } from '../apply/rollback.js';

export interface RollbackCommandInputs {
  /** Host path of the node's root. */
  root: string;
  /** --backup: the run to undo; absent: the latest not rolled back. */
  backup?: string;
  keepAccounts: boolean;
  wait: boolean;
  timeoutMs: number;
  proc: string;
  /** Test hook, passed to the rollback: called after each journal record. */
  afterRecord?: () => Promise<void> | void;
}

type Intent = ReturnType<Journal['intents']>[number];

/** What rollback is about to do: the run, the undos it runs (newest first), and what --keep-accounts keeps. */
export interface RollbackReady {
  run: BackupInfo;
  undos: Intent[];
  kept: Intent[];
}

export type RollbackOutcome =
  | { outcome: 'nothing-to-do' }
  /** The operator said no: nothing changed. */
  | { outcome: 'declined' }
  | { outcome: 'rolled-back'; run: BackupInfo; result: RollbackResult; kept: Intent[]; healthChecked: boolean };

export async function runRollback(inputs: RollbackCommandInputs, hooks: CommandHooks<RollbackReady, RollbackResult>): Promise<RollbackOutcome> {
  refuseWhatCannotRun(inputs);
  const lock = await acquireLock(inputs.root, 'rollback', hooks.note);
  try {
    const run = await runToUndo(inputs);
    if (!run) return { outcome: 'nothing-to-do' };
    const missing = await xattrToolsMissing();
    if (missing) throw new RefusedError(`${missing}; nothing was changed`);
    const journal = await Journal.open(run.dir);
    assertJournalTrusted(journal.entries, join(run.dir, JOURNAL_FILE));
    if (run.status === 'unfinished') hooks.note(`Run ${run.id} did not finish (killed?); undoing what it recorded.`);
    if (run.status === 'rollback-unfinished') hooks.note(`A rollback of run ${run.id} did not finish; completing it.`);
    const { undo, kept } = selectUndos(journal.intents(), inputs.keepAccounts);
    // A manifest rollback cannot undo safely (changed by hand since) refuses before the question.
    await preflightManifestRestores(undo.map((i) => i.undo!), { root: inputs.root, backupDir: run.dir });
    const ready = { run, undos: undo, kept };
    if (!(await hooks.confirm(ready))) return { outcome: 'declined' };
    const result = await hooks.run(ready, ({ gateSignal, events }) => undoRun(journal, run, inputs, { gateSignal, events }));
    if (result.failures.length) throw new RollbackFailedError(`rollback of run ${run.id} failed`, result.failures, result.manualSteps);
    return { outcome: 'rolled-back', run, result, kept, healthChecked: inputs.wait };
  } finally {
    await lock.release();
  }
}

function refuseWhatCannotRun(inputs: RollbackCommandInputs): void {
  requireRoot('rollback');
  requireDir(inputs.root, '--root');
  if (inputs.wait) requireProc(inputs.proc);
  requirePrograms();
}

/** The run to undo (null: nothing to roll back), or a refusal saying why not and what to do. */
async function runToUndo(inputs: RollbackCommandInputs): Promise<BackupInfo | null> {
  const target = chooseRollbackTarget(await listBackups(inputs.root), inputs.backup);
  switch (target.kind) {
    case 'none':
      return null;
    case 'unknown':
      throw new RefusedError(`no backup ${target.id} under ${inputs.root}; list them with: kubeadm-nonroot backups`);
    case 'rolled-back':
      throw new RefusedError(`run ${target.run.id} was already rolled back`);
    case 'stacked':
      throw new RefusedError(`run ${target.run.id} has newer runs on top of it (${target.newer.map((b) => b.id).join(', ')}); roll those back first`);
    case 'undo':
      return target.run;
  }
}

/** Undo the run from its journal. --keep-accounts: the account undos are neither run nor journaled as undone. */
function undoRun(journal: Journal, run: BackupInfo, inputs: RollbackCommandInputs, control: { gateSignal?: AbortSignal; events: Parameters<typeof rollbackJournal>[1]['events'] }): Promise<RollbackResult> {
  return rollbackJournal(journal, {
    root: inputs.root,
    backupDir: run.dir,
    tools: shadowUtils(inputs.root),
    wait: inputs.wait,
    timeoutMs: inputs.timeoutMs,
    proc: inputs.proc,
    now: () => new Date(),
    events: control.events,
    reason: inputs.keepAccounts ? 'rollback command (--keep-accounts: account changes kept)' : 'rollback command',
    keep: inputs.keepAccounts ? keptWithAccounts : undefined,
    gateSignal: control.gateSignal,
    afterRecord: inputs.afterRecord,
  });
}
