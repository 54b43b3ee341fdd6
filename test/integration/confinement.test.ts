// Issue 10, class 6: nothing outside --root is ever written — not by the tool's own state (state dir,
// backups with copies of /etc/shadow, lock), not by shadow-utils (--prefix follows a symlinked ROOT/etc
// on the host), and not by rollback acting on paths read from a journal. The escaping links point at
// decoy directories in /tmp, never at the host's /etc; the host's own account files are hashed before
// and after anyway.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { addSystemDirs, isToolState, NEEDS_ROOT, runCli, show } from '../support/cli.js';
import { buildSandbox } from '../support/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const HOST_ACCOUNT_FILES = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'];

async function hostAccountHashes(): Promise<string[]> {
  return Promise.all(HOST_ACCOUNT_FILES.map(async (f) => `${f} ${createHash('sha256').update(await readFile(f).catch(() => Buffer.from('absent'))).digest('hex')}`));
}

describe('nothing outside --root is written', { skip: NEEDS_ROOT }, () => {
  it('refuses (exit 2, nothing changed) when ROOT/etc is a link leading out of the root: shadow-utils would write there', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    const decoy = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-decoy-etc-'));
    const hostBefore = await hostAccountHashes();
    try {
      await addSystemDirs(sb.root);
      // ROOT/etc -> <decoy> (absolute). Inside the root (chroot rule) that is ROOT<decoy>, a full copy
      // of the node's /etc, so discovery and planning see a complete node; on the host it is <decoy>,
      // a second copy: the one shadow-utils --prefix ROOT would have written.
      await mkdir(dirname(sb.path(decoy)), { recursive: true });
      await rename(sb.path('/etc'), sb.path(decoy));
      await cp(sb.path(decoy), decoy, { recursive: true, preserveTimestamps: true });
      await symlink(decoy, sb.path('/etc'));
      const decoyBefore = await snapshotTree(decoy);
      const before = await snapshotTree(sb.root);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /\/etc under the root is, or passes through, a symbolic link that leads outside the root/);
      assert.deepEqual(diffSnapshots(decoyBefore, await snapshotTree(decoy), { ignoreCtime: false }), [], 'the decoy /etc outside the root is untouched');
      assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.root)), [], 'the root is byte-identical');
      assert.deepEqual(await hostAccountHashes(), hostBefore);
    } finally {
      await rm(decoy, { recursive: true, force: true });
      await sb.cleanup();
    }
  });

  it('refuses when the state dir is a link leading out of the root: backups (with shadow copies) would land there', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    const decoy = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-decoy-state-'));
    const hostBefore = await hostAccountHashes();
    try {
      await addSystemDirs(sb.root);
      await symlink(decoy, sb.path('/var/lib/kubeadm-nonroot'));
      const before = await snapshotTree(sb.root);
      for (const args of [['apply', '--root', sb.root, '--yes', '--no-wait'], ['rollback', '--root', sb.root, '--yes', '--no-wait']]) {
        const r = await runCli(args);
        assert.equal(r.code, 2, show(r));
        assert.match(r.stderr, /\/var\/lib\/kubeadm-nonroot under the root is, or passes through, a symbolic link/);
      }
      assert.deepEqual(await readdir(decoy), [], 'nothing was written through the link');
      assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.root)), []);
      assert.deepEqual(await hostAccountHashes(), hostBefore);
    } finally {
      await rm(decoy, { recursive: true, force: true });
      await sb.cleanup();
    }
  });

  it('rollback never deletes a file named by a journal from elsewhere (a temp path of another root)', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    const other = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-other-root-'));
    try {
      await addSystemDirs(sb.root);
      const before = await snapshotTree(sb.root);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      // Another root's file, at the place its own temp file would have been, and the journal pointing at it.
      const victim = join(other, 'etc/kubernetes/pki/.kubeadm-nonroot.sa.key.0123abcd.tmp');
      const plain = join(other, 'important');
      await mkdir(join(other, 'etc/kubernetes/pki'), { recursive: true });
      await writeFile(victim, 'another root');
      await writeFile(plain, 'keep me');
      const backups = sb.path('/var/lib/kubeadm-nonroot/backups');
      const [id] = await readdir(backups);
      const journal = join(backups, id!, 'journal.jsonl');
      const lines = (await readFile(journal, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { t: string; undo?: { kind: string; temp?: string } });
      const temps = lines.filter((l) => l.t === 'intent' && l.undo?.temp);
      assert.ok(temps.length >= 2, 'the apply journaled temp names');
      temps[0]!.undo!.temp = victim;
      temps[1]!.undo!.temp = plain;
      await writeFile(journal, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const rb = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(rb.code, 0, show(rb));
      assert.equal(await readFile(victim, 'utf8'), 'another root');
      assert.equal(await readFile(plain, 'utf8'), 'keep me');
      assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.root), { ignore: isToolState }), []);
    } finally {
      await rm(other, { recursive: true, force: true });
      await sb.cleanup();
    }
  });
});
