// Issue 10, classes 4 and 7: everything inside a tree handed to a component is the component's to
// arrange — links (absolute and ../), hard links, device nodes, entries swapped while the tool walks.
// apply and rollback must act on the entries themselves, never through a link, never on a device node
// or a hard-linked file, and never change anything outside the tree. The attacks are performed as the
// component's own user (setpriv --reuid/--regid), as a compromised etcd would; the oracle is the kernel
// (lstat of the decoys before and after), never the tool.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmod, chown, link, lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { addSystemDirs, runCli, show } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';
import { SETPRIV } from '../support/setpriv.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const DATA = '/var/lib/etcd';

/** A directory OUTSIDE the root (never the host's /etc) holding root-owned private files: what an attacker aims links at. */
async function makeDecoy(): Promise<string> {
  const decoy = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-decoy-'));
  await chmod(decoy, 0o755);
  for (let i = 0; i < 50; i++) {
    await writeFile(join(decoy, `f${i}`), 'secret');
    await chmod(join(decoy, `f${i}`), 0o600);
  }
  await writeFile(join(decoy, 'shadow'), 'root:*:1::::::\n');
  await chmod(join(decoy, 'shadow'), 0o640);
  await chown(join(decoy, 'shadow'), 0, 42);
  return decoy;
}

