// parsePod / identifyComponent / flags / ports against the fixture corpus
// (test/fixtures/manifests/INDEX.md) and hand-written edge cases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { identifyComponent, looksLikeComponentFile, parsePod } from '../../src/model/pod.js';
import { flagValues, lastFlag, parseFlags } from '../../src/model/flags.js';
import { listenPorts, urlPort } from '../../src/model/ports.js';
import { InputError } from '../../src/errors.js';
import type { Component } from '../../src/model/components.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/manifests/', import.meta.url));

function fixtureText(caseName: string, file: string): string {
  return readFileSync(`${FIXTURES}${caseName}/${file}`, 'utf8');
}

function fixturePod(caseName: string, file: string) {
  return parsePod(fixtureText(caseName, file), `/etc/kubernetes/manifests/${file}`);
}

const KUBEADM4: Record<string, Component> = {
  'etcd.yaml': 'etcd',
  'kube-apiserver.yaml': 'kube-apiserver',
  'kube-controller-manager.yaml': 'kube-controller-manager',
  'kube-scheduler.yaml': 'kube-scheduler',
};

// Written by hand from INDEX.md's summary table ("files" column); null = non-kubeadm static pod.
const EXPECTED_FILES: Record<string, Record<string, Component | null>> = {
  'v1.16-centos-stacked': KUBEADM4,
  'v1.17-kms-encryption-apiserver-only': { 'kube-apiserver.yaml': 'kube-apiserver' },
  'v1.19-kind-oidc-apiserver-only': { 'kube-apiserver.yaml': 'kube-apiserver' },
  'v1.19-ubuntu-stacked': KUBEADM4,
  'v1.20-minikube-certsdir-port8443': KUBEADM4,
  'v1.22-ubuntu-stacked-seccomp-root': KUBEADM4,
  'v1.28.0-defaulted-fields': KUBEADM4,
  'v1.29-audit-encryption': KUBEADM4,
  'v1.30-port443-webhooks-haproxy-keepalived': { ...KUBEADM4, 'haproxy.yaml': null, 'keepalived.yaml': null },
  'v1.31-rootless-control-plane': KUBEADM4,
  'v1.31-ubuntu-stacked-kube-vip': { ...KUBEADM4, 'kube-vip.yaml': null },
  'v1.32-rhel-stacked': KUBEADM4,
};

