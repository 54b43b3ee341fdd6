// Tests of the test support code itself: the openssl PKI must be real and kubeadm-shaped, snapshots must
// notice every kind of change, and sandboxes must hold every host file the manifests reference.
// Expected modes and paths are written out by hand from kubeadm's behaviour (pki.ts header,
// kubeadm-rootless.md §3) and test/fixtures/manifests/INDEX.md, not taken from the code under test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmod, chown, lstat, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { cachedPki, copyPki, generatePki, writeKubeconfigs } from '../../scripts/lib/pki.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';
import { buildSandbox, listFixtures } from '../../scripts/lib/sandbox.js';
import { GROUP, LOGIN_DEFS, PASSWD, withOddLines } from '../../scripts/lib/accounts.js';
import { parsePod, identifyComponent } from '../../src/model/pod.js';
import { analyzeAccess } from '../../src/model/access.js';
import { skipOrFail } from '../support/prerequisites.js';

const run = promisify(execFile);
const IS_ROOT = process.getuid?.() === 0;
const NEEDS_ROOT = skipOrFail(!IS_ROOT && 'chown needs root');

async function openssl(...args: string[]): Promise<string> {
  return (await run('openssl', args)).stdout;
}

async function mode(p: string): Promise<number> {
  return (await lstat(p)).mode & 0o7777;
}

async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

// kubeadm's certificatesDir after `kubeadm init phase certs all` with local etcd, and the modes
// certutil.WriteCert (0644) and keyutil.WriteKey (0600, also used for sa.pub) give each file.
const EXPECTED_PKI: Record<string, number> = {
  'ca.crt': 0o644,
  'ca.key': 0o600,
  'apiserver.crt': 0o644,
  'apiserver.key': 0o600,
  'apiserver-kubelet-client.crt': 0o644,
  'apiserver-kubelet-client.key': 0o600,
  'apiserver-etcd-client.crt': 0o644,
  'apiserver-etcd-client.key': 0o600,
  'front-proxy-ca.crt': 0o644,
  'front-proxy-ca.key': 0o600,
  'front-proxy-client.crt': 0o644,
  'front-proxy-client.key': 0o600,
  'sa.key': 0o600,
  'sa.pub': 0o600,
  'etcd/ca.crt': 0o644,
  'etcd/ca.key': 0o600,
  'etcd/server.crt': 0o644,
  'etcd/server.key': 0o600,
  'etcd/peer.crt': 0o644,
  'etcd/peer.key': 0o600,
  'etcd/healthcheck-client.crt': 0o644,
  'etcd/healthcheck-client.key': 0o600,
};

