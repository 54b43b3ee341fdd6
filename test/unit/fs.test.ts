// src/paths.ts and src/discover/fs.ts against real temp trees. Expected values follow from the trees
// each test builds by hand.
import assert from 'node:assert/strict';
import { chmod, chown, lchown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { parentsOf, statNode, treeSummary } from '../../src/discover/fs.js';
import { hostPath, nodePathOf, normalizeNodePath, resolveUnderRoot } from '../../src/paths.js';
import { skipOrFail } from '../support/prerequisites.js';

const isRoot = process.getuid?.() === 0;
const NEEDS_ROOT = skipOrFail(!isRoot && 'needs root to chown');

async function tempRoot(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'knr-fs-'));
}

async function put(root: string, nodePath: string, text = ''): Promise<string> {
  const p = path.join(root, nodePath);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, text);
  return p;
}

describe('hostPath / nodePathOf / normalizeNodePath', () => {
  const root = '/srv/node';

  it('joins a node path under the root', () => {
    assert.equal(hostPath(root, '/etc/kubernetes/pki/sa.key'), '/srv/node/etc/kubernetes/pki/sa.key');
  });

  it('maps the node root "/" to the root itself', () => {
    assert.equal(hostPath(root, '/'), '/srv/node');
  });

  it('normalises "..", "." and double slashes that stay inside the node', () => {
    assert.equal(hostPath(root, '/etc/./kubernetes//pki/../manifests/'), '/srv/node/etc/kubernetes/manifests');
  });

  it('rejects a ".." that escapes the root', () => {
    assert.throws(() => hostPath(root, '/../etc/shadow'), InputError);
    assert.throws(() => hostPath(root, '/etc/../../etc/shadow'), /climbs above "\/"/);
  });

  it('rejects a relative node path', () => {
    assert.throws(() => normalizeNodePath('etc/passwd'), (e: unknown) => e instanceof InputError && /not absolute/.test(e.message));
  });

  it('nodePathOf inverts hostPath', () => {
    assert.equal(nodePathOf(root, '/srv/node/var/lib/etcd'), '/var/lib/etcd');
    assert.equal(nodePathOf(root, '/srv/node'), '/');
  });

  it('nodePathOf rejects paths outside the root, including a sibling with the same prefix', () => {
    assert.throws(() => nodePathOf(root, '/srv/other/x'), InputError);
    assert.throws(() => nodePathOf(root, '/srv/node-2/x'), InputError);
  });
});

