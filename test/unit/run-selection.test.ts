// Which run rollback undoes, and whether apply continues a run, from the runs' states alone. The
// expectations are written by hand from docs/apply.md ("rollback": the latest run not yet rolled back,
// or --backup ID; refused for a run already rolled back and for one with newer, not rolled-back runs on
// top of it) and its table of backup states (unfinished: "apply (finish it)"; rollback-unfinished and
// rollback-failed: "rollback" first) — never from the code under test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunStatus } from '../../src/state/journal.js';
import { chooseApplyStart, chooseRollbackTarget } from '../../src/state/run-selection.js';

/** Runs oldest first, ids in start order as listBackups gives them: run('A', 'applied'), … */
const run = (id: string, status: RunStatus) => ({ id, status });
const A = '20261201T100000.000Z';
const B = '20261201T110000.000Z';
const C = '20261201T120000.000Z';

describe('chooseRollbackTarget', () => {
  it('no run recorded: nothing to roll back', () => {
    assert.deepEqual(chooseRollbackTarget([]), { kind: 'none' });
  });

  it('every run rolled back: nothing to roll back', () => {
    assert.deepEqual(chooseRollbackTarget([run(A, 'rolled-back'), run(B, 'rolled-back')]), { kind: 'none' });
  });

  it('without --backup: the latest run not yet rolled back, whatever its state', () => {
    for (const status of ['applied', 'unfinished', 'rollback-unfinished', 'rollback-failed'] as const) {
      assert.deepEqual(chooseRollbackTarget([run(A, 'applied'), run(B, status), run(C, 'rolled-back')]), { kind: 'undo', run: run(B, status) }, status);
    }
  });

  it('without --backup, after the latest was rolled back: the one before it', () => {
    assert.deepEqual(chooseRollbackTarget([run(A, 'applied'), run(B, 'rolled-back')]), { kind: 'undo', run: run(A, 'applied') });
  });

  it('--backup ID of a run no newer open run sits on: that run', () => {
    assert.deepEqual(chooseRollbackTarget([run(A, 'applied'), run(B, 'rolled-back')], A), { kind: 'undo', run: run(A, 'applied') });
    assert.deepEqual(chooseRollbackTarget([run(A, 'applied'), run(B, 'applied')], B), { kind: 'undo', run: run(B, 'applied') });
  });

  it('--backup ID that names no run: refused as unknown', () => {
    assert.deepEqual(chooseRollbackTarget([run(A, 'applied')], C), { kind: 'unknown', id: C });
    assert.deepEqual(chooseRollbackTarget([], C), { kind: 'unknown', id: C });
  });

  it('--backup ID of a run already rolled back: refused', () => {
    assert.deepEqual(chooseRollbackTarget([run(A, 'rolled-back'), run(B, 'applied')], A), { kind: 'rolled-back', run: run(A, 'rolled-back') });
  });

  it('--backup ID under newer runs not rolled back: refused, naming each of them (oldest first); rolled-back newer runs do not count', () => {
    assert.deepEqual(chooseRollbackTarget([run(A, 'applied'), run(B, 'unfinished'), run(C, 'applied')], A), { kind: 'stacked', run: run(A, 'applied'), newer: [run(B, 'unfinished'), run(C, 'applied')] });
    assert.deepEqual(chooseRollbackTarget([run(A, 'applied'), run(B, 'rolled-back'), run(C, 'applied')], A), { kind: 'stacked', run: run(A, 'applied'), newer: [run(C, 'applied')] });
  });
});

describe('chooseApplyStart', () => {
  it('no run, or the latest applied or rolled back: a new run', () => {
    assert.deepEqual(chooseApplyStart([]), { kind: 'new' });
    assert.deepEqual(chooseApplyStart([run(A, 'applied')]), { kind: 'new' });
    assert.deepEqual(chooseApplyStart([run(A, 'unfinished'), run(B, 'rolled-back')]), { kind: 'new' });
  });

  it('the latest unfinished (killed): continued', () => {
    assert.deepEqual(chooseApplyStart([run(A, 'applied'), run(B, 'unfinished')]), { kind: 'continue', run: run(B, 'unfinished') });
  });

  it('a rollback of the latest interrupted or failed: it must be completed first', () => {
    assert.deepEqual(chooseApplyStart([run(A, 'rollback-unfinished')]), { kind: 'rollback-pending', run: run(A, 'rollback-unfinished') });
    assert.deepEqual(chooseApplyStart([run(A, 'applied'), run(B, 'rollback-failed')]), { kind: 'rollback-pending', run: run(B, 'rollback-failed') });
  });
});
