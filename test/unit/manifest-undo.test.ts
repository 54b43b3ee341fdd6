// The semantic undo of the migration's manifest edits (src/plan/manifest-undo.ts). The oracle is
// kubeadm itself (test/fixtures/kubeadm, written by the real kubeadm of each release): apply on
// v1.36.3 writes <v1.36.3>/kubeadm-patched (checked byte for byte by kubeadm-generated.test.ts);
// `kubeadm upgrade apply v1.37.2 --patches` then leaves <v1.37.2>/kubeadm-patched; undoing the recorded
// edits on that must give <v1.37.2>/manifests — kubeadm v1.37.2's own stock manifest — byte for byte:
// the new release's images and flags stay, only the migration's fields go.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { manifestEdits, undoManifestEdits } from '../../src/plan/manifest-undo.js';
import type { Component } from '../../src/model/components.js';
import { readKubeadmCase } from '../../scripts/lib/kubeadm-cases.js';

const FROM = 'v1.36.3';
const TO = 'v1.37.2';
const CASES = ['default', 'apiserver-extras', 'certs-dir', 'external-etcd', 'ipv6-dual-stack', 'port-443', 'rootless-gate'];
const node = (file: string) => `/etc/kubernetes/manifests/${file}`;
const componentOf = (file: string) => file.replace(/\.yaml$/, '') as Component;
/** Through the journal: what rollback reads back is JSON. */
const viaJournal = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function editsOf(release: string, name: string, file: string) {
  const c = readKubeadmCase(release, name);
  return viaJournal(manifestEdits(c.manifests[file]!, c.kubeadmPatched[file]!, componentOf(file), node(file)));
}

describe('undo of the migration edits on an upgraded manifest', () => {
  for (const name of CASES) {
    test(`${name}: ${FROM} apply, upgrade to ${TO} with --patches, undo → kubeadm ${TO}'s own manifest`, () => {
      const to = readKubeadmCase(TO, name);
      assert.ok(Object.keys(to.manifests).length >= 3, 'the fixture case has its manifests');
      for (const file of Object.keys(to.manifests)) {
        const edits = editsOf(FROM, name, file);
        assert.ok(edits.length > 0, `${file}: apply edited it`);
        const r = undoManifestEdits(to.kubeadmPatched[file]!, edits, node(file));
        assert.ok(r.ok, `${file}: ${r.ok ? '' : r.reason}`);
        assert.equal(r.text, to.manifests[file], `${file}: byte for byte kubeadm ${TO}'s manifest`);
      }
    });
  }

  test('the same undo on the manifest apply wrote gives the original back byte for byte', () => {
    const c = readKubeadmCase(FROM, 'default');
    for (const file of Object.keys(c.manifests)) {
      const r = undoManifestEdits(c.kubeadmPatched[file]!, editsOf(FROM, 'default', file), node(file));
      assert.ok(r.ok && r.text === c.manifests[file], file);
    }
  });

  test('the edits are the securityContext fields apply set, with their values before and after', () => {
    const edits = editsOf(FROM, 'default', 'kube-apiserver.yaml');
    assert.deepEqual(
      edits.map((e) => [e.field.join('.'), e.before, e.after]),
      [
        ['spec.containers.0.securityContext', undefined, { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } }],
        ['spec.securityContext.runAsGroup', undefined, 110],
        ['spec.securityContext.runAsNonRoot', undefined, true],
        ['spec.securityContext.runAsUser', undefined, 103],
        ['spec.securityContext.supplementalGroups', undefined, [113]],
      ].sort(),
    );
    assert.ok(edits.every((e) => e.component === 'kube-apiserver' && e.path === node('kube-apiserver.yaml')));
  });

  test('an upgrade without the patches left nothing of the migration: the text is returned unchanged', () => {
    const to = readKubeadmCase(TO, 'default');
    const r = undoManifestEdits(to.manifests['etcd.yaml']!, editsOf(FROM, 'default', 'etcd.yaml'), node('etcd.yaml'));
    assert.ok(r.ok);
    assert.equal(r.text, to.manifests['etcd.yaml']);
  });

  test('a field changed by hand since (neither the value written nor the one before): refused, naming the field', () => {
    const patched = readKubeadmCase(TO, 'default').kubeadmPatched['etcd.yaml']!;
    const edited = patched.replace(/runAsUser: \d+/, 'runAsUser: 2000');
    assert.notEqual(edited, patched);
    const r = undoManifestEdits(edited, editsOf(FROM, 'default', 'etcd.yaml'), node('etcd.yaml'));
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /spec\.securityContext\.runAsUser is 2000, neither what the migration wrote \(\d+\) nor what it was before \(absent\)/);
  });

  test('a container securityContext kubeadm added keys to since: only the migration keys go', () => {
    const to = readKubeadmCase(TO, 'default');
    const patched = to.kubeadmPatched['etcd.yaml']!.replace('      allowPrivilegeEscalation: false\n', '      allowPrivilegeEscalation: false\n      readOnlyRootFilesystem: true\n');
    const r = undoManifestEdits(patched, editsOf(FROM, 'default', 'etcd.yaml'), node('etcd.yaml'));
    assert.ok(r.ok, r.ok ? '' : r.reason);
    const sc = (parse(r.text) as { spec: { containers: Array<{ securityContext?: unknown }> } }).spec.containers[0]!.securityContext;
    assert.deepEqual(sc, { readOnlyRootFilesystem: true });
  });

  test('a file that is no longer that component\'s pod: refused', () => {
    const edits = editsOf(FROM, 'default', 'etcd.yaml');
    const sched = readKubeadmCase(TO, 'default').kubeadmPatched['kube-scheduler.yaml']!;
    for (const text of [sched, 'not: [valid', 'apiVersion: v1\nkind: ConfigMap\n']) {
      const r = undoManifestEdits(text, edits, node('etcd.yaml'));
      assert.equal(r.ok, false, text.slice(0, 30));
    }
  });
});
