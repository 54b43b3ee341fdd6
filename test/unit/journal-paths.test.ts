// Paths the tool reads from a journal, and the directories it writes itself, are checked against the
// root before use (issue 10, class 6): a journal copied from elsewhere or altered names nothing outside
// the backup directory; the state dir or /etc reached through a link that leaves the root is refused.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isTempNameFor, tempNameFor } from '../../src/fs/atomic.js';
import { backupFile } from '../../src/state/backup-file.js';
import { confinedHostPath } from '../../src/paths.js';

describe('paths read from a journal', () => {
  it('a backup file must be a plain relative path inside the backup directory', () => {
    assert.equal(backupFile({ backupDir: '/b' }, 'manifests/etcd.yaml'), '/b/manifests/etcd.yaml');
    for (const bad of ['../../etc/shadow', '/etc/shadow', 'manifests/../../x', 'a//b', './x', '']) {
      assert.throws(() => backupFile({ backupDir: '/b' }, bad), /not inside the backup directory/, bad);
    }
  });

  it('a temp name counts only when it is one this tool makes for that very file', () => {
    const target = '/r/etc/kubernetes/pki/sa.key';
    const made = tempNameFor(target).split('/').pop()!;
    assert.ok(isTempNameFor(target, made));
    for (const bad of ['sa.key', '.kubeadm-nonroot.sa.key.tmp', '.kubeadm-nonroot.sa.pub.0123abcd.tmp', '.kubeadm-nonroot.sa.key.0123abcd.tmp/../x', 'important']) {
      assert.equal(isTempNameFor(target, bad), false, bad);
    }
  });
});

describe('directories the tool writes under --root', () => {
  it('are refused when a link there leads out of the root, and allowed when it stays inside', async () => {
    const root = await mkdtemp(join(tmpdir(), 'confined-'));
    const outside = await mkdtemp(join(tmpdir(), 'confined-decoy-'));
    try {
      await mkdir(join(root, 'var/lib'), { recursive: true });
      await mkdir(join(root, 'srv/state'), { recursive: true });
      await symlink(outside, join(root, 'var/lib/kubeadm-nonroot'));
      assert.throws(() => confinedHostPath(root, '/var/lib/kubeadm-nonroot/backups'), /leads outside the root/);
      await rm(join(root, 'var/lib/kubeadm-nonroot'));
      await symlink('../../srv/state', join(root, 'var/lib/kubeadm-nonroot'));
      assert.equal(confinedHostPath(root, '/var/lib/kubeadm-nonroot/backups'), join(root, 'srv/state/backups'));
      await symlink('../../../..', join(root, 'etc'));
      assert.throws(() => confinedHostPath(root, '/etc'), /leads outside the root/, '".." past the root');
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });
});
