// What a rollback undoes, and what "rollback --keep-accounts" keeps (pure). --keep-accounts keeps the
// accounts the run created or joined to a group — so it also keeps the account files as they are now,
// since putting back their saved copies would remove those accounts again. Kept undos are neither run
// nor journaled as undone: the journal keeps saying what was NOT undone. Everything else (files,
// manifests, directories, the record, and the accounts a revert removed, which rollback recreates) is
// undone as without the option.
import type { Undo } from '../state/journal.js';

const ACCOUNT_UNDOS: ReadonlySet<Undo['kind']> = new Set(['delete-user', 'delete-group', 'remove-members', 'restore-account-files']);

/** Whether --keep-accounts keeps this undo (does not run it). */
export function keptWithAccounts(undo: Pick<Undo, 'kind'>): boolean {
  return ACCOUNT_UNDOS.has(undo.kind);
}

/** A journal intent as far as the choice of undos goes. */
export interface UndoableIntent {
  undo: Undo | null;
  undone: boolean;
}

export interface UndoSelection<I extends UndoableIntent> {
  /** The undos to run, newest change first (the order rollback runs them in). */
  undo: I[];
  /** What --keep-accounts keeps, in the order the run made the changes. */
  kept: I[];
}

/** The intents a rollback still has to undo (not undone yet, with an undo), split by --keep-accounts. */
export function selectUndos<I extends UndoableIntent>(intents: readonly I[], keepAccounts: boolean): UndoSelection<I> {
  const pending = intents.filter((i) => !i.undone && i.undo);
  const kept = keepAccounts ? pending.filter((i) => keptWithAccounts(i.undo!)) : [];
  return { undo: pending.filter((i) => !kept.includes(i)).reverse(), kept };
}
