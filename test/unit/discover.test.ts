// discoverNode on a node root built by hand. Which host paths the v1.32-rhel-stacked manifests reference
// is copied from test/fixtures/manifests/INDEX.md (its flag and volume tables), not from the code.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { discoverNode } from '../../src/discover/discover.js';
import { readManifests } from '../../src/discover/manifests.js';
import { readNss } from '../../src/discover/nss.js';
import { InputError } from '../../src/errors.js';
import type { NodeState } from '../../src/model/node.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = path.join(REPO, 'test/fixtures/manifests');
const MANIFESTS = '/etc/kubernetes/manifests';

/** Host paths of the v1.32-rhel-stacked flags (INDEX.md "resolved host path" columns). */
const FLAG_FILES = [
  '/etc/kubernetes/pki/etcd/server.crt',
  '/etc/kubernetes/pki/etcd/server.key',
  '/etc/kubernetes/pki/etcd/peer.crt',
  '/etc/kubernetes/pki/etcd/peer.key',
  '/etc/kubernetes/pki/etcd/ca.crt',
  '/etc/kubernetes/pki/ca.crt',
  '/etc/kubernetes/pki/ca.key',
  '/etc/kubernetes/pki/apiserver-etcd-client.crt',
  '/etc/kubernetes/pki/apiserver-etcd-client.key',
  '/etc/kubernetes/pki/apiserver-kubelet-client.crt',
  '/etc/kubernetes/pki/apiserver-kubelet-client.key',
  '/etc/kubernetes/pki/front-proxy-client.crt',
  '/etc/kubernetes/pki/front-proxy-client.key',
  '/etc/kubernetes/pki/front-proxy-ca.crt',
  '/etc/kubernetes/pki/sa.pub',
  '/etc/kubernetes/pki/sa.key',
  '/etc/kubernetes/pki/apiserver.crt',
  '/etc/kubernetes/pki/apiserver.key',
  '/etc/kubernetes/controller-manager.conf',
  '/etc/kubernetes/scheduler.conf',
];
/** hostPath volumes of the four manifests (INDEX.md volume tables); /var/lib/etcd is also etcd's --data-dir. */
const VOLUME_DIRS = [
  '/var/lib/etcd',
  '/etc/kubernetes/pki/etcd',
  '/etc/kubernetes/pki',
  '/etc/ssl/certs',
  '/etc/pki/ca-trust',
  '/etc/pki/tls/certs',
  '/usr/libexec/kubernetes/kubelet-plugins/volume/exec',
];
/** Every directory above those. */
const PARENTS = [
  '/',
  '/etc',
  '/etc/kubernetes',
  '/etc/ssl',
  '/etc/pki',
  '/etc/pki/tls',
  '/var',
  '/var/lib',
  '/usr',
  '/usr/libexec',
  '/usr/libexec/kubernetes',
  '/usr/libexec/kubernetes/kubelet-plugins',
  '/usr/libexec/kubernetes/kubelet-plugins/volume',
];
/** Volumes this test leaves absent (the kubelet would create them: DirectoryOrCreate). */
const ABSENT = ['/etc/pki/ca-trust', '/usr/libexec/kubernetes/kubelet-plugins/volume/exec'];

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  '# local service accounts',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  '+::::::',
  'etcd:x:101:102:etcd:/var/lib/etcd:/sbin/nologin',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'daemon:x:1:', '+:::', 'etcd:x:102:', ''].join('\n');
const LOGIN_DEFS = '# kubeadm integration-test ranges\nSYS_UID_MIN 101\nSYS_UID_MAX 998\nSYS_GID_MIN 102\nSYS_GID_MAX 999\n';

async function put(root: string, nodePath: string, text = ''): Promise<void> {
  const p = path.join(root, nodePath);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, text);
}

