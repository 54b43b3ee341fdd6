// The test oracles' own readings, checked against hand-written expectations: the INDEX tables and the
// stand-in's pod reading (neither may use the tool's code).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { readIndexTables } from '../../scripts/lib/index-tables.js';
import { readdirSync, readFileSync } from 'node:fs';
import { isSecretContent } from '../support/access-proof.js';
import { componentReads, hostPathOf, kubeconfigFiles, namedPaths, readPod } from '../../scripts/lib/pod-reading.js';
import { fixturesDir, listFixtures } from '../../scripts/lib/sandbox.js';

test('INDEX.md: every fixture case has a section, every manifest of it a table; all 349 flag rows read', () => {
  const index = readIndexTables();
  assert.deepEqual([...index.keys()].sort(), listFixtures());
  let rows = 0;
  for (const [c, files] of index) {
    const onDisk = readdirSync(path.join(fixturesDir(), c)).filter((f) => f.endsWith('.yaml')).sort();
    assert.deepEqual([...files.keys()].sort(), onDisk, c);
    for (const r of files.values()) rows += r.length;
  }
  assert.equal(rows, 349);
  const moved = [...index.values()].flatMap((f) => [...f.values()].flat()).find((r) => r.hostPath === '/var/lib/etcd-old-copy');
  assert.deepEqual(moved && { flag: moved.flag, containerPath: moved.containerPath, access: moved.access }, { flag: '--data-dir', containerPath: '/var/lib/etcd', access: 'write' });
});

test('the stand-in pod reading: YAML 1.1 scalars, command + args, longest hostPath mount wins, image paths unmapped', () => {
  const pod = readPod(`apiVersion: v1
kind: Pod
metadata: {name: etcd-cp}
spec:
  securityContext: {runAsUser: 01750, runAsGroup: 0o17}
  containers:
  - name: etcd
    command: [etcd, --data-dir=/var/lib/etcd]
    args: [--x=1]
    volumeMounts:
    - {name: certs, mountPath: /etc/kubernetes/pki/etcd/}
    - {name: all, mountPath: /etc/kubernetes}
    - {name: empty, mountPath: /scratch}
  volumes:
  - {name: certs, hostPath: {path: /srv/etcd-certs}}
  - {name: all, hostPath: {path: /etc/kubernetes, type: Directory}}
  - {name: empty, emptyDir: {}}
`);
  assert.equal(pod.name, 'etcd-cp');
  assert.deepEqual(pod.argv, ['etcd', '--data-dir=/var/lib/etcd', '--x=1']);
  // As the kubelet reads it (checked with kubectl patch --local, sigs.k8s.io/yaml): 01750 is the YAML
  // 1.1 octal 1000, and 0o17 is 15 (go-yaml v2 resolves plain integers with Go's strconv.ParseInt).
  assert.equal(pod.podSecurityContext.runAsUser, 1000);
  assert.equal(pod.podSecurityContext.runAsGroup, 15);
  assert.equal(hostPathOf(pod, '/etc/kubernetes/pki/etcd/server.key'), '/srv/etcd-certs/server.key');
  assert.equal(hostPathOf(pod, '/etc/kubernetes/pki/etcd'), '/srv/etcd-certs');
  assert.equal(hostPathOf(pod, '/etc/kubernetes/admin.conf'), '/etc/kubernetes/admin.conf');
  assert.equal(hostPathOf(pod, '/etc/kubernetes-other/x'), null);
  assert.equal(hostPathOf(pod, '/scratch/x'), null, 'not a hostPath volume');
});

test('the independent reading names exactly the host paths of the hand-checked INDEX rows, for every kubeadm manifest', () => {
  let compared = 0;
  for (const [c, files] of readIndexTables()) {
    for (const [file, rows] of files) {
      if (!['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'].includes(file)) continue;
      // INDEX names a written log FILE; the reading, the directory the component creates it in.
      const index = rows.map((r) => `${r.access} ${r.access === 'write' && /\.\w+$/.test(r.hostPath) && r.flag !== '--data-dir' ? path.posix.dirname(r.hostPath) : r.hostPath}`);
      const reading = namedPaths(readPod(readFileSync(path.join(fixturesDir(), c, file), 'utf8'))).map((n) => `${n.write ? 'write' : 'read'} ${n.host}`);
      assert.deepEqual([...new Set(reading)].sort(), [...new Set(index)].sort(), `${c}/${file}`);
      compared++;
    }
  }
  assert.ok(compared >= 35, `compared ${compared} manifests`);
});

test('the independent reading follows the files a kubeconfig names, relative ones from its own directory', async () => {
  const pod = readPod(`apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver}
spec:
  containers:
  - name: kube-apiserver
    command: [kube-apiserver, --authentication-token-webhook-config-file=/etc/webhooks/authn.kubeconfig, --etcd-prefix=/registry, --audit-log-path=/var/log/audit.log]
    livenessProbe: {exec: {command: [sh, -c, 'test -r /etc/webhooks/probe.key']}}
    volumeMounts:
    - {name: w, mountPath: /etc/webhooks}
    - {name: l, mountPath: /var/log/audit.log}
  volumes:
  - {name: w, hostPath: {path: /srv/webhooks}}
  - {name: l, hostPath: {path: /srv/log/audit.log, type: FileOrCreate}}
`);
  const kubeconfig = 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {certificate-authority: ../ca.crt, server: https://x}\nusers:\n- name: u\n  user: {client-certificate: /etc/webhooks/c.crt, client-key: c.key}\n';
  assert.deepEqual(kubeconfigFiles(kubeconfig, '/etc/webhooks/authn.kubeconfig'), [
    { key: 'certificate-authority', path: '/etc/ca.crt' },
    { key: 'client-certificate', path: '/etc/webhooks/c.crt' },
    { key: 'client-key', path: '/etc/webhooks/c.key' },
  ]);
  assert.deepEqual(kubeconfigFiles('kind: EncryptionConfiguration\nclient-key: x\n', '/etc/x.yaml'), [], 'not a kubeconfig');
  const reads = await componentReads(pod, async (p) => (p === '/srv/webhooks/authn.kubeconfig' ? kubeconfig : null));
  assert.deepEqual(reads.map((n) => `${n.write ? 'w' : 'r'} ${n.host} (${n.via})`), [
    'r /srv/webhooks/authn.kubeconfig (flags --authentication-token-webhook-config-file)',
    'w /srv/log/audit.log (flags --audit-log-path)', // only the file is mounted: it writes just that file
    'r /srv/webhooks/probe.key (livenessProbe)',
    'r /srv/webhooks/c.crt (flags --authentication-token-webhook-config-file → client-certificate)',
    'r /srv/webhooks/c.key (flags --authentication-token-webhook-config-file → client-key)',
  ]); // ../ca.crt is /etc/ca.crt in the container: inside the image, not a host file
});

test('secrets by content: PEM private keys, kubeconfigs with inline credentials, encryption configs', () => {
  assert.equal(isSecretContent('-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n'), true);
  assert.equal(isSecretContent('-----BEGIN PRIVATE KEY-----\n'), true);
  assert.equal(isSecretContent('-----BEGIN CERTIFICATE-----\nMII\n'), false);
  assert.equal(isSecretContent('apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: abc\n'), true);
  assert.equal(isSecretContent('apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    client-key: /k\n'), false, 'names its key, holds none');
  assert.equal(isSecretContent('apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n'), true);
  assert.equal(isSecretContent('apiVersion: audit.k8s.io/v1\nkind: Policy\n'), false);
});
