// kubeadm patch files: applied to every fixture's manifests the way kubeadm applies --patches
// (strategic merge on the pod), they must give exactly the securityContext apply writes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { seccompStyle } from '../../src/model/version.js';
import { defaultConfig } from '../../src/plan/config.js';
import { patchFileName, renderPatch } from '../../src/plan/patches.js';
import { buildPlan } from '../../src/plan/plan.js';
import { fixtureNode } from '../support/fixture-node.js';
import { REPO_ROOT } from '../support/paths.js';
import { listFixtures } from '../support/sandbox.js';
import { strategicMerge } from '../support/strategic-merge.js';

const template = (name: string) => readFileSync(join(REPO_ROOT, 'templates', 'patches', name), 'utf8');

describe('kubeadm patches', () => {
  for (const c of listFixtures()) {
    it(`${c}: patched manifests equal apply's manifests`, () => {
      const node = fixtureNode(c);
      const plan = buildPlan(node, defaultConfig(), { now: new Date(0) });
      assert.ok(plan.manifests.length > 0);
      for (const m of plan.manifests) {
        const id = plan.components.find((x) => x.component === m.component)!.identity!;
        const patch = parse(renderPatch(template(patchFileName(m.component)), id, '0.0.0', seccompStyle(plan.kubernetesVersion)));
        const original = parse(node.manifests.find((x) => x.path === m.path)!.text);
        assert.deepEqual(strategicMerge(original, patch), parse(m.after), m.path);
      }
    });
  }

  it('renders a kube-apiserver patch by hand-checked text', () => {
    const text = renderPatch(template('kube-apiserver+strategic.yaml'), { component: 'kube-apiserver', user: 'kubeadm-kas', uid: 102, group: 'kubeadm-kas', gid: 103, supplementalGroups: [{ name: 'kubeadm-sa-key-readers', gid: 106 }] }, '9.9.9');
    assert.match(text, /^# kubeadm patch \(strategic merge\) written by kubeadm-nonroot 9\.9\.9\.\n# kube-apiserver runs as kubeadm-kas \(uid 102\) and group kubeadm-kas \(gid 103\)\./);
    assert.deepEqual(parse(text), {
      spec: {
        securityContext: { runAsGroup: 103, runAsNonRoot: true, runAsUser: 102, seccompProfile: { type: 'RuntimeDefault' }, supplementalGroups: [106] },
        containers: [{ name: 'kube-apiserver', securityContext: { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } } }],
      },
    });
  });

  it('omits supplementalGroups when the component has none', () => {
    const text = renderPatch(template('kube-scheduler+strategic.yaml'), { component: 'kube-scheduler', user: 'ks', uid: 1, group: 'ks', gid: 2, supplementalGroups: [] }, '1');
    assert.equal(parse(text).spec.securityContext.supplementalGroups, undefined);
    assert.doesNotMatch(text, /\$\{/);
  });
});