/** A node root with the v1.32-rhel-stacked manifests, kube-vip.yaml and an editor swap file. */
async function buildRoot(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'knr-discover-'));
  await put(root, '/etc/passwd', PASSWD);
  await put(root, '/etc/group', GROUP);
  await put(root, '/etc/login.defs', LOGIN_DEFS);
  await put(root, '/usr/sbin/nologin', '');
  const dir = path.join(root, MANIFESTS);
  await mkdir(dir, { recursive: true });
  for (const f of ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']) {
    await copyFile(path.join(FIXTURES, 'v1.32-rhel-stacked', f), path.join(dir, f));
  }
  await copyFile(path.join(FIXTURES, 'v1.31-ubuntu-stacked-kube-vip/kube-vip.yaml'), path.join(dir, 'kube-vip.yaml'));
  await writeFile(path.join(dir, '.kube-apiserver.yaml.swp'), 'not yaml: [');
  await mkdir(path.join(dir, 'backup'));
  for (const f of FLAG_FILES) await put(root, f);
  for (const d of VOLUME_DIRS) if (!ABSENT.includes(d)) await mkdir(path.join(root, d), { recursive: true });
  // etcd's data dir: member, member/snap, member/snap/db, member/wal, member/wal/0.wal = 5 entries.
  await put(root, '/var/lib/etcd/member/snap/db', 'db');
  await put(root, '/var/lib/etcd/member/wal/0.wal', 'wal');
  return root;
}

