// Which recorded run a command acts on, decided from the runs' states alone (pure): the run rollback
// undoes, and whether an apply starts a new run or continues an unfinished one. The commands
// (src/commands/apply.ts, src/commands/rollback.ts) turn a refusal into its message.
import type { BackupInfo } from './backups.js';

/** What a run selection needs of a recorded run: its id (the start time: ids sort by age) and its state. */
export type RunState = Pick<BackupInfo, 'id' | 'status'>;

export type RollbackTarget<R extends RunState> =
  /** No run left to undo (none recorded, or all rolled back) and none asked for. */
  | { kind: 'none' }
  /** --backup names no recorded run. */
  | { kind: 'unknown'; id: string }
  /** The run asked for was rolled back already. */
  | { kind: 'rolled-back'; run: R }
  /** The run asked for has newer runs not rolled back on top of it: those go first. */
  | { kind: 'stacked'; run: R; newer: R[] }
  | { kind: 'undo'; run: R };

/**
 * The run "rollback [--backup ID]" undoes: the one asked for, else the latest not rolled back. Runs are
 * undone newest first, so a run under newer runs that are not rolled back is refused, as is one
 * already rolled back. `runs` oldest first, as listBackups gives them.
 */
export function chooseRollbackTarget<R extends RunState>(runs: readonly R[], requested?: string): RollbackTarget<R> {
  const open = runs.filter((r) => r.status !== 'rolled-back');
  const run = requested === undefined ? open[open.length - 1] : runs.find((r) => r.id === requested);
  if (!run) return requested === undefined ? { kind: 'none' } : { kind: 'unknown', id: requested };
  if (run.status === 'rolled-back') return { kind: 'rolled-back', run };
  const newer = open.filter((r) => r.id > run.id);
  return newer.length ? { kind: 'stacked', run, newer } : { kind: 'undo', run };
}

export type ApplyStart<R extends RunState> =
  /** No unfinished run: a new run. */
  | { kind: 'new' }
  /** The latest run was killed mid-apply: continue it, keeping its record of the original state. */
  | { kind: 'continue'; run: R }
  /** A rollback of the latest run did not finish or failed: it must be completed first. */
  | { kind: 'rollback-pending'; run: R };

/** Whether an apply (or revert) starts a new run or continues the latest one. `runs` oldest first. */
export function chooseApplyStart<R extends RunState>(runs: readonly R[]): ApplyStart<R> {
  const last = runs[runs.length - 1];
  if (last?.status === 'unfinished') return { kind: 'continue', run: last };
  if (last?.status === 'rollback-unfinished' || last?.status === 'rollback-failed') return { kind: 'rollback-pending', run: last };
  return { kind: 'new' };
}
