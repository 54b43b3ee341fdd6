// analyzeAccess against INDEX.md (the independent per-flag reference for the fixture corpus) and
// hand-built manifests for the hazards the corpus does not contain.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identifyComponent, parsePod } from '../../src/model/pod.js';
import { analyzeAccess, mapToHost } from '../../src/model/access.js';
import type { FileAccess } from '../../src/model/access.types.js';
import type { Component } from '../../src/model/components.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/manifests/', import.meta.url));

function fixturePod(caseName: string, file: string) {
  return parsePod(readFileSync(`${FIXTURES}${caseName}/${file}`, 'utf8'), `/etc/kubernetes/manifests/${file}`);
}

interface IndexRow {
  flag: string;
  containerPath: string;
  access: string;
  hostPath: string;
  volume: string;
}

/**
 * The flag tables of INDEX.md: "## <case>", then "### `<file>` (image …)", then rows
 * "| `--flag` | `container path` | access | `host path` via `volume` (rw) … |".
 */
function readIndex(): Map<string, IndexRow[]> {
  const text = readFileSync(`${FIXTURES}INDEX.md`, 'utf8');
  const tables = new Map<string, IndexRow[]>();
  let caseName = '';
  let file = '';
  for (const line of text.split('\n')) {
    const h2 = /^## (v\S+)$/.exec(line);
    if (h2) caseName = h2[1];
    const h3 = /^### `([^`]+)`/.exec(line);
    if (h3) file = h3[1];
    const row = /^\| `(--[^`]+)` \| `([^`]+)` \| (read|write) \| `([^`]+)` via `([^`]+)`/.exec(line);
    if (row) {
      const key = `${caseName}/${file}`;
      const rows = tables.get(key) ?? [];
      rows.push({ flag: row[1], containerPath: row[2], access: row[3], hostPath: row[4], volume: row[5] });
      tables.set(key, rows);
    }
  }
  return tables;
}

const INDEX = readIndex();

/** Flags whose FileAccess targets the directory holding the file INDEX.md names (the spec'd rule 3). */
const LOG_FILE_FLAGS = new Set(['--audit-log-path']);

function tuple(a: { flag: string; containerPath: string; access: string; hostPath: string; volume: string }): string {
  return `${a.flag} ${a.containerPath} ${a.access} ${a.hostPath} via ${a.volume}`;
}

describe('analyzeAccess matches INDEX.md for every kubeadm manifest', () => {
  it('the INDEX.md reader found every flag row (349, counted with grep)', () => {
    const total = [...INDEX.values()].reduce((n, rows) => n + rows.length, 0);
    assert.equal(total, 349);
  });

  for (const [key, rows] of INDEX) {
    const [caseName, file] = key.split('/');
    it(`${key}: (flag, container path, access, host path, volume) set`, () => {
      const pod = fixturePod(caseName, file);
      const component = identifyComponent(file, pod);
      assert.ok(component, `${key} is a kubeadm component`);
      const { accesses, unmapped } = analyzeAccess(pod, component);
      const expected = rows.map((r) =>
        tuple(LOG_FILE_FLAGS.has(r.flag) ? { ...r, hostPath: posix.dirname(r.hostPath) } : r),
      );
      // INDEX lists one row per flag occurrence; analyzeAccess keeps one per (hostPath, access, flag).
      assert.deepEqual(accesses.map(tuple).sort(), [...new Set(expected)].sort());
      assert.deepEqual(unmapped, []);
      assert.ok(accesses.every((a) => a.component === component));
    });
  }

  it('INDEX.md has a flag table for each of the 42 kubeadm manifests (10 full nodes, 2 apiserver-only) and none for other pods', () => {
    assert.equal(INDEX.size, 42);
    const kubeadmFiles = new Set(['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']);
    for (const key of INDEX.keys()) assert.ok(kubeadmFiles.has(key.split('/')[1]), key);
  });
});

function find(accesses: FileAccess[], flag: string): FileAccess {
  const a = accesses.find((x) => x.flag === flag);
  assert.ok(a, `no access for ${flag}`);
  return a;
}

function analyzeFixture(caseName: string, file: string) {
  const pod = fixturePod(caseName, file);
  const component = identifyComponent(file, pod);
  assert.ok(component);
  return analyzeAccess(pod, component).accesses;
}

