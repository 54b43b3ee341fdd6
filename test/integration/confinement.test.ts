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
import { addSystemDirs, runCli, show } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';
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

  it('rollback never deletes a file named by a journal from elsewhere: another root\'s temp path is left, a foreign name refused', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    const other = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-other-root-'));
    try {
      await addSystemDirs(sb.root);
      const before = await snapshotTree(sb.root);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      const backups = sb.path('/var/lib/kubeadm-nonroot/backups');
      const [id] = await readdir(backups);
      const journal = join(backups, id!, 'journal.jsonl');
      const original = await readFile(journal, 'utf8');
      const lines = original.trim().split('\n').map((l) => JSON.parse(l) as { t: string; undo?: { kind: string; path: string; temp?: string } });
      const temps = lines.filter((l) => l.t === 'intent' && l.undo?.temp);
      assert.ok(temps.length >= 2, 'the apply journaled temp names');
      const first = temps[0]!.undo!;
      // Another root's file at the place its own temp file of that very path would have been (a moved
      // root: a well-formed record), and a plain file named as the temp of another path (a forged one).
      const victim = join(other, dirname(first.path), `.kubeadm-nonroot.${first.path.split('/').pop()}.0123abcd.tmp`);
      const plain = join(other, 'important');
      await mkdir(dirname(victim), { recursive: true });
      await writeFile(victim, 'another root');
      await writeFile(plain, 'keep me');
      first.temp = victim;
      temps[1]!.undo!.temp = plain;
      await writeFile(journal, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const applied = await snapshotTree(sb.root);
      const refused = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(refused.code, 2, show(refused));
      assert.match(refused.stderr, /journal\.jsonl: holds records this tool never writes .*temp name "[^"]*important" is not the tool's temp name/);
      assert.deepEqual(diffSnapshots(applied, await snapshotTree(sb.root), { ignore: isToolState }), [], 'a refused rollback changes nothing');
      // Only the moved-root record left: rollback runs, and deletes nothing outside its root.
      delete temps[1]!.undo!.temp;
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

  it('a forged unfinished journal (temp names /elsewhere/shadow, admin.conf): rollback and a resuming apply both refuse and touch nothing', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    try {
      await addSystemDirs(sb.root);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      await writeFile(sb.path('/etc/shadow'), 'root:*:19000:0:99999:7:::\n', { flag: 'a' });
      await writeFile(sb.path('/etc/kubernetes/admin.conf'), 'kind: Config\n', { flag: 'a' });
      const backups = sb.path('/var/lib/kubeadm-nonroot/backups');
      const [id] = await readdir(backups);
      const journal = join(backups, id!, 'journal.jsonl');
      // The run "did not finish" (no commit), and its last two steps name other files as their temps.
      const kept = (await readFile(journal, 'utf8')).trim().split('\n').filter((l) => JSON.parse(l).t !== 'commit');
      const forged = [
        { t: 'intent', step: '98:files', title: 'forged', undo: { kind: 'restore-owner-mode', path: '/etc/hostname', uid: 0, gid: 0, mode: 0o644, temp: '/elsewhere/shadow' } },
        { t: 'intent', step: '99:files', title: 'forged', undo: { kind: 'restore-owner-mode', path: '/etc/kubernetes/scheduler.conf', uid: 0, gid: 0, mode: 0o600, temp: 'admin.conf' } },
      ];
      await writeFile(journal, [...kept, ...forged.map((f) => JSON.stringify(f))].join('\n') + '\n');
      const before = await snapshotTree(sb.root);
      for (const args of [['rollback', '--root', sb.root, '--yes', '--no-wait'], ['apply', '--root', sb.root, '--yes', '--no-wait']]) {
        const res = await runCli(args);
        assert.equal(res.code, 2, show(res));
        assert.match(res.stderr, /holds records this tool never writes .*temp name "\/elsewhere\/shadow" is not the tool's temp name for \/etc\/hostname/, args[0]);
        assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.root), { ignore: isToolState }), [], `${args[0]} touched nothing`);
      }
      assert.match(await readFile(sb.path('/etc/shadow'), 'utf8'), /root:\*/);
      assert.match(await readFile(sb.path('/etc/kubernetes/admin.conf'), 'utf8'), /kind: Config/);
    } finally {
      await sb.cleanup();
    }
  });
});
