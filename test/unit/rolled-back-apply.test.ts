// Which journals say "this node's migration was rolled back" (verify's one-line explanation after
// `rollback --keep-accounts`): the expectations are the scenarios as an operator runs them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rolledBackApply, type BackupInfo } from '../../src/state/backups.js';
import type { RunStatus } from '../../src/state/journal.js';

let n = 0;
const run = (op: BackupInfo['op'], status: RunStatus): BackupInfo => {
  const id = `2026112800000${n++}`;
  return { id, dir: `/backups/${id}`, op, status, startedAt: null, changes: 3 };
};

describe('rolledBackApply: when the journals say the migration was rolled back', () => {
  it('an apply rolled back (by itself or by `rollback`): that apply', () => {
    const a = run('apply', 'rolled-back');
    assert.equal(rolledBackApply([a]), a);
  });

  it('a revert rolled back after a rolled-back apply: still that apply, not the revert', () => {
    const a = run('apply', 'rolled-back');
    assert.equal(rolledBackApply([a, run('revert', 'rolled-back')]), a);
  });

  it('a revert rolled back after an apply that stands: none (the node is migrated)', () => {
    assert.equal(rolledBackApply([run('apply', 'applied'), run('revert', 'rolled-back')]), null);
  });

  it('a second apply rolled back while the first stands: none', () => {
    assert.equal(rolledBackApply([run('apply', 'applied'), run('apply', 'rolled-back')]), null);
  });

  it('a revert that completed after a rolled-back apply, no runs, an apply that stands, an unfinished one: none', () => {
    assert.equal(rolledBackApply([run('apply', 'rolled-back'), run('revert', 'applied')]), null);
    assert.equal(rolledBackApply([]), null);
    assert.equal(rolledBackApply([run('apply', 'applied')]), null);
    assert.equal(rolledBackApply([run('apply', 'rolled-back'), run('apply', 'rollback-unfinished')]), null);
  });
});