describe('discoverNode on a v1.32-rhel-stacked node', () => {
  let root = '';
  let state: NodeState;
  let diff: string[] = [];
  before(async () => {
    root = await buildRoot();
    const beforeSnap = await snapshotTree(root);
    state = await discoverNode({ root, manifestsDir: MANIFESTS });
    diff = diffSnapshots(beforeSnap, await snapshotTree(root), { ignoreMtime: false, ignoreCtime: false });
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('writes nothing under the root (no entry added, changed, or even touched)', () => {
    assert.deepEqual(diff, []);
  });

  it('reads login.defs, passwd and group, skipping comment and NIS lines', () => {
    assert.deepEqual(state.loginDefs, { sysUidMin: 101, sysUidMax: 998, sysGidMin: 102, sysGidMax: 999, uidMin: 1000 });
    assert.deepEqual(
      state.passwd.map((e) => [e.name, e.uid, e.line]),
      [
        ['root', 0, 0],
        ['daemon', 1, 2],
        ['etcd', 101, 4],
      ],
    );
    assert.deepEqual(
      state.group.map((g) => [g.name, g.gid, g.line]),
      [
        ['root', 0, 0],
        ['daemon', 1, 1],
        ['etcd', 102, 3],
      ],
    );
  });

  it('does not ask NSS in a sandbox root', () => {
    assert.equal(state.nss, null);
  });

  it('lists the manifests sorted by name, without the dotfile or the subdirectory', () => {
    assert.deepEqual(
      state.manifests.map((m) => m.fileName),
      ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml', 'kube-vip.yaml'],
    );
    const etcd = state.manifests[0]!;
    assert.equal(etcd.path, '/etc/kubernetes/manifests/etcd.yaml');
    assert.equal(etcd.stat.type, 'file');
    assert.match(etcd.text, /--data-dir=\/var\/lib\/etcd/);
  });

  it('stats exactly the referenced paths and their parent directories', () => {
    const want = [...new Set([...FLAG_FILES, ...VOLUME_DIRS, ...PARENTS])].sort();
    assert.deepEqual(Object.keys(state.paths).sort(), want);
  });

  it('records files, directories and absent volumes', () => {
    assert.equal(state.paths['/etc/kubernetes/pki/sa.key']?.type, 'file');
    assert.equal(state.paths['/etc/kubernetes/pki']?.type, 'dir');
    assert.equal(state.paths['/']?.type, 'dir');
    for (const p of ABSENT) assert.equal(state.paths[p], null, p);
  });

  it("does not stat kube-vip's super-admin.conf (not a kubeadm component)", () => {
    assert.equal('/etc/kubernetes/super-admin.conf' in state.paths, false);
  });

  it("summarises etcd's data dir, the only directory written to", () => {
    assert.deepEqual(Object.keys(state.trees), ['/var/lib/etcd']);
    assert.equal(state.trees['/var/lib/etcd']?.entries, 5);
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    assert.deepEqual(state.trees['/var/lib/etcd']?.owners, [{ uid, gid, count: 5 }]);
  });

  it('keeps root and manifestsDir for messages', () => {
    assert.equal(state.root, root);
    assert.equal(state.manifestsDir, MANIFESTS);
  });
});

describe('discoverNode with symlinked directories', () => {
  let root = '';
  let state: NodeState;
  before(async () => {
    root = await buildRoot();
    // Move etcd's data to /data/etcd and link it back with an absolute target (read inside the root).
    await rm(path.join(root, 'var/lib/etcd'), { recursive: true });
    await put(root, '/data/etcd/member/snap/db', 'db');
    await symlink('/data/etcd', path.join(root, 'var/lib/etcd'));
    await rm(path.join(root, 'usr/sbin/nologin'));
    await put(root, '/sbin/nologin');
    state = await discoverNode({ root, manifestsDir: MANIFESTS });
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('reports the link itself and stats its target and the target parents too', () => {
    assert.equal(state.paths['/var/lib/etcd']?.type, 'symlink');
    assert.equal(state.paths['/data/etcd']?.type, 'dir');
    assert.equal(state.paths['/data']?.type, 'dir');
  });

  it('follows the linked data dir for its tree summary (member, member/snap, member/snap/db)', () => {
    assert.equal(state.trees['/var/lib/etcd']?.entries, 3);
  });
});

describe('discoverNode input errors', () => {
  const roots: string[] = [];
  const fresh = async (): Promise<string> => {
    const r = await buildRoot();
    roots.push(r);
    return r;
  };
  after(async () => {
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  it('rejects a malformed etcd.yaml, naming its path', async () => {
    const root = await fresh();
    await writeFile(path.join(root, MANIFESTS, 'etcd.yaml'), 'apiVersion: v1\nkind: Pod\nspec: [unclosed\n');
    await assert.rejects(
      discoverNode({ root, manifestsDir: MANIFESTS }),
      (e: unknown) => e instanceof InputError && e.message.includes('/etc/kubernetes/manifests/etcd.yaml'),
    );
  });

  it('ignores a malformed non-component manifest but keeps it in the list', async () => {
    const root = await fresh();
    await writeFile(path.join(root, MANIFESTS, 'haproxy.yaml'), ': : not yaml [');
    const state = await discoverNode({ root, manifestsDir: MANIFESTS });
    assert.ok(state.manifests.some((m) => m.fileName === 'haproxy.yaml'));
    assert.equal(state.trees['/var/lib/etcd']?.entries, 5);
  });

  it('rejects a missing /etc/passwd', async () => {
    const root = await fresh();
    await rm(path.join(root, 'etc/passwd'));
    await assert.rejects(discoverNode({ root, manifestsDir: MANIFESTS }), (e: unknown) => e instanceof InputError && /\/etc\/passwd: no such file/.test(e.message));
  });

  it('rejects a missing /etc/group', async () => {
    const root = await fresh();
    await rm(path.join(root, 'etc/group'));
    await assert.rejects(discoverNode({ root, manifestsDir: MANIFESTS }), (e: unknown) => e instanceof InputError && /\/etc\/group: no such file/.test(e.message));
  });

  it('uses login.defs defaults when the file is missing', async () => {
    const root = await fresh();
    await rm(path.join(root, 'etc/login.defs'));
    const state = await discoverNode({ root, manifestsDir: MANIFESTS });
    assert.deepEqual(state.loginDefs, { sysUidMin: 100, sysUidMax: 999, sysGidMin: 100, sysGidMax: 999, uidMin: 1000 });
  });

  it('rejects a missing manifests dir with a hint', async () => {
    const root = await fresh();
    assert.throws(
      () => readManifests(root, '/etc/kubernetes/elsewhere'),
      (e: unknown) =>
        e instanceof InputError &&
        e.message.startsWith('/etc/kubernetes/elsewhere: no such directory; is this a kubeadm control-plane node? Use --root or set manifestsDir in the config'),
    );
  });
});

describe('readNss', () => {
  it('lists the running system\'s accounts through getent (read-only), root included', async () => {
    const nss = await readNss();
    assert.equal(nss.error, undefined);
    assert.deepEqual(nss.users.find((u) => u.name === 'root'), { name: 'root', uid: 0 });
    assert.ok(nss.groups.some((g) => g.gid === 0));
  });

  it('returns empty lists and a reason instead of throwing when getent is missing', async () => {
    const nss = await readNss('/nonexistent/getent');
    assert.deepEqual([nss.users, nss.groups], [[], []]);
    assert.match(nss.error ?? '', /could not list NSS accounts with \/nonexistent\/getent/);
  });
});
