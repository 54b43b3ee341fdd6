// The journal is input: rollback and a resuming apply act only on records the tool could have written
// (src/state/journal-check.ts). Forged names are written by hand here, from the attacks that used them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempNameFor } from '../../src/fs/atomic.js';
import { assertJournalTrusted, isOwnTempFor, journalProblems, undoProblem } from '../../src/state/journal-check.js';
import type { JournalRecord, Undo } from '../../src/state/journal.js';

const owner = { uid: 0, gid: 0, mode: 0o600 };
const intent = (undo: Undo): JournalRecord => ({ t: 'intent', step: '1:files', title: 't', undo });

describe('journal records', () => {
  it('accepts what the tool writes: its own temp name for the path, wherever the run resolved its directory', () => {
    const temp = tempNameFor('/r/etc/kubernetes/pki/sa.key');
    assert.equal(undoProblem({ kind: 'restore-owner-mode', path: '/etc/kubernetes/pki/sa.key', ...owner, temp }), null);
    assert.equal(isOwnTempFor('/etc/kubernetes/pki/sa.key', `/moved/root/etc/kubernetes/pki/${temp.split('/').pop()}`), true);
    assert.equal(undoProblem({ kind: 'restore-manifest', path: '/etc/kubernetes/manifests/etcd.yaml', backupFile: 'manifests/etcd.yaml', ...owner }), null);
    assert.equal(undoProblem({ kind: 'delete-user', name: 'kubeadm-etcd' }), null);
    assert.equal(undoProblem({ kind: 'restore-account-files', files: [{ path: '/etc/shadow-', saved: 'accounts/shadow-', ...owner }] }), null);
  });

  it('refuses temp names that are not the tool\'s own for that very file', () => {
    const path = '/etc/kubernetes/scheduler.conf';
    for (const temp of ['/elsewhere/shadow', 'admin.conf', '/r/etc/kubernetes/.kubeadm-nonroot.admin.conf.0123abcd.tmp', '/r/etc/kubernetes/.kubeadm-nonroot.scheduler.conf.tmp']) {
      assert.match(undoProblem({ kind: 'restore-owner-mode', path, ...owner, temp }) ?? '', /is not the tool's temp name/, temp);
    }
  });

  it('refuses paths, backup names and account names the tool never writes', () => {
    assert.match(undoProblem({ kind: 'restore-owner-mode', path: '/etc/../etc/shadow', ...owner }) ?? '', /not a clean absolute node path/);
    assert.match(undoProblem({ kind: 'restore-manifest', path: '/etc/kubernetes/manifests/etcd.yaml', backupFile: '../../etc/shadow', ...owner }) ?? '', /not inside the backup directory/);
    assert.match(undoProblem({ kind: 'restore-tree', path: '/var/lib/etcd', ...owner, defaultOwner: [0, 0], ownersFile: '/etc/shadow' }) ?? '', /not inside the backup directory/);
    assert.match(undoProblem({ kind: 'delete-user', name: 'root' }) ?? '', /not one the tool creates/);
    assert.match(undoProblem({ kind: 'restore-account-files', files: [{ path: '/etc/sudoers', saved: 'accounts/sudoers', ...owner }] }) ?? '', /not an account database/);
    assert.match(undoProblem({ kind: 'remove-directory', path: 'relative', createdParents: [] }) ?? '', /not a clean absolute node path/);
    assert.match(undoProblem({ kind: 'restore-record', runId: '20261207T061208.920Z', saved: '../../etc/shadow' }) ?? '', /not inside the backup directory/);
    assert.match(undoProblem({ kind: 'restore-record', runId: '../x', saved: null }) ?? '', /not a backup id/);
    const edit = { component: 'etcd' as const, path: '/etc/shadow', field: ['spec'] };
    assert.match(undoProblem({ kind: 'restore-manifest', path: '/etc/kubernetes/manifests/etcd.yaml', backupFile: 'manifests/etcd.yaml', ...owner, edits: [edit] }) ?? '', /names another file/);
  });

  it('accepts the record undo apply writes (the previous record saved in the backup dir, or none)', () => {
    assert.equal(undoProblem({ kind: 'restore-record', runId: '20261207T061208.920Z', saved: 'record.1.json' }), null);
    assert.equal(undoProblem({ kind: 'restore-record', runId: '20261207T061208.920Z', saved: null }), null);
  });

  it('names every bad step, and assertJournalTrusted refuses the journal naming its file', () => {
    const records = [intent({ kind: 'delete-group', name: 'kubeadm-etcd' }), intent({ kind: 'restore-owner-mode', path: '/etc/hostname', ...owner, temp: '/elsewhere/shadow' })];
    assert.equal(journalProblems(records).length, 1);
    assert.throws(() => assertJournalTrusted(records, '/b/journal.jsonl'), /^InputError: \/b\/journal\.jsonl: holds records this tool never writes \(step 1:files/);
    assert.doesNotThrow(() => assertJournalTrusted(records.slice(0, 1), '/b/journal.jsonl'));
  });
});
