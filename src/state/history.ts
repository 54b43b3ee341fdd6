// What the tool's runs on this node add up to, from their journals alone: every run's outcomes (an
// apply or revert committed, a rollback of it completed or failed) replayed in the order they happened,
// as one state machine. A rollback puts back the state the run it undoes started from — so after
// apply → revert → apply → `rollback --keep-accounts`, the node is back to reverted-and-then-rolled-back
// (unmigrated), whatever accounts were kept, and an older apply that still reads "applied" in its own
// journal does not make it migrated. Pure: the caller reads the journals.
import type { JournalRecord } from './journal.js';
import { statusOf } from './journal.js';

export interface RunJournal {
  /** Backup id (the run's directory name; ids sort by start time). */
  id: string;
  op: 'apply' | 'revert' | 'unknown';
  records: readonly JournalRecord[];
}

/**
 * migrated: an apply stands (run = the latest that does). reverted: a revert stands. rolled-back: the
 * latest undone apply left the node unmigrated (run = that apply). unmigrated: no run changed anything
 * that stands. unfinished: a run (or its rollback) did not finish; the node is between two states.
 */
export type NodeHistory =
  | { state: 'unmigrated' }
  | { state: 'migrated' | 'reverted' | 'rolled-back' | 'unfinished'; run: string };

interface Outcome {
  at: string;
  run: RunJournal;
  /** Position in the run's journal: orders two outcomes of one run with the same time. */
  index: number;
  kind: 'committed' | 'rolled-back' | 'rollback-failed';
}

function outcomesOf(run: RunJournal): Outcome[] {
  return run.records.flatMap((r, index): Outcome[] => {
    if (r.t === 'commit') return [{ at: r.at, run, index, kind: 'committed' }];
    if (r.t === 'rollback-done') return [{ at: r.at, run, index, kind: r.failures.length ? 'rollback-failed' : 'rolled-back' }];
    return [];
  });
}

function inOrder(a: Outcome, b: Outcome): number {
  return a.at < b.at ? -1 : a.at > b.at ? 1 : a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : a.index - b.index;
}

export function replayJournals(runs: readonly RunJournal[]): NodeHistory {
  const known = runs.filter((r) => r.op !== 'unknown');
  let state: NodeHistory = { state: 'unmigrated' };
  /** For each run: the state before its first outcome, i.e. the state it started from (what its rollback puts back). */
  const startedFrom = new Map<string, NodeHistory>();
  for (const o of known.flatMap(outcomesOf).sort(inOrder)) {
    const id = o.run.id;
    // A resumed run commits once more, a failed rollback is completed later: each still started from
    // the state before its first outcome.
    if (!startedFrom.has(id)) startedFrom.set(id, state);
    if (o.kind === 'committed') state = { state: o.run.op === 'apply' ? 'migrated' : 'reverted', run: id };
    else if (o.kind === 'rollback-failed') state = { state: 'unfinished', run: id };
    else {
      const before = startedFrom.get(id)!;
      // Undoing an apply that found the node unmigrated leaves it so: name that apply (its rollback may
      // have kept the accounts). Undoing a revert, or an apply on a migrated node, puts back the state before.
      state = o.run.op === 'apply' && before.state !== 'migrated' ? { state: 'rolled-back', run: id } : before;
    }
  }
  // A run killed before it committed or before its rollback finished has no outcome yet: the node is
  // between two states until it is resumed or rolled back (apply refuses to start on top of one).
  const open = known.filter((r) => ['unfinished', 'rollback-unfinished'].includes(statusOf(r.records))).pop();
  return open ? { state: 'unfinished', run: open.id } : state;
}