describe('secret vs public (hand-written expectations)', () => {
  it('v1.29 kube-apiserver: sa.key and the encryption config are secret; sa.pub and the audit policy are public', () => {
    const acc = analyzeFixture('v1.29-audit-encryption', 'kube-apiserver.yaml');
    assert.equal(find(acc, '--service-account-signing-key-file').secret, true);
    assert.equal(find(acc, '--service-account-key-file').secret, false);
    assert.equal(find(acc, '--encryption-provider-config').secret, true);
    assert.equal(find(acc, '--audit-policy-file').secret, false);
    assert.equal(find(acc, '--requestheader-client-ca-file').hostPath, '/etc/kubernetes/pki/front-proxy-ca.crt');
    assert.equal(find(acc, '--requestheader-client-ca-file').secret, false);
    assert.equal(find(acc, '--tls-private-key-file').secret, true);
    assert.equal(find(acc, '--tls-cert-file').secret, false);
    assert.equal(find(acc, '--etcd-keyfile').secret, true);
    assert.equal(find(acc, '--kubelet-client-key').secret, true);
    assert.equal(find(acc, '--proxy-client-key-file').secret, true);
    assert.equal(find(acc, '--audit-log-path').secret, false);
  });

  it('v1.16 kcm: ca.key, sa.key and controller-manager.conf are secret; ca.crt and front-proxy-ca.crt public', () => {
    const acc = analyzeFixture('v1.16-centos-stacked', 'kube-controller-manager.yaml');
    assert.equal(find(acc, '--cluster-signing-key-file').secret, true);
    assert.equal(find(acc, '--service-account-private-key-file').secret, true);
    assert.equal(find(acc, '--kubeconfig').secret, true);
    assert.equal(find(acc, '--authentication-kubeconfig').secret, true);
    assert.equal(find(acc, '--cluster-signing-cert-file').secret, false);
    assert.equal(find(acc, '--root-ca-file').secret, false);
    assert.equal(find(acc, '--requestheader-client-ca-file').secret, false);
  });

  it('v1.30 webhook kubeconfigs are secret', () => {
    const acc = analyzeFixture('v1.30-port443-webhooks-haproxy-keepalived', 'kube-apiserver.yaml');
    assert.equal(find(acc, '--authentication-token-webhook-config-file').secret, true);
    assert.equal(find(acc, '--authorization-webhook-config-file').secret, true);
  });

  it('etcd: server/peer keys secret, certs and CA public, data dir a non-secret write dir', () => {
    const acc = analyzeFixture('v1.16-centos-stacked', 'etcd.yaml');
    assert.equal(find(acc, '--key-file').secret, true);
    assert.equal(find(acc, '--peer-key-file').secret, true);
    assert.equal(find(acc, '--cert-file').secret, false);
    assert.equal(find(acc, '--trusted-ca-file').secret, false);
    assert.deepEqual(find(acc, '--data-dir'), {
      component: 'etcd',
      flag: '--data-dir',
      containerPath: '/var/lib/etcd',
      hostPath: '/var/lib/etcd',
      volume: 'etcd-data',
      access: 'write',
      target: 'dir',
      secret: false,
    });
  });

  it('scheduler kubeconfig is secret; every read of a file targets the file', () => {
    const acc = analyzeFixture('v1.32-rhel-stacked', 'kube-scheduler.yaml');
    assert.ok(acc.length === 3 && acc.every((a) => a.secret && a.target === 'file' && a.access === 'read'));
  });
});

