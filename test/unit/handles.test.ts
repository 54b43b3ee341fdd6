// src/fs/handles.ts and the owner/mode undos against real temp trees: nothing is ever followed through a
// link a non-root user could have made, nothing leaves the root, changes are in place. The oracle is
// lstat of the entries and of the decoys each test builds by hand, never the code under test.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { chmod, chown, lchown, mkdir, mkdtemp, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { manualStep, performUndo, type UndoContext } from '../../src/apply/undo.js';
import { mkdirsUnder, rmdirUnder, setOwnerModeUnder, stateUnder, UnsafePathError } from '../../src/fs/handles.js';
import type { Undo } from '../../src/state/journal.js';
import { skipOrFail } from '../support/prerequisites.js';

const NEEDS_ROOT = skipOrFail(process.getuid?.() !== 0 && 'needs root to chown');
const COMPONENT = 4242; // a component's uid: owns what the tool handed over

const om = (p: string) => {
  const st = lstatSync(p);
  return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
};

describe('descriptor walk under --root', { skip: NEEDS_ROOT }, () => {
  let root = '';
  let decoy = '';
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'knr-handles-'));
    decoy = await mkdtemp(path.join(os.tmpdir(), 'knr-decoy-'));
    await chmod(decoy, 0o755);
    await writeFile(path.join(decoy, 'secret'), 's', { mode: 0o600 });
    await mkdir(path.join(root, 'etc/kubernetes/pki'), { recursive: true });
    await writeFile(path.join(root, 'etc/kubernetes/pki/a.key'), 'k', { mode: 0o600 });
    // A component-writable dir (an audit log dir handed to kube-apiserver).
    await mkdir(path.join(root, 'var/log/audit'), { recursive: true });
    await writeFile(path.join(root, 'var/log/audit/audit.log'), 'x', { mode: 0o600 });
    await chown(path.join(root, 'var/log/audit'), COMPONENT, COMPONENT);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(decoy, { recursive: true, force: true });
  });

  it('changes owner and mode in place: the same inode, nothing copied', async () => {
    const p = path.join(root, 'etc/kubernetes/pki/a.key');
    const ino = (await stat(p)).ino;
    assert.deepEqual(setOwnerModeUnder(root, '/etc/kubernetes/pki/a.key', { uid: 7, gid: 8, mode: 0o640 }), { uid: 0, gid: 0, mode: 0o600, type: 'file' });
    assert.equal(om(p), '7:8 640');
    assert.equal((await stat(p)).ino, ino);
    setOwnerModeUnder(root, '/etc/kubernetes/pki/a.key', { uid: 0, gid: 0, mode: 0o600 });
  });

  it('gives a setuid/setgid mode after the owner change (chown clears the bits)', async () => {
    const p = path.join(root, 'etc/kubernetes/pki/a.key');
    setOwnerModeUnder(root, '/etc/kubernetes/pki/a.key', { uid: 7, gid: 7, mode: 0o2750 });
    assert.equal(om(p), '7:7 2750');
    setOwnerModeUnder(root, '/etc/kubernetes/pki/a.key', { uid: 0, gid: 0, mode: 0o600 });
  });

  it('a sparse 3 GiB file is changed without a byte read or written', async () => {
    const p = path.join(root, 'var/log/audit/big');
    execFileSync('truncate', ['-s', '3G', p]);
    setOwnerModeUnder(root, '/var/log/audit/big', { uid: COMPONENT, gid: COMPONENT, mode: 0o600 });
    const st = await stat(p);
    assert.deepEqual([st.size, st.uid], [3 * 2 ** 30, COMPONENT]);
    assert.ok(st.blocks * 512 < 1 << 20, `still sparse (${st.blocks} blocks)`);
    await rm(p);
  });

  it('refuses a directory on the way that a component swapped for a link, and changes nothing', async () => {
    // The component renames its dir away and puts a link to the decoy in its place (it owns the link).
    const dir = path.join(root, 'var/log/audit');
    await rename(dir, `${dir}.real`);
    await symlink(decoy, dir);
    await lchown(dir, COMPONENT, COMPONENT);
    try {
      const before = om(path.join(decoy, 'secret'));
      assert.throws(() => setOwnerModeUnder(root, '/var/log/audit/secret', { uid: COMPONENT, gid: COMPONENT, mode: 0o644 }), UnsafePathError);
      assert.throws(() => stateUnder(root, '/var/log/audit/secret'), /symbolic link/);
      assert.equal(om(path.join(decoy, 'secret')), before);
    } finally {
      await rm(dir);
      await rename(`${dir}.real`, dir);
    }
  });

  it('refuses a link root did not make even in a root-owned directory that others can write', async () => {
    await mkdir(path.join(root, 'shared'), { mode: 0o777 });
    await chmod(path.join(root, 'shared'), 0o777);
    await symlink(decoy, path.join(root, 'shared/d'));
    assert.throws(() => setOwnerModeUnder(root, '/shared/d/secret', { uid: 1, gid: 1, mode: 0o644 }), UnsafePathError);
    assert.equal(om(path.join(decoy, 'secret')), '0:0 600');
  });

  it('follows a link only root could have made, inside the root: an absolute target restarts at the root', async () => {
    await mkdir(path.join(root, 'srv/pki'), { recursive: true });
    await writeFile(path.join(root, 'srv/pki/b.key'), 'b', { mode: 0o600 });
    await symlink('/srv/pki', path.join(root, 'etc/kubernetes/pki2'));
    await symlink('../../../../../../srv/pki', path.join(root, 'etc/kubernetes/pki3'));
    setOwnerModeUnder(root, '/etc/kubernetes/pki2/b.key', { uid: 9, gid: 9, mode: 0o600 });
    assert.equal(om(path.join(root, 'srv/pki/b.key')), '9:9 600');
    setOwnerModeUnder(root, '/etc/kubernetes/pki3/b.key', { uid: 0, gid: 0, mode: 0o600 });
    assert.equal(om(path.join(root, 'srv/pki/b.key')), '0:0 600', '".." in a trusted link stops at the root');
  });

  it('never follows the last component, and changes only regular files and directories (a FIFO or device is not even opened)', async () => {
    await symlink(path.join(decoy, 'secret'), path.join(root, 'etc/kubernetes/link.key'));
    execFileSync('mkfifo', [path.join(root, 'etc/kubernetes/fifo')]);
    execFileSync('mknod', [path.join(root, 'etc/kubernetes/null'), 'c', '1', '3']);
    for (const name of ['link.key', 'fifo', 'null']) {
      const p = path.join(root, 'etc/kubernetes', name);
      const before = om(p);
      assert.throws(() => setOwnerModeUnder(root, `/etc/kubernetes/${name}`, { uid: 5, gid: 5, mode: 0o600 }), /only regular files and directories/);
      assert.equal(om(p), before, name);
    }
    assert.equal(om(path.join(decoy, 'secret')), '0:0 600');
    assert.equal(stateUnder(root, '/etc/kubernetes/link.key')?.type, 'other');
  });

  it('refuses ".." and reports what does not exist as null', () => {
    assert.throws(() => stateUnder(root, '/etc/../etc/kubernetes/pki/a.key'), /"\.\."/);
    assert.equal(stateUnder(root, '/etc/kubernetes/nope'), null);
    assert.equal(stateUnder(root, '/nope/deeper/x'), null);
    assert.equal(setOwnerModeUnder(root, '/etc/kubernetes/nope', { uid: 1, gid: 1, mode: 0o600 }), null);
  });

  it('create-directory: refuses a name a component planted (a link to a decoy), changes nothing', async () => {
    await symlink(decoy, path.join(root, 'var/log/audit/new'));
    await lchown(path.join(root, 'var/log/audit/new'), COMPONENT, COMPONENT);
    assert.throws(() => mkdirsUnder(root, ['/var/log/audit/new'], 0o755, { uid: COMPONENT, gid: COMPONENT, mode: 0o700 }), /exists already \(a symbolic link\)/);
    assert.equal(om(decoy), '0:0 755');
    await rm(path.join(root, 'var/log/audit/new'));
  });

  it('create-directory: parents 0755 root, the last with the wanted owner and exact mode (no umask)', async () => {
    const old = process.umask(0o077);
    try {
      mkdirsUnder(root, ['/var/log/k8s', '/var/log/k8s/audit'], 0o755, { uid: COMPONENT, gid: 3, mode: 0o750 });
    } finally {
      process.umask(old);
    }
    assert.equal(om(path.join(root, 'var/log/k8s')), '0:0 755');
    assert.equal(om(path.join(root, 'var/log/k8s/audit')), `${COMPONENT}:3 750`);
    assert.throws(() => mkdirsUnder(root, ['/var/log/k8s/audit'], 0o755, { uid: 0, gid: 0, mode: 0o700 }), /exists already \(a directory\)/);
  });

  it('rmdir: never removes a link, keeps a directory with content', async () => {
    await symlink(decoy, path.join(root, 'var/log/audit/gone'));
    assert.throws(() => rmdirUnder(root, '/var/log/audit/gone'), /no longer a directory/);
    assert.equal(lstatSync(decoy).isDirectory(), true);
    await rm(path.join(root, 'var/log/audit/gone'));
    await mkdir(path.join(root, 'var/log/full'));
    await writeFile(path.join(root, 'var/log/full/f'), 'data');
    assert.equal(rmdirUnder(root, '/var/log/full'), false);
    await rm(path.join(root, 'var/log/full/f'));
    assert.equal(rmdirUnder(root, '/var/log/full'), true);
    assert.equal(rmdirUnder(root, '/var/log/full'), true, 'already gone');
  });
});