describe('resolveUnderRoot', () => {
  let root = '';
  before(async () => {
    root = await tempRoot();
    await put(root, '/data/pki/ca.crt', 'ca');
    await mkdir(path.join(root, 'etc/kubernetes'), { recursive: true });
    // An absolute target must be read relative to the root, not the host.
    await symlink('/data/pki', path.join(root, 'etc/kubernetes/pki'));
    await symlink('/etc', path.join(root, 'hostetc'));
    // A relative target with more ".." than there are levels stops at the root, as in a chroot.
    await mkdir(path.join(root, 'a/b'), { recursive: true });
    await symlink('../../../../../data', path.join(root, 'a/b/up'));
    await symlink('/loop2', path.join(root, 'loop1'));
    await symlink('/loop1', path.join(root, 'loop2'));
    await symlink('self', path.join(root, 'self'));
    await symlink('pki', path.join(root, 'etc/kubernetes/pki-alias'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('resolves an absolute symlink target inside the root', async () => {
    assert.equal(await resolveUnderRoot(root, '/etc/kubernetes/pki/ca.crt'), '/data/pki/ca.crt');
  });

  it('never leaves the root through an absolute link to /etc', async () => {
    assert.equal(await resolveUnderRoot(root, '/hostetc/passwd'), '/etc/passwd');
  });

  it('clamps ".." in a relative link target at the root', async () => {
    assert.equal(await resolveUnderRoot(root, '/a/b/up/pki/ca.crt'), '/data/pki/ca.crt');
  });

  it('follows a chain of relative and absolute links', async () => {
    assert.equal(await resolveUnderRoot(root, '/etc/kubernetes/pki-alias/ca.crt'), '/data/pki/ca.crt');
  });

  it('keeps components that do not exist as written', async () => {
    assert.equal(await resolveUnderRoot(root, '/etc/kubernetes/pki/etcd/new.key'), '/data/pki/etcd/new.key');
    assert.equal(await resolveUnderRoot(root, '/nope/x/../y'), '/nope/y');
  });

  it('leaves a path without links unchanged', async () => {
    assert.equal(await resolveUnderRoot(root, '/data/pki/ca.crt'), '/data/pki/ca.crt');
    assert.equal(await resolveUnderRoot(root, '/'), '/');
  });

  it('detects a loop between two links', async () => {
    assert.throws(() => resolveUnderRoot(root, '/loop1/x'), (e: unknown) => e instanceof InputError && /too many levels of symbolic links/.test(e.message));
  });

  it('detects a link pointing at itself', async () => {
    assert.throws(() => resolveUnderRoot(root, '/self'), InputError);
  });
});

describe('parentsOf', () => {
  it('lists every directory above a path, root first', () => {
    assert.deepEqual(parentsOf('/a/b/c'), ['/', '/a', '/a/b']);
  });
  it('gives "/" for a top-level path and nothing for "/"', () => {
    assert.deepEqual(parentsOf('/etc'), ['/']);
    assert.deepEqual(parentsOf('/'), []);
  });
});

describe('statNode', () => {
  let root = '';
  let server: net.Server | undefined;
  before(async () => {
    root = await tempRoot();
    await chmod(await put(root, '/real/pki/sa.key', '12345'), 0o600);
    await chmod(await put(root, '/real/bin/suid', ''), 0o4755);
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await symlink('/real/pki', path.join(root, 'etc/pki'));
    await symlink('/real/pki/sa.key', path.join(root, 'etc/sa-link'));
    server = net.createServer();
    await new Promise<void>((resolve) => server!.listen(path.join(root, 'real/kms.sock'), resolve));
  });
  after(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await rm(root, { recursive: true, force: true });
  });

  it('reports a regular file with its permission bits and size', async () => {
    const st = await statNode(root, '/real/pki/sa.key');
    assert.deepEqual(st && { type: st.type, mode: st.mode, size: st.size }, { type: 'file', mode: 0o600, size: 5 });
  });

  it('keeps setuid bits in mode', async () => {
    assert.equal((await statNode(root, '/real/bin/suid'))?.mode, 0o4755);
  });

  it('resolves symlinked parent directories inside the root', async () => {
    assert.equal((await statNode(root, '/etc/pki/sa.key'))?.type, 'file');
  });

  it('does not follow a symlink in the last component', async () => {
    assert.equal((await statNode(root, '/etc/sa-link'))?.type, 'symlink');
  });

  it('reports a directory and a unix socket', async () => {
    assert.equal((await statNode(root, '/real/pki'))?.type, 'dir');
    assert.equal((await statNode(root, '/real/kms.sock'))?.type, 'socket');
  });

  it('returns null for a missing path and a path below a file', async () => {
    assert.equal(await statNode(root, '/real/missing'), null);
    assert.equal(await statNode(root, '/real/pki/sa.key/x'), null);
  });

  it('reports owners (as root: chown in the sandbox)', { skip: NEEDS_ROOT }, async () => {
    await chown(path.join(root, 'real/pki/sa.key'), 101, 102);
    const st = await statNode(root, '/etc/pki/sa.key');
    assert.deepEqual(st && [st.uid, st.gid], [101, 102]);
  });
});

describe('treeSummary', () => {
  let root = '';
  before(async () => {
    root = await tempRoot();
    await put(root, '/var/lib/etcd/member/snap/db', 'x');
    await put(root, '/var/lib/etcd/member/wal/0.wal', 'x');
    await put(root, '/var/lib/etcd/member/wal/1.wal', 'x');
    // A symlink inside the tree is counted but not followed: /big has 5 files that must not be counted.
    for (let i = 0; i < 5; i++) await put(root, `/big/f${i}`, '');
    await symlink('/big', path.join(root, 'var/lib/etcd/member/link'));
    await symlink('/var/lib/etcd', path.join(root, 'etcd-link'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('counts every entry below the directory but not the directory itself', async () => {
    // member, member/snap, member/snap/db, member/wal, member/wal/0.wal, member/wal/1.wal, member/link
    const s = await treeSummary(root, '/var/lib/etcd');
    assert.equal(s.entries, 7);
  });

  it('follows a symlinked top directory but not links below it', async () => {
    assert.equal((await treeSummary(root, '/etcd-link')).entries, 7);
  });

  it('gives zero entries for an empty directory', async () => {
    await mkdir(path.join(root, 'empty'));
    assert.deepEqual(await treeSummary(root, '/empty'), { entries: 0, owners: [] });
  });

  it('groups owners, most common first, ties by uid', { skip: NEEDS_ROOT }, async () => {
    const r = await tempRoot();
    try {
      const files = ['a', 'b', 'c', 'd', 'e'];
      for (const f of files) await put(r, `/t/${f}`, '');
      await mkdir(path.join(r, 't/sub'));
      await symlink('a', path.join(r, 't/sub/ln'));
      const owner: Record<string, [number, number]> = {
        a: [101, 102],
        b: [101, 102],
        c: [101, 102],
        d: [7, 7],
        e: [5, 9],
        sub: [0, 0],
      };
      for (const [f, [u, g]] of Object.entries(owner)) await chown(path.join(r, 't', f), u, g);
      await lchown(path.join(r, 't/sub/ln'), 101, 102);
      assert.deepEqual(await treeSummary(r, '/t'), {
        entries: 7,
        owners: [
          { uid: 101, gid: 102, count: 4 },
          { uid: 0, gid: 0, count: 1 },
          { uid: 5, gid: 9, count: 1 },
          { uid: 7, gid: 7, count: 1 },
        ],
      });
    } finally {
      await rm(r, { recursive: true, force: true });
    }
  });

  it('counts a wide and deep tree exactly', async () => {
    const r = await tempRoot();
    try {
      // 20 dirs x 100 files, plus 3 nested levels under d0: 20 + 2000 + 3 entries.
      for (let d = 0; d < 20; d++) {
        await mkdir(path.join(r, `t/d${d}`), { recursive: true });
        await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(path.join(r, `t/d${d}/f${f}`), '')));
      }
      await mkdir(path.join(r, 't/d0/x/y/z'), { recursive: true });
      assert.equal((await treeSummary(r, '/t')).entries, 2023);
    } finally {
      await rm(r, { recursive: true, force: true });
    }
  });
});