describe('specific corpus cases', () => {
  it('minikube custom certificatesDir: keys and data dir under /var/lib/minikube', () => {
    const api = analyzeFixture('v1.20-minikube-certsdir-port8443', 'kube-apiserver.yaml');
    assert.equal(find(api, '--service-account-signing-key-file').hostPath, '/var/lib/minikube/certs/sa.key');
    assert.equal(find(api, '--etcd-cafile').hostPath, '/var/lib/minikube/certs/etcd/ca.crt');
    const etcd = analyzeFixture('v1.20-minikube-certsdir-port8443', 'etcd.yaml');
    const data = find(etcd, '--data-dir');
    assert.deepEqual([data.hostPath, data.access, data.target], ['/var/lib/minikube/etcd', 'write', 'dir']);
  });

  it('v1.22 restored etcd: the data dir host path differs from the container path', () => {
    const etcd = analyzeFixture('v1.22-ubuntu-stacked-seccomp-root', 'etcd.yaml');
    const data = find(etcd, '--data-dir');
    assert.deepEqual([data.containerPath, data.hostPath], ['/var/lib/etcd', '/var/lib/etcd-old-copy']);
  });

  it('v1.29 audit log: a write to the directory holding the log file', () => {
    const acc = analyzeFixture('v1.29-audit-encryption', 'kube-apiserver.yaml');
    const log = find(acc, '--audit-log-path');
    assert.deepEqual(
      [log.containerPath, log.hostPath, log.volume, log.access, log.target],
      ['/var/log/kubernetes/audit/audit.log', '/var/log/kubernetes/audit', 'audit-log', 'write', 'dir'],
    );
    // The policy is a single-file mount (type File).
    assert.equal(find(acc, '--audit-policy-file').volume, 'audit-policy');
  });

  it('audit log dir mounted elsewhere (Kubespray layout): the host directory is used', () => {
    const text = readFileSync(`${FIXTURES}v1.29-audit-encryption/kube-apiserver.yaml`, 'utf8');
    const edited = text.replace('      path: /var/log/kubernetes/audit\n', '      path: /var/log/audit-on-host\n');
    assert.notEqual(edited, text, 'the fixture still has the audit-log hostPath this test edits');
    const acc = analyzeAccess(parsePod(edited, 'x'), 'kube-apiserver').accesses;
    const log = find(acc, '--audit-log-path');
    assert.deepEqual([log.containerPath, log.hostPath, log.target], ['/var/log/kubernetes/audit/audit.log', '/var/log/audit-on-host', 'dir']);
  });

  it('kind OIDC: the CA file inside the generic ca-certs mount; booleans, URLs and --runtime-config= are no paths', () => {
    const pod = fixturePod('v1.19-kind-oidc-apiserver-only', 'kube-apiserver.yaml');
    const { accesses, unmapped } = analyzeAccess(pod, 'kube-apiserver');
    const oidc = find(accesses, '--oidc-ca-file');
    assert.deepEqual([oidc.hostPath, oidc.volume, oidc.secret], ['/etc/ssl/certs/dex/ca.pem', 'ca-certs', false]);
    assert.deepEqual(unmapped, []);
    for (const notPath of ['--oidc-issuer-url', '--runtime-config', '--service-cluster-ip-range', '--allow-privileged']) {
      assert.ok(!accesses.some((a) => a.flag === notPath), notPath);
    }
  });

  it('v1.17 KMS: encryption config via its single-file mount; the KMS socket dir is referenced by no flag', () => {
    const pod = fixturePod('v1.17-kms-encryption-apiserver-only', 'kube-apiserver.yaml');
    const { accesses } = analyzeAccess(pod, 'kube-apiserver');
    const enc = find(accesses, '--encryption-provider-config');
    assert.deepEqual(
      [enc.hostPath, enc.volume, enc.target, enc.secret],
      ['/etc/kubernetes/apiserver-encryption.conf', 'apiserver-encryption-conf', 'file', true],
    );
    assert.ok(!accesses.some((a) => a.hostPath.startsWith('/var/run/k8s-kms-plugin')));
    // The socket path lives in the encryption config; the mount (written with a trailing slash) still resolves it.
    assert.deepEqual(mapToHost(pod, '/var/run/k8s-kms-plugin/socket.sock'), {
      hostPath: '/var/run/k8s-kms-plugin/socket.sock',
      volume: 'k8s-kms-plugin-unixsock-directory',
      exact: false,
    });
  });

  it('kube-vip: /etc/kubernetes/admin.conf in the container is super-admin.conf on the host', () => {
    const pod = fixturePod('v1.31-ubuntu-stacked-kube-vip', 'kube-vip.yaml');
    assert.equal(mapToHost(pod, '/etc/kubernetes/admin.conf')?.hostPath, '/etc/kubernetes/super-admin.conf');
  });
});

/** A hand-written apiserver manifest with the given args and hostPath mounts. */
function apiserver(
  args: string[],
  mounts: Array<{ name: string; mountPath: string; hostPath?: string; type?: string; emptyDir?: boolean }>,
): string {
  return [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  labels: {component: kube-apiserver, tier: control-plane}',
    '  name: kube-apiserver',
    'spec:',
    '  containers:',
    '  - command:',
    '    - kube-apiserver',
    ...args.map((a) => `    - '${a}'`),
    '    image: registry.k8s.io/kube-apiserver:v1.31.1',
    '    name: kube-apiserver',
    '    volumeMounts:',
    ...mounts.flatMap((m) => [`    - mountPath: ${m.mountPath}`, `      name: ${m.name}`]),
    '  volumes:',
    ...mounts.flatMap((m) =>
      m.emptyDir
        ? [`  - name: ${m.name}`, '    emptyDir: {}']
        : [`  - name: ${m.name}`, '    hostPath:', `      path: ${m.hostPath ?? m.mountPath}`, `      type: "${m.type ?? 'DirectoryOrCreate'}"`],
    ),
  ].join('\n');
}

