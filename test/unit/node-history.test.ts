// replayJournals: what the runs on a node add up to, from their journals in the order things happened.
// The expectations are the scenarios as an operator runs them (the node's state written out by hand
// for each sequence), including issue's apply → revert → apply → rollback --keep-accounts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { replayJournals, type RunJournal } from '../../src/state/history.js';
import type { JournalRecord } from '../../src/state/journal.js';

/** A clock for the journals: every outcome happens one minute after the previous one. */
function clock() {
  let minute = 0;
  return () => new Date(Date.UTC(2026, 11, 1, 10, minute++)).toISOString();
}

/** A node's runs, each begun by apply()/revert() and given outcomes in the order they are called. */
function node() {
  const at = clock();
  const runs: Array<RunJournal & { records: JournalRecord[] }> = [];
  const start = (op: 'apply' | 'revert') => {
    const id = `2026120110${String(runs.length).padStart(4, '0')}`;
    const records: JournalRecord[] = [{ t: 'begin', op, at: at(), pid: 1, fingerprint: 'f', tool: 't' }, { t: 'intent', step: 's1', title: 'x', undo: null }];
    const run = { id, op, records };
    runs.push(run);
    const h = {
      id,
      commit: () => (records.push({ t: 'commit', at: at() }), h),
      rollBack: (failures: string[] = []) => (records.push({ t: 'rollback-begin', at: at(), reason: 'r' }, { t: 'rollback-done', at: at(), failures }), h),
      killed: () => (records.push({ t: 'intent', step: 's2', title: 'y', undo: null }), h),
      resumed: () => (records.push({ t: 'resume', at: at(), pid: 2 }, { t: 'intent', step: 's3', title: 'z', undo: null }), h),
      rollbackKilled: () => (records.push({ t: 'rollback-begin', at: at(), reason: 'r' }), h),
    };
    return h;
  };
  return { runs, apply: () => start('apply'), revert: () => start('revert') };
}

describe('replayJournals: the node state the runs add up to', () => {
  it('no runs: unmigrated; an apply that stands: migrated by it', () => {
    const n = node();
    assert.deepEqual(replayJournals(n.runs), { state: 'unmigrated' });
    const a = n.apply().commit();
    assert.deepEqual(replayJournals(n.runs), { state: 'migrated', run: a.id });
  });

  it('an apply rolled back by itself (before it committed) or by `rollback`: rolled back, that apply', () => {
    const n = node();
    const a = n.apply().rollBack();
    assert.deepEqual(replayJournals(n.runs), { state: 'rolled-back', run: a.id });
    const m = node();
    const b = m.apply().commit().rollBack();
    assert.deepEqual(replayJournals(m.runs), { state: 'rolled-back', run: b.id });
  });

  it("apply → revert → apply → rollback --keep-accounts: rolled back, the second apply (not migrated by the first)", () => {
    const n = node();
    n.apply().commit();
    n.revert().commit();
    const second = n.apply().commit().rollBack();
    assert.deepEqual(replayJournals(n.runs), { state: 'rolled-back', run: second.id });
  });

  it('apply → revert: reverted; then rollback of the revert: migrated by the apply again', () => {
    const n = node();
    const a = n.apply().commit();
    const r = n.revert().commit();
    assert.deepEqual(replayJournals(n.runs), { state: 'reverted', run: r.id });
    r.rollBack();
    assert.deepEqual(replayJournals(n.runs), { state: 'migrated', run: a.id });
  });

  it('apply → revert → apply → rollback → rollback of the revert: migrated by the first apply', () => {
    const n = node();
    const a = n.apply().commit();
    const r = n.revert().commit();
    n.apply().commit().rollBack();
    r.rollBack();
    assert.deepEqual(replayJournals(n.runs), { state: 'migrated', run: a.id });
  });

  it('a revert rolled back after a rolled-back apply: still that apply', () => {
    const n = node();
    const a = n.apply().rollBack();
    n.revert().rollBack();
    assert.deepEqual(replayJournals(n.runs), { state: 'rolled-back', run: a.id });
  });

  it('a second apply rolled back while the first stands, or a revert that failed and rolled back: migrated by the first', () => {
    const n = node();
    const a = n.apply().commit();
    n.apply().rollBack();
    assert.deepEqual(replayJournals(n.runs), { state: 'migrated', run: a.id });
    n.revert().rollBack();
    assert.deepEqual(replayJournals(n.runs), { state: 'migrated', run: a.id });
  });

  it('a revert that completed after a rolled-back apply: reverted', () => {
    const n = node();
    n.apply().rollBack();
    const r = n.revert().commit();
    assert.deepEqual(replayJournals(n.runs), { state: 'reverted', run: r.id });
  });

  it('a run killed, or its rollback killed or failed: unfinished, that run; completed later: as if it never failed', () => {
    const n = node();
    n.apply().rollBack();
    const b = n.apply().killed();
    assert.deepEqual(replayJournals(n.runs), { state: 'unfinished', run: b.id });
    b.rollbackKilled();
    assert.deepEqual(replayJournals(n.runs), { state: 'unfinished', run: b.id });
    b.rollBack(['undo "x": ENOSPC']);
    assert.deepEqual(replayJournals(n.runs), { state: 'unfinished', run: b.id });
    b.rollBack();
    assert.deepEqual(replayJournals(n.runs), { state: 'rolled-back', run: b.id });
  });

  it('a resumed apply that committed: migrated by it', () => {
    const n = node();
    const a = n.apply().killed().resumed().commit();
    assert.deepEqual(replayJournals(n.runs), { state: 'migrated', run: a.id });
  });

  it('the order is the outcomes’ times, not the order the journals are given in', () => {
    const n = node();
    const a = n.apply().commit();
    const r = n.revert().commit();
    const b = n.apply().commit().rollBack();
    assert.deepEqual(replayJournals([...n.runs].reverse()), { state: 'rolled-back', run: b.id });
    r.rollBack();
    assert.deepEqual(replayJournals([n.runs[2]!, n.runs[0]!, n.runs[1]!]), { state: 'migrated', run: a.id });
  });
});