/** Run a shell script as the component's user, with no capabilities (what a non-root etcd can do). */
function asComponent(uid: number, gid: number, script: string): string {
  return execFileSync(SETPRIV, ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--inh-caps', '-all', '--bounding-set', '-all', '--', '/bin/sh', '-c', script], { encoding: 'utf8' });
}

async function etcdOwner(sb: Sandbox): Promise<[number, number]> {
  const st = await lstat(sb.path(DATA));
  return [st.uid, st.gid];
}

describe('links, hard links and device nodes in a component-writable tree', { skip: NEEDS_ROOT }, () => {
  it('apply never re-owns the target of a hard link or a device node, and rollback restores the tree exactly', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    const decoy = await makeDecoy();
    try {
      await addSystemDirs(sb.root);
      const d = sb.path(DATA);
      // Planted while etcd still ran as root (before the migration): the tool must not be the one
      // that hands these to the etcd user.
      await link(sb.path('/etc/kubernetes/pki/etcd/ca.key'), join(d, 'member', 'ca.key.hard'));
      await link(join(decoy, 'shadow'), join(d, 'member', 'shadow.hard'));
      execFileSync('mknod', [join(d, 'member', 'loop'), 'b', '7', '200']);
      execFileSync('mknod', [join(d, 'member', 'mem'), 'c', '1', '1']);
      await symlink(join(decoy, 'f1'), join(d, 'member', 'abs-link'));
      await symlink('../../../../etc/kubernetes/pki/ca.key', join(d, 'member', 'rel-link'));
      const before = await snapshotTree(sb.root);
      const decoyBefore = await snapshotTree(decoy);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout + r.stderr, /ca\.key\.hard: has 2 hard links; left as it is/);
      assert.match(r.stdout + r.stderr, /loop: a device node; left as it is/);
      const [uid] = await etcdOwner(sb);
      assert.notEqual(uid, 0, 'the data dir was handed to etcd');
      assert.equal((await lstat(join(d, 'member', 'snap'))).uid, uid, 'its ordinary entries too');
      for (const p of [`${DATA}/member/ca.key.hard`, `${DATA}/member/shadow.hard`, `${DATA}/member/loop`, `${DATA}/member/mem`]) {
        const st = await lstat(sb.path(p));
        assert.deepEqual([st.uid, st.gid], [before.get(p.slice(1))!.uid, before.get(p.slice(1))!.gid], `${p} keeps its owner: it is not etcd's to have`);
      }
      assert.deepEqual(diffSnapshots(decoyBefore, await snapshotTree(decoy), { ignoreCtime: false }), [], 'nothing outside the root changed, not even a ctime');
      const rb = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(rb.code, 0, show(rb));
      assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.root), { ignore: isToolState }), []);
      assert.deepEqual(diffSnapshots(decoyBefore, await snapshotTree(decoy), { ignoreCtime: false }), []);
    } finally {
      await rm(decoy, { recursive: true, force: true });
      await sb.cleanup();
    }
  });

  it('rollback never follows a link the component planted, nor a directory it swapped for one', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    const decoy = await makeDecoy();
    try {
      await addSystemDirs(sb.root);
      const d = sb.path(DATA);
      // Files of other owners in the tree: rollback restores them one by one (the exceptions).
      await mkdir(join(d, 'member', 'keep'), { mode: 0o700 });
      for (let i = 0; i < 50; i++) {
        await writeFile(join(d, 'member', 'keep', `f${i}`), 'x');
        await chown(join(d, 'member', 'keep', `f${i}`), 7, 7);
      }
      const before = await snapshotTree(sb.root);
      const decoyBefore = await snapshotTree(decoy);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      const [uid, gid] = await etcdOwner(sb);
      // The compromised etcd: links everywhere, and the directory of the exceptions replaced by a link
      // to the decoy, whose files have the same names.
      asComponent(uid, gid, [
        `cd ${d}/member`,
        `ln -s ${decoy}/f2 abs-link`,
        'ln -s ../../../../etc/kubernetes/pki/ca.key rel-link',
        `ln -s ${decoy} dir-link`,
        'mv keep keep.real',
        `ln -s ${decoy} keep`,
      ].join(' && '));
      const rb = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.deepEqual(diffSnapshots(decoyBefore, await snapshotTree(decoy), { ignoreCtime: false }), [], `nothing outside the root changed\n${show(rb)}`);
      for (const p of ['/etc/kubernetes/pki/ca.key', '/etc/kubernetes/pki/etcd/ca.key']) {
        const now = before.get(p.slice(1))!;
        const st = await lstat(sb.path(p));
        assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [now.uid, now.gid, now.mode], p);
      }
      assert.equal((await lstat(join(d, 'member', 'keep.real', 'f1'))).uid, 0, 'what the component moved is root\'s again (not its own)');
    } finally {
      await rm(decoy, { recursive: true, force: true });
      await sb.cleanup();
    }
  });

  it('entries swapped for links WHILE apply and rollback walk the tree: nothing outside it changes', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked', dataFiles: 3000 });
    const decoy = await makeDecoy();
    let racer: ReturnType<typeof spawn> | null = null;
    try {
      await addSystemDirs(sb.root);
      const d = sb.path(DATA);
      await mkdir(join(d, 'member', 'x'), { mode: 0o700 });
      for (let i = 0; i < 50; i++) {
        await writeFile(join(d, 'member', 'x', `f${i}`), 'x');
        await chown(join(d, 'member', 'x', `f${i}`), 7, 7);
      }
      const decoyBefore = await snapshotTree(decoy);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      const [uid, gid] = await etcdOwner(sb);
      // Swap member/x and member/snap for links to the decoy and back, as fast as the component can,
      // during a rollback, a second apply and a second rollback.
      const script = `cd ${d}/member || exit 1; while :; do mv x x.r 2>/dev/null && ln -s ${decoy} x; rm -f x; mv x.r x 2>/dev/null; mv snap snap.r 2>/dev/null && ln -s ${decoy} snap; rm -f snap; mv snap.r snap 2>/dev/null; done`;
      racer = spawn(SETPRIV, ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--inh-caps', '-all', '--bounding-set', '-all', '--', '/bin/sh', '-c', script], { stdio: 'ignore' });
      const results = [];
      results.push(await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']));
      results.push(await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']));
      results.push(await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']));
      racer.kill('SIGKILL');
      racer = null;
      assert.deepEqual(diffSnapshots(decoyBefore, await snapshotTree(decoy), { ignoreCtime: false }), [], results.map(show).join('\n'));
      assert.ok(results.every((x) => x.code !== 4), results.map(show).join('\n'));
    } finally {
      racer?.kill('SIGKILL');
      await rm(decoy, { recursive: true, force: true });
      await sb.cleanup();
    }
  });
});

describe('setuid/setgid bits and bytes that are not UTF-8', { skip: NEEDS_ROOT }, () => {
  it('rollback gives back the setuid/setgid bits a recursive chown cleared, and only to unchanged content', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    try {
      await addSystemDirs(sb.root);
      const d = sb.path(DATA);
      await writeFile(join(d, 'member', 'helper'), '#!/bin/sh\necho hi\n');
      await chmod(join(d, 'member', 'helper'), 0o4755);
      await writeFile(join(d, 'member', 'tool'), '#!/bin/sh\necho tool\n');
      await chmod(join(d, 'member', 'tool'), 0o2755);
      const before = await snapshotTree(sb.root);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      if (r.code === 2) assert.match(r.stderr, /setuid|setgid/, show(r)); // a plan that refuses such trees is fine too
      else {
        assert.equal(r.code, 0, show(r));
        assert.equal((await lstat(join(d, 'member', 'helper'))).mode & 0o6000, 0, 'chown cleared the bit');
        const [uid, gid] = await etcdOwner(sb);
        asComponent(uid, gid, `printf '#!/bin/sh\\nid\\n' > ${d}/member/tool`); // the component rewrites a (formerly setgid) program it now owns
        const rb = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
        assert.equal(rb.code, 0, show(rb));
        assert.equal((await lstat(join(d, 'member', 'helper'))).mode & 0o7777, 0o4755, 'the setuid bit is back on the unchanged program');
        const tool = await lstat(join(d, 'member', 'tool'));
        assert.deepEqual([tool.uid, tool.mode & 0o6000], [0, 0], 'the rewritten program is root\'s again but NOT setgid');
        assert.match(rb.stdout + rb.stderr, /tool: content changed since apply; its setuid\/setgid bits were not restored/);
        const diff = diffSnapshots(before, await snapshotTree(sb.root), { ignore: isToolState });
        assert.deepEqual(diff.filter((l) => !l.startsWith('var/lib/etcd/member/tool:')), []);
      }
    } finally {
      await sb.cleanup();
    }
  });

  it('a manifest with bytes that are not UTF-8 is byte-identical after rollback', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    try {
      await addSystemDirs(sb.root);
      const m = sb.path('/etc/kubernetes/manifests/etcd.yaml');
      const latin1 = Buffer.concat([Buffer.from('# edited by Ren\xe9 (latin-1)\n', 'latin1'), await readFile(m)]);
      await writeFile(m, latin1);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      const rb = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(rb.code, 0, show(rb));
      assert.ok((await readFile(m)).equals(latin1), 'the original bytes, not a decoded and re-encoded text');
    } finally {
      await sb.cleanup();
    }
  });
});