const PKI = { name: 'k8s-certs', mountPath: '/etc/kubernetes/pki' };

function run(args: string[], mounts: Parameters<typeof apiserver>[1], component: Component = 'kube-apiserver') {
  return analyzeAccess(parsePod(apiserver(args, mounts), 'x'), component);
}

describe('analyzeAccess rules on hand-built manifests', () => {
  it('repeated flags each give an access (v1beta4 extraArgs lists)', () => {
    const { accesses } = run(
      ['--service-account-key-file=/etc/kubernetes/pki/sa.pub', '--service-account-key-file=/etc/kubernetes/pki/old-sa.pub'],
      [PKI],
    );
    assert.deepEqual(accesses.map((a) => [a.flag, a.hostPath]), [
      ['--service-account-key-file', '/etc/kubernetes/pki/old-sa.pub'],
      ['--service-account-key-file', '/etc/kubernetes/pki/sa.pub'],
    ]);
  });

  it('the same flag and value twice gives one access', () => {
    const { accesses } = run(['--client-ca-file=/etc/kubernetes/pki/ca.crt', '--client-ca-file=/etc/kubernetes/pki/ca.crt'], [PKI]);
    assert.equal(accesses.length, 1);
  });

  it('comma-separated list values give one access per element', () => {
    const { accesses } = run(['--service-account-key-file=/etc/kubernetes/pki/sa.pub,/etc/kubernetes/pki/sa-2.pub'], [PKI]);
    assert.deepEqual(accesses.map((a) => a.containerPath), ['/etc/kubernetes/pki/sa-2.pub', '/etc/kubernetes/pki/sa.pub']);
  });

  it('a private key given to --service-account-key-file is secret (file name *.key)', () => {
    const { accesses } = run(['--service-account-key-file=/etc/kubernetes/pki/sa.key'], [PKI]);
    assert.equal(accesses[0].secret, true);
  });

  it('--tls-sni-cert-key: cert public, key secret, domains ignored', () => {
    const { accesses, unmapped } = run(['--tls-sni-cert-key=/etc/kubernetes/pki/sni.crt,/etc/kubernetes/pki/sni.pem:*.example.com,example.com'], [PKI]);
    assert.deepEqual(accesses.map((a) => [a.containerPath, a.secret]), [
      ['/etc/kubernetes/pki/sni.crt', false],
      ['/etc/kubernetes/pki/sni.pem', true],
    ]);
    assert.deepEqual(unmapped, []);
  });

  it('a path under no mount is unmapped (it lives in the image)', () => {
    const { accesses, unmapped } = run(['--tracing-config-file=/opt/tracing/config.yaml', '--client-ca-file=/etc/kubernetes/pki/ca.crt'], [PKI]);
    assert.deepEqual(accesses.map((a) => a.flag), ['--client-ca-file']);
    assert.deepEqual(unmapped, [{ component: 'kube-apiserver', flag: '--tracing-config-file', containerPath: '/opt/tracing/config.yaml', access: 'read' }]);
  });

  it('a path whose longest mount is an emptyDir is unmapped, not mapped through a shorter hostPath mount', () => {
    const { accesses, unmapped } = run(
      ['--token-auth-file=/etc/kubernetes/tokens/tokens.csv'],
      [{ name: 'etc-kubernetes', mountPath: '/etc/kubernetes' }, { name: 'tokens', mountPath: '/etc/kubernetes/tokens', emptyDir: true }],
    );
    assert.deepEqual(accesses, []);
    assert.equal(unmapped.length, 1);
  });

  it('the longest mount wins, on path-segment boundaries', () => {
    const { accesses } = run(
      ['--client-ca-file=/etc/kubernetes/pki/ca.crt', '--oidc-ca-file=/etc/kubernetes/pkix/oidc.crt'],
      [{ name: 'etc-kubernetes', mountPath: '/etc/kubernetes' }, { name: 'k8s-certs', mountPath: '/etc/kubernetes/pki', hostPath: '/srv/pki' }],
    );
    assert.deepEqual(accesses.map((a) => [a.flag, a.hostPath, a.volume]), [
      ['--oidc-ca-file', '/etc/kubernetes/pkix/oidc.crt', 'etc-kubernetes'],
      ['--client-ca-file', '/srv/pki/ca.crt', 'k8s-certs'],
    ]);
  });

  it('a single-file mount covers only its own path', () => {
    const { accesses, unmapped } = run(
      ['--encryption-provider-config=/etc/kubernetes/enc.yaml', '--audit-policy-file=/etc/kubernetes/enc.yaml/policy.yaml'],
      [{ name: 'enc', mountPath: '/etc/kubernetes/enc.yaml', hostPath: '/srv/enc.yaml', type: 'File' }],
    );
    assert.deepEqual(accesses.map((a) => [a.flag, a.hostPath]), [['--encryption-provider-config', '/srv/enc.yaml']]);
    assert.deepEqual(unmapped.map((u) => u.flag), ['--audit-policy-file']);
  });

  it('trailing slashes on mountPath and hostPath are ignored', () => {
    const { accesses } = run(['--client-ca-file=/etc/kubernetes/pki/ca.crt'], [{ name: 'k8s-certs', mountPath: '/etc/kubernetes/pki/', hostPath: '/srv/pki/' }]);
    assert.equal(accesses[0].hostPath, '/srv/pki/ca.crt');
  });

  it('booleans, URLs, CIDRs, --etcd-prefix, --runtime-config and "-" are not paths, even with / mounted', () => {
    const { accesses, unmapped } = run(
      [
        '--client-cert-auth=true',
        '--encryption-provider-config-automatic-reload=true',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        '--etcd-servers=https://127.0.0.1:2379',
        '--service-cluster-ip-range=10.96.0.0/12',
        '--etcd-prefix=/registry',
        '--runtime-config=/api/all=true',
        '--audit-log-path=-',
        '--profiling',
        '--kubeconfig=',
      ],
      [{ name: 'root', mountPath: '/', hostPath: '/' }],
    );
    assert.deepEqual(accesses, []);
    assert.deepEqual(unmapped, []);
  });

  it('a -dir flag that is only read targets the directory', () => {
    const { accesses } = run(
      ['--flex-volume-plugin-dir=/usr/libexec/kubernetes/kubelet-plugins/volume/exec'],
      [{ name: 'flexvolume-dir', mountPath: '/usr/libexec/kubernetes/kubelet-plugins/volume/exec' }],
      'kube-controller-manager',
    );
    assert.deepEqual([accesses[0].access, accesses[0].target, accesses[0].secret], ['read', 'dir', false]);
  });

  it('kcm --cert-dir is a write to that directory', () => {
    const { accesses } = run(['--cert-dir=/var/lib/kcm-certs'], [{ name: 'certs', mountPath: '/var/lib/kcm-certs', hostPath: '/srv/kcm' }], 'kube-controller-manager');
    assert.deepEqual([accesses[0].hostPath, accesses[0].access, accesses[0].target], ['/srv/kcm', 'write', 'dir']);
  });

  it('an audit log file that is itself a single-file mount is a write to that file', () => {
    const { accesses } = run(
      ['--audit-log-path=/var/log/audit.log'],
      [{ name: 'audit', mountPath: '/var/log/audit.log', hostPath: '/var/log/kube-audit.log', type: 'FileOrCreate' }],
    );
    assert.deepEqual([accesses[0].hostPath, accesses[0].access, accesses[0].target], ['/var/log/kube-audit.log', 'write', 'file']);
  });

  it('--data-dir is only a write for etcd', () => {
    const { accesses } = run(['--data-dir=/var/lib/x'], [{ name: 'x', mountPath: '/var/lib/x' }]);
    assert.deepEqual([accesses[0].access, accesses[0].target], ['read', 'dir']);
  });

  it('output is sorted by host path, then flag', () => {
    const { accesses } = run(
      ['--tls-private-key-file=/etc/kubernetes/pki/b.key', '--client-ca-file=/etc/kubernetes/pki/a.crt', '--etcd-cafile=/etc/kubernetes/pki/a.crt'],
      [PKI],
    );
    assert.deepEqual(accesses.map((a) => `${a.hostPath} ${a.flag}`), [
      '/etc/kubernetes/pki/a.crt --client-ca-file',
      '/etc/kubernetes/pki/a.crt --etcd-cafile',
      '/etc/kubernetes/pki/b.key --tls-private-key-file',
    ]);
  });
});
