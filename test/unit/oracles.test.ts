// The test oracles' own readings, checked against hand-written expectations: the INDEX tables and the
// stand-in's pod reading (neither may use the tool's code).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readIndexTables } from '../support/index-tables.js';
import { hostPathOf, readPod } from '../support/pod-reading.js';
import { fixturesDir, listFixtures } from '../support/sandbox.js';

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
  // YAML 1.1, as the kubelet reads it: 01750 is octal (1000); "0o17" is a string there.
  assert.equal(pod.podSecurityContext.runAsUser, 1000);
  assert.equal(pod.podSecurityContext.runAsGroup, '0o17');
  assert.equal(hostPathOf(pod, '/etc/kubernetes/pki/etcd/server.key'), '/srv/etcd-certs/server.key');
  assert.equal(hostPathOf(pod, '/etc/kubernetes/pki/etcd'), '/srv/etcd-certs');
  assert.equal(hostPathOf(pod, '/etc/kubernetes/admin.conf'), '/etc/kubernetes/admin.conf');
  assert.equal(hostPathOf(pod, '/etc/kubernetes-other/x'), null);
  assert.equal(hostPathOf(pod, '/scratch/x'), null, 'not a hostPath volume');
});