describe('owner/mode undos through a swapped link', { skip: NEEDS_ROOT }, () => {
  it('restore-owner-mode never follows a directory a component swapped for a link (the file it points at is unchanged, a warning says why)', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'knr-handles-'));
    try {
      // The link's target is a root-only file INSIDE the root: a path resolved inside the root still reaches it.
      const target = path.join(root, 'etc/kubernetes/pki/audit.log');
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, 'root only', { mode: 0o640 });
      await chown(target, 0, 5);
      await mkdir(path.join(root, 'var/log/kas'), { recursive: true });
      await writeFile(path.join(root, 'var/log/kas/audit.log'), 'x', { mode: 0o600 });
      await chown(path.join(root, 'var/log/kas/audit.log'), COMPONENT, COMPONENT);
      await chown(path.join(root, 'var/log/kas'), COMPONENT, COMPONENT);
      // The component swaps its dir for a link to a directory holding a file of the same name.
      await rename(path.join(root, 'var/log/kas'), path.join(root, 'var/log/kas.real'));
      await symlink('/etc/kubernetes/pki', path.join(root, 'var/log/kas'));
      await lchown(path.join(root, 'var/log/kas'), COMPONENT, COMPONENT);
      const ino = lstatSync(target).ino;
      const warnings: string[] = [];
      const ctx: UndoContext = { root, backupDir: path.join(root, 'backup'), tools: {} as UndoContext['tools'], createdNames: [], warn: (m) => warnings.push(m) };
      await performUndo({ kind: 'restore-owner-mode', path: '/var/log/kas/audit.log', uid: 0, gid: 0, mode: 0o600 }, ctx);
      assert.equal(om(target), '0:5 640');
      assert.equal(lstatSync(target).ino, ino, 'not replaced by a copy either');
      assert.match(warnings.join('\n'), /symbolic link.*left alone/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('manual steps printed after a failed rollback', () => {
  const undos: Array<Extract<Undo, { path: string }>> = [
    { kind: 'restore-owner-mode', path: '/var/log/kubernetes/audit.log', uid: 0, gid: 0, mode: 0o600 },
    { kind: 'restore-tree', path: '/var/lib/etcd', uid: 0, gid: 0, mode: 0o700, defaultOwner: [0, 0], ownersFile: 'trees/x.json', appliedOwner: [102, 109] },
    { kind: 'restore-tree', path: '/var/lib/etcd/wal', uid: 0, gid: 0, mode: 0o700, defaultOwner: [0, 0], ownersFile: null },
    { kind: 'remove-directory', path: '/var/log/kubernetes/audit', createdParents: [] },
  ];
  for (const u of undos) {
    it(`${u.kind} ${u.path}: never follows a link`, () => {
      const text = manualStep(u, '/', '/var/lib/kubeadm-nonroot/backups/x');
      const chowns = text.match(/\bchown\b[^&;()]*/g) ?? [];
      assert.ok(chowns.length > 0, text);
      for (const c of chowns) assert.match(c, /^chown -h\b/, `every chown has -h: ${text}`);
      for (const f of text.match(/\bfind\b[^&;()]*/g) ?? []) assert.match(f, /^find -P .* -execdir /, `find -P, names changed from their own directory: ${text}`);
      assert.doesNotMatch(text, /chown -R/, 'no chown -R: it follows a link given as its top without -P');
      assert.match(text, new RegExp(`test ! -L ${u.path.replace(/\//g, '\\/')}`), `the path itself is checked not to be a link before chmod: ${text}`);
      assert.match(text, /no directory on the way is a symbolic link/);
    });
  }
});