describe('parsePod and identifyComponent on the fixture corpus', () => {
  it('the corpus holds exactly the cases and files listed by hand', () => {
    const cases = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    assert.deepEqual(cases, Object.keys(EXPECTED_FILES).sort());
    for (const c of cases) {
      assert.deepEqual(readdirSync(`${FIXTURES}${c}`).sort(), Object.keys(EXPECTED_FILES[c]).sort(), c);
    }
  });

  for (const [caseName, files] of Object.entries(EXPECTED_FILES)) {
    for (const [file, expected] of Object.entries(files)) {
      it(`${caseName}/${file} parses and is identified as ${expected ?? 'not kubeadm'}`, () => {
        const pod = fixturePod(caseName, file);
        assert.ok(pod.image.length > 0);
        assert.equal(pod.hostNetwork, true);
        assert.equal(identifyComponent(file, pod), expected);
      });
    }
  }

  it('reads the v1.22 etcd manifest fields', () => {
    const pod = fixturePod('v1.22-ubuntu-stacked-seccomp-root', 'etcd.yaml');
    assert.equal(pod.name, 'etcd');
    assert.equal(pod.namespace, 'kube-system');
    assert.deepEqual(pod.labels, { component: 'etcd', tier: 'control-plane' });
    assert.equal(pod.image, 'k8s.gcr.io/etcd:3.5.0-0');
    assert.equal(pod.argv[0], 'etcd');
    assert.equal(lastFlag(pod.flags, '--data-dir'), '/var/lib/etcd');
    // INDEX.md: etcd-data hostPath /var/lib/etcd-old-copy mounted at /var/lib/etcd, rw.
    assert.deepEqual(pod.volumes.find((v) => v.name === 'etcd-data'), {
      name: 'etcd-data',
      path: '/var/lib/etcd-old-copy',
      type: 'DirectoryOrCreate',
    });
    assert.deepEqual(pod.mounts.find((m) => m.name === 'etcd-data'), { name: 'etcd-data', mountPath: '/var/lib/etcd', readOnly: false });
    assert.deepEqual(pod.podSecurityContext, { seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(pod.containerSecurityContext, {});
  });

  it('reads the rootless fixture security contexts as plain data', () => {
    const pod = fixturePod('v1.31-rootless-control-plane', 'etcd.yaml');
    assert.deepEqual(pod.podSecurityContext, { runAsGroup: 100, runAsUser: 100, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(pod.containerSecurityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });

  it('parses the kind manifest that starts with a comment and has an empty --runtime-config=', () => {
    const pod = fixturePod('v1.19-kind-oidc-apiserver-only', 'kube-apiserver.yaml');
    assert.equal(pod.name, 'kube-apiserver');
    assert.equal(lastFlag(pod.flags, '--runtime-config'), '');
  });

  it('keeps hostPath volumes without type as type "" (keepalived) and strips a trailing slash (v1.17 KMS dir)', () => {
    const keepalived = fixturePod('v1.30-port443-webhooks-haproxy-keepalived', 'keepalived.yaml');
    assert.deepEqual(keepalived.volumes.map((v) => [v.name, v.path, v.type]), [
      ['config', '/etc/keepalived/keepalived.conf', ''],
      ['check', '/etc/keepalived/check_apiserver.sh', ''],
    ]);
    const kms = fixturePod('v1.17-kms-encryption-apiserver-only', 'kube-apiserver.yaml');
    assert.equal(kms.volumes.find((v) => v.name === 'k8s-kms-plugin-unixsock-directory')?.path, '/var/run/k8s-kms-plugin');
  });

  it('reads httpGet probes: port 443 on the v1.30 API server', () => {
    const pod = fixturePod('v1.30-port443-webhooks-haproxy-keepalived', 'kube-apiserver.yaml');
    assert.deepEqual(
      pod.probes.map((p) => [p.kind, p.scheme, p.port, p.path]),
      [
        ['startupProbe', 'HTTPS', 443, '/livez'],
        ['livenessProbe', 'HTTPS', 443, '/livez'],
        ['readinessProbe', 'HTTPS', 443, '/readyz'],
      ],
    );
    assert.ok(pod.probes.every((p) => p.host !== null));
  });

  it('gives host null for a probe without host (v1.30 kcm with --bind-address=0.0.0.0)', () => {
    const pod = fixturePod('v1.30-port443-webhooks-haproxy-keepalived', 'kube-controller-manager.yaml');
    assert.deepEqual(pod.probes, [
      { kind: 'startupProbe', scheme: 'HTTPS', host: null, port: 10257, path: '/healthz' },
      { kind: 'livenessProbe', scheme: 'HTTPS', host: null, port: 10257, path: '/healthz' },
    ]);
  });

  it('reads the v1.16 insecure HTTP health probe of kcm (no startup probe before 1.19)', () => {
    const pod = fixturePod('v1.16-centos-stacked', 'kube-controller-manager.yaml');
    assert.deepEqual(pod.probes.map((p) => [p.kind, p.scheme, p.port]), [['livenessProbe', 'HTTP', 10252]]);
  });
});

/** A minimal hand-written manifest; `extra` lines go under the container. */
function manifest(opts: { name?: string; component?: string; tier?: string | null; command?: string[]; extra?: string } = {}): string {
  const name = opts.name ?? 'kube-scheduler';
  const tier = opts.tier === undefined ? 'control-plane' : opts.tier;
  const command = opts.command ?? ['kube-scheduler', '--kubeconfig=/etc/kubernetes/scheduler.conf'];
  return [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  labels:',
    `    component: ${opts.component ?? name}`,
    ...(tier === null ? [] : [`    tier: ${tier}`]),
    `  name: ${name}`,
    '  namespace: kube-system',
    'spec:',
    '  containers:',
    '  - command:',
    ...command.map((c) => `    - ${c}`),
    '    image: registry.k8s.io/kube-scheduler:v1.30.2',
    `    name: ${name}`,
    ...(opts.extra ? [opts.extra] : []),
    '  hostNetwork: true',
  ].join('\n');
}

describe('identifyComponent edge cases', () => {
  it('a second scheduler copied from kube-scheduler.yaml (my-scheduler.yaml) is not kubeadm', () => {
    const text = fixtureText('v1.31-ubuntu-stacked-kube-vip', 'kube-scheduler.yaml');
    const pod = parsePod(text, '/etc/kubernetes/manifests/my-scheduler.yaml');
    assert.equal(identifyComponent('my-scheduler.yaml', pod), null);
  });

  it('kube-scheduler.yaml whose metadata.name is my-scheduler is not kubeadm', () => {
    const pod = parsePod(manifest({ name: 'my-scheduler', component: 'kube-scheduler' }), 'x');
    assert.equal(identifyComponent('kube-scheduler.yaml', pod), null);
  });

  it('labels are hints (hand edits drop them), but a wrong binary makes it not kubeadm', () => {
    assert.equal(identifyComponent('kube-scheduler.yaml', parsePod(manifest({ component: 'scheduler' }), 'x')), 'kube-scheduler');
    assert.equal(identifyComponent('kube-scheduler.yaml', parsePod(manifest({ tier: null }), 'x')), 'kube-scheduler');
    assert.equal(identifyComponent('kube-scheduler.yaml', parsePod(manifest({ tier: 'node' }), 'x')), 'kube-scheduler');
    assert.equal(identifyComponent('kube-scheduler.yaml', parsePod(manifest({ command: ['kube-apiserver', '--x=1'] }), 'x')), null);
  });

  it('accepts the binary given by absolute path', () => {
    const pod = parsePod(manifest({ command: ['/usr/local/bin/kube-scheduler', '--v=2'] }), 'x');
    assert.equal(identifyComponent('kube-scheduler.yaml', pod), 'kube-scheduler');
    assert.equal(identifyComponent('/etc/kubernetes/manifests/kube-scheduler.yaml', pod), 'kube-scheduler');
  });

  it('only <component>.yaml counts, not .yml or other names', () => {
    const pod = parsePod(manifest(), 'x');
    assert.equal(identifyComponent('kube-scheduler.yml', pod), null);
    assert.equal(identifyComponent('kube-scheduler.yaml.bak', pod), null);
    assert.equal(looksLikeComponentFile('kube-scheduler.yaml'), 'kube-scheduler');
    assert.equal(looksLikeComponentFile('etcd.yaml'), 'etcd');
    assert.equal(looksLikeComponentFile('etcd.json'), null);
    assert.equal(looksLikeComponentFile('kube-vip.yaml'), null);
  });
});

describe('parsePod input errors', () => {
  const path = '/etc/kubernetes/manifests/etcd.yaml';
  function err(text: string): InputError {
    try {
      parsePod(text, path);
    } catch (e) {
      assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
      assert.ok(e.message.includes(path), e.message);
      assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
      return e;
    }
    assert.fail('parsePod did not throw');
  }

  it('rejects two documents and says how many it found', () => {
    const e = err(`${manifest()}\n---\n${manifest()}\n`);
    assert.equal(
      e.message,
      `${path}: not a single Pod document (found 2 YAML documents); kubeadm writes one Pod per file`,
    );
  });

  it('accepts a leading --- and a trailing empty document', () => {
    const pod = parsePod(`# comment\n---\n${manifest()}\n---\n`, path);
    assert.equal(pod.name, 'kube-scheduler');
  });

  it('rejects malformed YAML', () => {
    assert.match(err('kind: Pod\nspec: [1\n').message, /invalid YAML/);
  });

  it('rejects an empty file', () => {
    assert.match(err('# nothing\n').message, /found 0 YAML documents/);
  });

  it('rejects a kind other than Pod', () => {
    assert.match(err(manifest().replace('kind: Pod', 'kind: Deployment')).message, /kind is "Deployment", expected "Pod"/);
  });

  it('rejects a list document', () => {
    assert.match(err('- a\n- b\n').message, /not a Kubernetes object/);
  });

  it('rejects a Pod with no containers', () => {
    assert.match(err('apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\nspec:\n  containers: []\n').message, /no containers/);
  });

  it('rejects a container without image', () => {
    assert.match(err(manifest().replace(/ {4}image: .*\n/, '')).message, /has no image/);
  });
});

describe('probe ports', () => {
  it('resolves a quoted number and a named containerPort, and skips exec probes', () => {
    const extra = [
      '    ports:',
      '    - containerPort: 10259',
      '      name: probe-port',
      '    livenessProbe:',
      '      httpGet:',
      '        path: /healthz',
      '        port: probe-port',
      '        scheme: HTTPS',
      '    readinessProbe:',
      '      exec:',
      '        command: [true]',
      '    startupProbe:',
      '      httpGet:',
      '        host: 127.0.0.1',
      '        port: "10259"',
    ].join('\n');
    const pod = parsePod(manifest({ extra }), 'x');
    assert.deepEqual(pod.probes, [
      { kind: 'startupProbe', scheme: 'HTTP', host: '127.0.0.1', port: 10259, path: '/' },
      { kind: 'livenessProbe', scheme: 'HTTPS', host: null, port: 10259, path: '/healthz' },
    ]);
  });
});

describe('parseFlags', () => {
  it('keeps repeated flags, bare flags, empty values and the argv index', () => {
    const flags = parseFlags([
      'kube-apiserver',
      '--service-account-key-file=/a.pub',
      '--profiling',
      '--runtime-config=',
      'positional',
      '--service-account-key-file=/b.pub',
      '--feature-gates=A=true,B=false',
    ]);
    assert.deepEqual(flags, [
      { name: '--service-account-key-file', value: '/a.pub', index: 1 },
      { name: '--profiling', value: null, index: 2 },
      { name: '--runtime-config', value: '', index: 3 },
      { name: '--service-account-key-file', value: '/b.pub', index: 5 },
      { name: '--feature-gates', value: 'A=true,B=false', index: 6 },
    ]);
    assert.deepEqual(flagValues(flags, '--service-account-key-file'), ['/a.pub', '/b.pub']);
    assert.equal(lastFlag(flags, '--service-account-key-file'), '/b.pub');
    assert.equal(lastFlag(flags, '--profiling'), '');
    assert.equal(lastFlag(flags, '--absent'), null);
    assert.deepEqual(flagValues(flags, '--absent'), []);
  });

  it('stops at a lone --', () => {
    assert.deepEqual(parseFlags(['etcd', '--', '--name=x']), []);
  });
});

describe('listenPorts', () => {
  it('v1.30 API server listens on 443', () => {
    const pod = fixturePod('v1.30-port443-webhooks-haproxy-keepalived', 'kube-apiserver.yaml');
    assert.deepEqual(listenPorts(pod, 'kube-apiserver'), [{ flag: '--secure-port', port: 443 }]);
  });

  it('minikube API server listens on 8443 (and its --insecure-port=0 is no listener)', () => {
    const pod = fixturePod('v1.20-minikube-certsdir-port8443', 'kube-apiserver.yaml');
    assert.deepEqual(listenPorts(pod, 'kube-apiserver'), [{ flag: '--secure-port', port: 8443 }]);
  });

  it('kcm and scheduler with --port=0 and no --secure-port listen on 10257 / 10259 only', () => {
    const kcm = fixturePod('v1.22-ubuntu-stacked-seccomp-root', 'kube-controller-manager.yaml');
    assert.deepEqual(listenPorts(kcm, 'kube-controller-manager'), [{ flag: '--secure-port', port: 10257 }]);
    const ks = fixturePod('v1.22-ubuntu-stacked-seccomp-root', 'kube-scheduler.yaml');
    assert.deepEqual(listenPorts(ks, 'kube-scheduler'), [{ flag: '--secure-port', port: 10259 }]);
  });

  it('etcd: client, peer and metrics ports, each port once per flag', () => {
    const pod = fixturePod('v1.22-ubuntu-stacked-seccomp-root', 'etcd.yaml');
    assert.deepEqual(listenPorts(pod, 'etcd'), [
      { flag: '--listen-client-urls', port: 2379 },
      { flag: '--listen-peer-urls', port: 2380 },
      { flag: '--listen-metrics-urls', port: 2381 },
    ]);
  });

  it('etcd with IPv6 URLs and a port equal to the scheme default', () => {
    const pod = parsePod(
      manifest({
        name: 'etcd',
        command: ['etcd', "'--listen-client-urls=https://[::1]:2379,https://[fd00:10:20::11]:2379'", '--listen-peer-urls=https://[fd00:10:20::11]:443'],
      }),
      'x',
    );
    assert.deepEqual(listenPorts(pod, 'etcd'), [
      { flag: '--listen-client-urls', port: 2379 },
      { flag: '--listen-peer-urls', port: 443 },
    ]);
  });

  it('an insecure kcm --port and the last --secure-port count; --secure-port=0 disables', () => {
    const pod = parsePod(manifest({ command: ['kube-controller-manager', '--secure-port=1000', '--secure-port=10300', '--port=10252'] }), 'x');
    assert.deepEqual(listenPorts(pod, 'kube-controller-manager'), [
      { flag: '--secure-port', port: 10300 },
      { flag: '--port', port: 10252 },
    ]);
    const off = parsePod(manifest({ command: ['kube-scheduler', '--secure-port=0'] }), 'x');
    assert.deepEqual(listenPorts(off, 'kube-scheduler'), []);
  });

  it('urlPort keeps default-scheme ports and ignores unix sockets and port-less URLs', () => {
    assert.equal(urlPort('http://127.0.0.1:80'), 80);
    assert.equal(urlPort('https://[::1]:2379/'), 2379);
    assert.equal(urlPort('unix://localhost:2379'), null);
    assert.equal(urlPort('https://127.0.0.1'), null);
  });
});
