// What a rollback undoes, and what "rollback --keep-accounts" keeps. The expectations are written by
// hand from docs/commands.md ("rollback": the accounts the run created are removed, "--keep-accounts
// keeps them: their undos are neither run nor journaled as done, and the preview lists them as kept",
// the account files put back byte-identical — which would remove the kept accounts again) and
// docs/apply.md ("rollback": undoes one run from its journal, newest change first). Every undo kind of
// the journal is listed: a new kind fails to compile here until someone decides whether it is kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keptWithAccounts, selectUndos } from '../../src/plan/keep-accounts.js';
import type { Undo } from '../../src/state/journal.js';

/** Undo kind → whether --keep-accounts keeps it, by hand from the docs. */
const KEPT: Record<Undo['kind'], boolean> = {
  'delete-user': true, // a user the run created: kept
  'delete-group': true, // a group the run created: kept
  'remove-members': true, // users the run added to a group: an account change, kept with the accounts
  'restore-account-files': true, // the saved /etc/passwd, /etc/group…: would take the kept accounts away
  'recreate-user': false, // a revert's removal undone: rollback puts the account back, option or not
  'recreate-group': false,
  'restore-owner-mode': false, // files, trees, directories, manifests and the record are always undone
  'restore-tree': false,
  'remove-directory': false,
  'restore-manifest': false,
  'restore-record': false,
};

describe('rollback --keep-accounts', () => {
  for (const [kind, kept] of Object.entries(KEPT)) {
    it(`${kind}: ${kept ? 'kept' : 'undone'}`, () => {
      assert.equal(keptWithAccounts({ kind: kind as Undo['kind'] }), kept);
    });
  }
});

describe('selectUndos', () => {
  const intent = (step: string, undo: Undo | null, undone = false) => ({ step, undo, undone });
  const journal = [
    intent('1:user', { kind: 'delete-user', name: 'kubeadm-etcd' }),
    intent('2:accounts', { kind: 'restore-account-files', files: [] }),
    intent('3:key', { kind: 'restore-owner-mode', path: '/etc/kubernetes/pki/etcd/server.key', uid: 0, gid: 0, mode: 0o600 }),
    intent('4:note', null), // a step with nothing to undo
    intent('5:dir', { kind: 'remove-directory', path: '/var/log/kubernetes', createdParents: [] }, true), // undone already
    intent('6:record', { kind: 'restore-record', runId: 'r', saved: null }),
  ];
  const steps = (xs: ReadonlyArray<{ step: string }>) => xs.map((x) => x.step);

  it('without the option: every undo not yet done, newest change first; nothing kept', () => {
    const s = selectUndos(journal, false);
    assert.deepEqual(steps(s.undo), ['6:record', '3:key', '2:accounts', '1:user']);
    assert.deepEqual(s.kept, []);
  });

  it('with --keep-accounts: the account undos kept, in the order the run made them; the rest undone newest first', () => {
    const s = selectUndos(journal, true);
    assert.deepEqual(steps(s.undo), ['6:record', '3:key']);
    assert.deepEqual(steps(s.kept), ['1:user', '2:accounts']);
  });

  it('an account undo already undone is neither undone again nor listed as kept', () => {
    const s = selectUndos([intent('1:user', { kind: 'delete-user', name: 'kubeadm-etcd' }, true)], true);
    assert.deepEqual(s, { undo: [], kept: [] });
  });
});
