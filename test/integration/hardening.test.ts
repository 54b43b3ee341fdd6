// Findings of a review of the apply engine, each kept fixed by a test: symlinks must not lead changes
// outside --root, a plan file cannot lift a blocking problem, a failed rollback blocks further applies,
// and a damaged backup is never restored.
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { addSystemDirs, runCli, show } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT, withoutLockDirTimes } from '../support/cli-root.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

describe('hardening', { skip: NEEDS_ROOT }, () => {
  it('the programs the tool runs as root come from the system PATH, never from a writable directory early on the caller\'s', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    const planted = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-planted-'));
    try {
      await addSystemDirs(sb.root);
      const marker = join(planted, 'ran');
      for (const prog of ['find', 'chown', 'useradd', 'groupadd', 'getent', 'sync']) {
        await writeFile(join(planted, prog), `#!/bin/sh\necho ${prog} >> ${marker}\nexit 0\n`, { mode: 0o755 });
      }
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait'], { env: { PATH: `${planted}:${process.env.PATH ?? ''}` } });
      assert.equal(r.code, 0, show(r));
      assert.equal(await readFile(marker, 'utf8').catch(() => ''), '', 'a program planted early on PATH ran');
      assert.notEqual((await stat(sb.path('/etc/kubernetes/pki/apiserver.key'))).gid, 0, 'apply did its work with the real programs (the key is read through kube-apiserver\'s group)');
    } finally {
      await rm(planted, { recursive: true, force: true });
      await sb.cleanup();
    }
  });

  it('an absolute symlink in the root resolves inside the root: the host path of the same name is never touched', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    // A host directory at the link's literal target, holding decoy copies of the keys.
    const decoy = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-decoy-'));
    try {
      await addSystemDirs(sb.root);
      const pki = sb.path('/etc/kubernetes/pki');
      await mkdir(sb.path(decoy), { recursive: true, mode: 0o755 });
      await rename(pki, sb.path(join(decoy, 'pki')));
      await symlink(join(decoy, 'pki'), pki); // absolute: means ROOT<decoy>/pki under --root
      await cp(sb.path(join(decoy, 'pki')), join(decoy, 'pki'), { recursive: true, preserveTimestamps: true });
      const hostBefore = await snapshotTree(decoy);
      const original = await snapshotTree(sb.root);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      assert.notEqual((await stat(sb.path(join(decoy, 'pki', 'apiserver.key')))).gid, 0, 'the key inside the root was granted to kube-apiserver (its group)');
      assert.deepEqual(diffSnapshots(hostBefore, await snapshotTree(decoy)), [], 'the host files at the same path are untouched');
      assert.equal((await runCli(['verify', '--root', sb.root])).code, 0);
      assert.equal((await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait'])).code, 0);
      assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState }), []);
    } finally {
      await rm(decoy, { recursive: true, force: true });
      await sb.cleanup();
    }
  });

  it('revert removes only the accounts the journal says the tool created: an operator\'s kubeadm-foo-readers group stays', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    try {
      await addSystemDirs(sb.root);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      // The operator's own group, named like the tool's reader groups, and a file of theirs in it.
      await writeFile(sb.path('/etc/group'), 'kubeadm-foo-readers:x:4242:\n', { flag: 'a' });
      const rv = await runCli(['revert', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(rv.code, 0, show(rv));
      const groups = await readFile(sb.path('/etc/group'), 'utf8');
      assert.match(groups, /^kubeadm-foo-readers:x:4242:$/m, 'the operator\'s group stays');
      assert.doesNotMatch(groups, /^kubeadm-(etcd|kas|kcm|ks|sa-key-readers):/m, 'the tool\'s own accounts are removed');
    } finally {
      await sb.cleanup();
    }
  });

  it('patches --output-dir never writes through a link, nor into a directory others can write: exit 2, nothing written', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    const work = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-patches-'));
    try {
      const victim = join(work, 'victim');
      await writeFile(victim, 'keep me\n');
      const out = join(work, 'out');
      await mkdir(out, { mode: 0o755 });
      await symlink(victim, join(out, 'kube-apiserver+strategic.yaml'));
      // patches names only accounts that exist: migrate the node first, as docs/upgrade.md does.
      await addSystemDirs(sb.root);
      const applied = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(applied.code, 0, show(applied));
      const planted = await runCli(['patches', '--root', sb.root, '--output-dir', out]);
      assert.equal(planted.code, 2, show(planted));
      assert.match(planted.stderr, /kube-apiserver\+strategic\.yaml: is a symbolic link/);
      assert.equal(await readFile(victim, 'utf8'), 'keep me\n');
      await symlink(out, join(work, 'link'));
      const linkedDir = await runCli(['patches', '--root', sb.root, '--output-dir', join(work, 'link')]);
      assert.equal(linkedDir.code, 2, show(linkedDir));
      assert.match(linkedDir.stderr, /link: is a symbolic link/);
      const open = join(work, 'open');
      await mkdir(open);
      await chmod(open, 0o1777);
      const shared = await runCli(['patches', '--root', sb.root, '--output-dir', open]);
      assert.equal(shared.code, 2, show(shared));
      assert.match(shared.stderr, /is writable by others than root/);
      assert.deepEqual(await readdir(open), []);
      assert.equal((await runCli(['patches', '--root', sb.root, '--output-dir', join(work, 'fresh')])).code, 0, 'a new root directory is fine');
    } finally {
      await rm(work, { recursive: true, force: true });
      await sb.cleanup();
    }
  });

  it('a plan file cannot lift a blocking problem: apply --plan with problems emptied is still refused', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    try {
      await addSystemDirs(sb.root);
      await rm(sb.path('/etc/kubernetes/pki/sa.key')); // missing-file: blocking
      const p = await runCli(['plan', '--root', sb.root, '-o', 'json']);
      assert.equal(p.code, 2, show(p));
      const plan = JSON.parse(p.stdout);
      plan.problems = [];
      const file = join(sb.root, '..', `${sb.root.split('/').pop()}-plan.json`);
      await writeFile(file, JSON.stringify(plan));
      const before = await snapshotTree(sb.root);
      const r = await runCli(['apply', '--root', sb.root, '--plan', file, '--yes', '--no-wait']);
      await rm(file);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /blocking problem.*sa\.key/);
      assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.root), { ignore: isToolState }), []);
    } finally {
      await sb.cleanup();
    }
  });

  it('a backup that does not match its recorded sha256 is not restored: the rollback is refused before any change (exit 2), naming revert', async () => {
    const sb = await buildSandbox({ fixture: 'v1.31-ubuntu-stacked-kube-vip' });
    try {
      await addSystemDirs(sb.root);
      assert.equal((await runCli(['apply', '--root', sb.root, '--yes', '--no-wait'])).code, 0);
      const backups = sb.path('/var/lib/kubeadm-nonroot/backups');
      const [id] = await readdir(backups);
      await writeFile(join(backups, id!, 'manifests', 'etcd.yaml'), ''); // a torn copy
      const before = await snapshotTree(sb.root);
      const r = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /manifests\/etcd\.yaml: does not match its recorded sha256.*kubeadm-nonroot revert/);
      assert.deepEqual(withoutLockDirTimes(diffSnapshots(before, await snapshotTree(sb.root))), [], 'nothing changed, the journal included');
      const again = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(again.code, 2, show(again));
    } finally {
      await sb.cleanup();
    }
  });
});