describe('support pki', () => {
  let pki = '';
  before(async () => {
    pki = await cachedPki();
  });

  test('pki: the API server and kubelet-client certs verify against ca.crt', async () => {
    const out = await openssl('verify', '-CAfile', path.join(pki, 'ca.crt'),
      path.join(pki, 'apiserver.crt'), path.join(pki, 'apiserver-kubelet-client.crt'));
    assert.match(out, /apiserver\.crt: OK/);
    assert.match(out, /apiserver-kubelet-client\.crt: OK/);
  });

  test('pki: etcd serving certs verify for TLS server use and client certs for TLS client use against etcd/ca.crt', async () => {
    const ca = path.join(pki, 'etcd/ca.crt');
    await openssl('verify', '-CAfile', ca, '-purpose', 'sslserver', path.join(pki, 'etcd/server.crt'), path.join(pki, 'etcd/peer.crt'));
    await openssl('verify', '-CAfile', ca, '-purpose', 'sslclient', path.join(pki, 'etcd/server.crt'), path.join(pki, 'etcd/peer.crt'),
      path.join(pki, 'etcd/healthcheck-client.crt'), path.join(pki, 'apiserver-etcd-client.crt'));
  });

  test('pki: front-proxy-client verifies against front-proxy-ca, not against the cluster CA', async () => {
    await openssl('verify', '-CAfile', path.join(pki, 'front-proxy-ca.crt'), path.join(pki, 'front-proxy-client.crt'));
    await assert.rejects(openssl('verify', '-CAfile', path.join(pki, 'ca.crt'), path.join(pki, 'front-proxy-client.crt')));
  });

  test('pki: a client-only cert is refused for TLS server use', async () => {
    await assert.rejects(
      openssl('verify', '-CAfile', path.join(pki, 'etcd/ca.crt'), '-purpose', 'sslserver', path.join(pki, 'etcd/healthcheck-client.crt')),
    );
  });

  test('pki: serving certs carry the loopback SANs etcd and kube-apiserver are reached on', async () => {
    const apiserver = await openssl('x509', '-in', path.join(pki, 'apiserver.crt'), '-noout', '-ext', 'subjectAltName');
    for (const san of ['DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default.svc.cluster.local', 'IP Address:127.0.0.1']) {
      assert.ok(apiserver.includes(san), `apiserver.crt lacks ${san}: ${apiserver}`);
    }
    for (const cert of ['etcd/server.crt', 'etcd/peer.crt']) {
      const sans = await openssl('x509', '-in', path.join(pki, cert), '-noout', '-ext', 'subjectAltName');
      for (const san of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']) {
        assert.ok(sans.includes(san), `${cert} lacks ${san}: ${sans}`);
      }
    }
  });

  test('pki: CAs are marked CA:TRUE and leaf certs CA:FALSE', async () => {
    for (const ca of ['ca.crt', 'front-proxy-ca.crt', 'etcd/ca.crt']) {
      assert.match(await openssl('x509', '-in', path.join(pki, ca), '-noout', '-ext', 'basicConstraints'), /CA:TRUE/, ca);
    }
    for (const leaf of ['apiserver.crt', 'etcd/server.crt', 'etcd/healthcheck-client.crt']) {
      assert.match(await openssl('x509', '-in', path.join(pki, leaf), '-noout', '-ext', 'basicConstraints'), /CA:FALSE/, leaf);
    }
  });

  test('pki: sa.pub is the PEM public key of sa.key', async () => {
    const derived = await openssl('ec', '-in', path.join(pki, 'sa.key'), '-pubout');
    assert.equal(await readFile(path.join(pki, 'sa.pub'), 'utf8'), derived);
    assert.match(derived, /^-----BEGIN PUBLIC KEY-----/);
  });

  test('pki: generatePki writes exactly kubeadm\'s files with kubeadm\'s modes, dirs 0755', async () => {
    const dir = path.join(await tempDir('support-pki-'), 'pki');
    try {
      await generatePki(dir);
      const files: string[] = [];
      for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
        if (e.isFile()) files.push(path.relative(dir, path.join(e.parentPath, e.name)));
      }
      assert.deepEqual(files.sort(), Object.keys(EXPECTED_PKI).sort());
      for (const [rel, want] of Object.entries(EXPECTED_PKI)) {
        assert.equal((await mode(path.join(dir, rel))).toString(8), want.toString(8), rel);
        if (IS_ROOT) assert.equal((await stat(path.join(dir, rel))).uid, 0, rel);
      }
      assert.equal(await mode(dir), 0o755);
      assert.equal(await mode(path.join(dir, 'etcd')), 0o755);
    } finally {
      await rm(path.dirname(dir), { recursive: true, force: true });
    }
  });

  test('pki: copyPki keeps every mode', async () => {
    const to = path.join(await tempDir('support-copy-'), 'certs');
    try {
      await copyPki(pki, to);
      for (const [rel, want] of Object.entries(EXPECTED_PKI)) {
        assert.equal((await mode(path.join(to, rel))).toString(8), want.toString(8), rel);
        assert.deepEqual(await readFile(path.join(to, rel)), await readFile(path.join(pki, rel)), rel);
      }
      assert.equal(await mode(path.join(to, 'etcd')), 0o755);
    } finally {
      await rm(path.dirname(to), { recursive: true, force: true });
    }
  });

  test('pki: writeKubeconfigs writes five 0600 kubeconfigs whose client certs the cluster CA signed', async () => {
    const dir = await tempDir('support-kubeconfig-');
    try {
      await writeKubeconfigs(dir, pki, 'https://127.0.0.1:8443');
      const names = (await readdir(dir)).sort();
      assert.deepEqual(names, ['admin.conf', 'controller-manager.conf', 'kubelet.conf', 'scheduler.conf', 'super-admin.conf']);
      for (const name of names) {
        assert.equal(await mode(path.join(dir, name)), 0o600, name);
        const doc = parseYaml(await readFile(path.join(dir, name), 'utf8')) as {
          kind: string;
          clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
          users: Array<{ user: { 'client-certificate-data': string; 'client-key-data': string } }>;
        };
        assert.equal(doc.kind, 'Config');
        assert.equal(doc.clusters[0].cluster.server, 'https://127.0.0.1:8443');
        const certPath = path.join(dir, `${name}.crt`);
        const keyPath = path.join(dir, `${name}.key`);
        await writeFile(certPath, Buffer.from(doc.users[0].user['client-certificate-data'], 'base64'));
        await writeFile(keyPath, Buffer.from(doc.users[0].user['client-key-data'], 'base64'));
        await openssl('verify', '-CAfile', path.join(pki, 'ca.crt'), '-purpose', 'sslclient', certPath);
        // The embedded key is the certificate's key.
        assert.equal(await openssl('x509', '-in', certPath, '-noout', '-pubkey'), await openssl('ec', '-in', keyPath, '-pubout'));
        assert.equal(
          Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(),
          await readFile(path.join(pki, 'ca.crt'), 'utf8'),
        );
      }
      const subject = await openssl('x509', '-in', path.join(dir, 'controller-manager.conf.crt'), '-noout', '-subject');
      assert.match(subject, /CN ?= ?system:kube-controller-manager/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('support tree snapshots', () => {
  let dir = '';
  before(async () => {
    dir = await tempDir('support-tree-');
    await writeFile(path.join(dir, 'a.txt'), 'alpha\n');
    await chmod(path.join(dir, 'a.txt'), 0o644);
    await writeFile(path.join(dir, 'b.key'), 'secret\n');
    await chmod(path.join(dir, 'b.key'), 0o600);
    await symlink('a.txt', path.join(dir, 'link'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('tree: two snapshots of an untouched tree do not differ, even by mtime', async () => {
    const a = await snapshotTree(dir);
    const b = await snapshotTree(dir);
    assert.deepEqual(diffSnapshots(a, b, { ignoreMtime: false }), []);
    assert.equal(a.get('link')?.type, 'symlink');
    assert.equal(a.get('link')?.target, 'a.txt');
    assert.equal(a.get('b.key')?.mode, 0o600);
    assert.equal(a.get('.')?.type, 'dir');
  });

  test('tree: a mode change is reported with old and new mode', async () => {
    const a = await snapshotTree(dir);
    await chmod(path.join(dir, 'b.key'), 0o640);
    try {
      assert.deepEqual(diffSnapshots(a, await snapshotTree(dir)), ['b.key: mode 0600 -> 0640']);
    } finally {
      await chmod(path.join(dir, 'b.key'), 0o600);
    }
  });

  test('tree: an owner change is reported', { skip: NEEDS_ROOT }, async () => {
    const a = await snapshotTree(dir);
    await chown(path.join(dir, 'b.key'), 1000, 1001);
    try {
      assert.deepEqual(diffSnapshots(a, await snapshotTree(dir)), ['b.key: owner 0:0 -> 1000:1001']);
    } finally {
      await chown(path.join(dir, 'b.key'), 0, 0);
    }
  });

  test('tree: a content change of the same size is reported', async () => {
    const a = await snapshotTree(dir);
    await writeFile(path.join(dir, 'a.txt'), 'alphA\n');
    try {
      assert.deepEqual(diffSnapshots(a, await snapshotTree(dir)), ['a.txt: content changed']);
    } finally {
      await writeFile(path.join(dir, 'a.txt'), 'alpha\n');
    }
  });

  test('tree: a new file and a removed file are reported, and `ignore` hides paths', async () => {
    const a = await snapshotTree(dir);
    await writeFile(path.join(dir, 'new.lock'), '');
    await chmod(path.join(dir, 'new.lock'), 0o644);
    await unlink(path.join(dir, 'link'));
    try {
      const diff = diffSnapshots(a, await snapshotTree(dir));
      assert.equal(diff.length, 2, diff.join('\n'));
      assert.match(diff[0], /^- link \(symlink -> a\.txt /);
      assert.match(diff[1], /^\+ new\.lock \(file 0644 /);
      assert.deepEqual(diffSnapshots(a, await snapshotTree(dir), { ignore: (rel) => rel === 'new.lock' || rel === 'link' }), []);
    } finally {
      await unlink(path.join(dir, 'new.lock'));
      await symlink('a.txt', path.join(dir, 'link'));
    }
  });

  test('tree: an mtime change shows only when mtimes are compared', async () => {
    const a = await snapshotTree(dir);
    await utimes(path.join(dir, 'a.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const b = await snapshotTree(dir);
    assert.deepEqual(diffSnapshots(a, b), []);
    assert.deepEqual(diffSnapshots(a, b, { ignoreMtime: false }), ['a.txt: mtime changed']);
  });
});

describe('support accounts', () => {
  test('accounts: base files have no comments and name the Debian system accounts the brief lists', () => {
    for (const text of [PASSWD, GROUP]) assert.ok(!text.split('\n').some((l) => l.startsWith('#')));
    const users = PASSWD.trim().split('\n').map((l) => l.split(':')[0]);
    for (const u of ['root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy',
      'www-data', 'backup', 'list', 'irc', '_apt', 'nobody', 'systemd-network', 'messagebus', 'alice']) {
      assert.ok(users.includes(u), u);
    }
    assert.ok(PASSWD.includes('alice:x:1000:1000:'));
    assert.ok(GROUP.includes('shadow:x:42:'));
  });

  test('accounts: login.defs leaves SYS_UID_MIN/MAX commented as Debian ships it', () => {
    assert.match(LOGIN_DEFS, /^#SYS_UID_MIN\s+100$/m);
    assert.match(LOGIN_DEFS, /^#SYS_UID_MAX\s+999$/m);
    assert.match(LOGIN_DEFS, /^UID_MIN\s+1000$/m);
    assert.match(LOGIN_DEFS, /^UID_MAX\s+60000$/m);
    assert.doesNotMatch(LOGIN_DEFS, /^SYS_UID_MIN/m);
  });

  test('accounts: withOddLines adds a comment, a blank line and a NIS compat entry, keeping every account', () => {
    const odd = withOddLines(PASSWD, 'passwd');
    const lines = odd.split('\n');
    assert.ok(lines.some((l) => l.startsWith('#')));
    assert.ok(lines.slice(0, -1).includes(''));
    assert.equal(lines.at(-2), '+::::::');
    for (const l of PASSWD.trim().split('\n')) assert.ok(lines.includes(l), l);
    assert.equal(withOddLines(GROUP, 'group').trim().split('\n').at(-1), '+:::');
  });
});

describe('support sandbox', () => {
  test('sandbox: listFixtures names every case directory of INDEX.md', () => {
    const cases = listFixtures();
    assert.equal(cases.length, 12);
    for (const c of ['v1.16-centos-stacked', 'v1.20-minikube-certsdir-port8443', 'v1.32-rhel-stacked']) assert.ok(cases.includes(c), c);
  });

  for (const fixture of listFixtures()) {
    test(`sandbox ${fixture}: every host path analyzeAccess reports exists with the right type; manifests 0600 in a 0700 dir`, async () => {
      const sb = await buildSandbox({ fixture });
      try {
        assert.equal(await mode(sb.root), 0o755);
        assert.equal(sb.manifestsDir, path.join(sb.root, 'etc/kubernetes/manifests'));
        assert.equal(await mode(sb.manifestsDir), 0o700);
        const names = (await readdir(sb.manifestsDir)).sort();
        assert.ok(names.length > 0);
        for (const name of names) {
          const p = path.join(sb.manifestsDir, name);
          assert.equal(await mode(p), 0o600, name);
          const text = await readFile(p, 'utf8');
          const pod = parsePod(text, p);
          const component = identifyComponent(name, pod);
          if (!component) continue;
          for (const a of analyzeAccess(pod, component).accesses) {
            const st = await lstat(sb.path(a.hostPath));
            assert.equal(st.isDirectory(), a.target === 'dir', `${a.hostPath} (${a.flag}) should be a ${a.target}`);
            if (a.secret) assert.equal(st.mode & 0o077, 0, `${a.hostPath} is secret but group/other can access it`);
            if (IS_ROOT) assert.equal(st.uid, 0, a.hostPath);
          }
        }
      } finally {
        await sb.cleanup();
      }
    });
  }

  test('sandbox: manifests are copied byte for byte from the fixture', async () => {
    const sb = await buildSandbox({ fixture: 'v1.19-kind-oidc-apiserver-only' });
    try {
      const copied = await readFile(path.join(sb.manifestsDir, 'kube-apiserver.yaml'));
      // Compiled to dist/test/unit: the fixtures stay in the source tree.
      const here = path.dirname(fileURLToPath(import.meta.url));
      const original = await readFile(path.resolve(here, '../../../test/fixtures/manifests/v1.19-kind-oidc-apiserver-only/kube-apiserver.yaml'));
      assert.deepEqual(copied, original);
      // INDEX.md: this file keeps its leading YAML comment line.
      assert.match(copied.toString(), /^#/);
    } finally {
      await sb.cleanup();
    }
  });

  // Expectations below come from INDEX.md's resolved host paths and kubeadm's modes.
  test('sandbox: minikube certificatesDir gets the PKI, /etc/kubernetes/pki is not invented', async () => {
    const sb = await buildSandbox({ fixture: 'v1.20-minikube-certsdir-port8443' });
    try {
      assert.equal(await mode(sb.path('/var/lib/minikube/certs/sa.key')), 0o600);
      assert.equal(await mode(sb.path('/var/lib/minikube/certs/apiserver.crt')), 0o644);
      assert.equal(await mode(sb.path('/var/lib/minikube/certs/etcd/server.key')), 0o600);
      assert.equal(await mode(sb.path('/var/lib/minikube/etcd')), 0o700);
      await assert.rejects(lstat(sb.path('/etc/kubernetes/pki')), { code: 'ENOENT' });
      const kubeconfig = await readFile(sb.path('/etc/kubernetes/scheduler.conf'), 'utf8');
      assert.match(kubeconfig, /server: https:\/\/127\.0\.0\.1:8443/);
    } finally {
      await sb.cleanup();
    }
  });

  test('sandbox: a restored etcd data dir lives at its hostPath, not at --data-dir', async () => {
    const sb = await buildSandbox({ fixture: 'v1.22-ubuntu-stacked-seccomp-root' });
    try {
      assert.equal(await mode(sb.path('/var/lib/etcd-old-copy')), 0o700);
      assert.equal(await mode(sb.path('/var/lib/etcd-old-copy/member/snap/db')), 0o600);
      assert.ok((await lstat(sb.path('/var/lib/etcd-old-copy/member/wal/0000000000000000-0000000000000000.wal'))).isFile());
      await assert.rejects(lstat(sb.path('/var/lib/etcd')), { code: 'ENOENT' });
    } finally {
      await sb.cleanup();
    }
  });

  test('sandbox: audit log dir 0700 with audit.log 0600, encryption config 0600, audit policy 0644', async () => {
    const sb = await buildSandbox({ fixture: 'v1.29-audit-encryption' });
    try {
      assert.equal(await mode(sb.path('/var/log/kubernetes/audit')), 0o700);
      assert.equal(await mode(sb.path('/var/log/kubernetes/audit/audit.log')), 0o600);
      assert.equal(await mode(sb.path('/etc/kubernetes/enc/encryption-config.yaml')), 0o600);
      assert.match(await readFile(sb.path('/etc/kubernetes/enc/encryption-config.yaml'), 'utf8'), /kind: EncryptionConfiguration/);
      assert.equal(await mode(sb.path('/etc/kubernetes/audit-policy.yaml')), 0o644);
      assert.equal(await mode(sb.path('/var/log/kubernetes')), 0o755);
    } finally {
      await sb.cleanup();
    }
  });

  test('sandbox: webhook kubeconfigs 0600, non-kubeadm pods get their files, kubeadm-only files are present', async () => {
    const sb = await buildSandbox({ fixture: 'v1.30-port443-webhooks-haproxy-keepalived' });
    try {
      for (const f of ['authn-webhook.kubeconfig', 'authz-webhook.kubeconfig']) {
        const p = sb.path(`/etc/kubernetes/webhooks/${f}`);
        assert.equal(await mode(p), 0o600, f);
        assert.match(await readFile(p, 'utf8'), /kind: Config/);
      }
      assert.ok((await lstat(sb.path('/etc/haproxy/haproxy.cfg'))).isFile());
      assert.ok((await lstat(sb.path('/etc/keepalived/keepalived.conf'))).isFile());
      for (const f of ['/etc/kubernetes/admin.conf', '/etc/kubernetes/super-admin.conf', '/etc/kubernetes/kubelet.conf',
        '/etc/kubernetes/pki/etcd/ca.key', '/etc/kubernetes/pki/front-proxy-ca.key']) {
        assert.equal(await mode(sb.path(f)), 0o600, f);
      }
      assert.match(await readFile(sb.path('/etc/kubernetes/admin.conf'), 'utf8'), /server: https:\/\/127\.0\.0\.1:443\n/);
    } finally {
      await sb.cleanup();
    }
  });

  test('sandbox: the OIDC CA inside /etc/ssl/certs is a public 0644 file', async () => {
    const sb = await buildSandbox({ fixture: 'v1.19-kind-oidc-apiserver-only' });
    try {
      assert.equal(await mode(sb.path('/etc/ssl/certs/dex/ca.pem')), 0o644);
      assert.match(await readFile(sb.path('/etc/ssl/certs/dex/ca.pem'), 'utf8'), /BEGIN CERTIFICATE/);
    } finally {
      await sb.cleanup();
    }
  });

  test('sandbox: RHEL trust dirs are populated, with a symlink that stays inside the root', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    try {
      const link = sb.path('/etc/pki/tls/certs/ca-bundle.crt');
      assert.ok((await lstat(link)).isSymbolicLink());
      // stat follows the link: the target exists inside the sandbox.
      assert.ok((await stat(link)).isFile());
      assert.equal(await mode(sb.path('/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem')), 0o644);
    } finally {
      await sb.cleanup();
    }
  });

  test('sandbox: accounts, login.defs and nologin are written with Debian modes', async () => {
    const sb = await buildSandbox({ manifests: {}, passwd: `${PASSWD}extra:x:1001:1001::/home/extra:/bin/sh\n` });
    try {
      assert.equal(await mode(sb.path('/etc/passwd')), 0o644);
      assert.equal(await mode(sb.path('/etc/group')), 0o644);
      assert.equal(await mode(sb.path('/etc/shadow')), 0o640);
      assert.equal(await mode(sb.path('/etc/gshadow')), 0o640);
      if (IS_ROOT) assert.equal((await stat(sb.path('/etc/shadow'))).gid, 42);
      assert.match(await readFile(sb.path('/etc/passwd'), 'utf8'), /^extra:x:1001:/m);
      assert.match(await readFile(sb.path('/etc/shadow'), 'utf8'), /^extra:\*:/m);
      assert.equal(await readFile(sb.path('/etc/login.defs'), 'utf8'), LOGIN_DEFS);
      assert.equal((await mode(sb.path('/usr/sbin/nologin'))) & 0o111, 0o111);
      // No manifests: the default certificatesDir still holds a PKI.
      assert.equal(await mode(sb.path('/etc/kubernetes/pki/ca.key')), 0o600);
    } finally {
      await sb.cleanup();
    }
  });

  test('sandbox: dataFiles adds that many files to the etcd data dir', async () => {
    const sb = await buildSandbox({ fixture: 'v1.31-rootless-control-plane', dataFiles: 600 });
    try {
      const files = (await readdir(sb.path('/var/lib/etcd'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
      assert.equal(files.length, 2 + 600);
      for (const e of files.slice(0, 20)) assert.equal(await mode(path.join(e.parentPath, e.name)), 0o600);
    } finally {
      await sb.cleanup();
    }
  });

  test('sandbox: cleanup removes a temp root but leaves a caller-given dir', async () => {
    const sb = await buildSandbox({ manifests: {} });
    await sb.cleanup();
    await assert.rejects(lstat(sb.root), { code: 'ENOENT' });
    const dir = path.join(await tempDir('support-given-'), 'node');
    const given = await buildSandbox({ manifests: {}, dir });
    await given.cleanup();
    assert.ok((await lstat(path.join(dir, 'etc/passwd'))).isFile());
    await rm(path.dirname(dir), { recursive: true, force: true });
  });
});
