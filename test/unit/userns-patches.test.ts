// `patches` in the user-namespace modes, checked by the real strategic merge (kubectl patch --local
// --type strategic, the call kubeadm's --patches makes: cmd/kubeadm/app/util/patches/patches.go):
// each fixture's manifests + the patch files = the manifests apply writes in that mode, hostUsers:
// false included, so `kubeadm upgrade --patches DIR` keeps the mode. Skipped without kubectl (a
// failure under KUBEADM_NONROOT_REQUIRE_E2E=1).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { seccompStyle } from '../../src/model/version.js';
import { defaultConfig } from '../../src/plan/config.js';
import { patchFileName, renderHostUsersPatch, renderPatch } from '../../src/plan/patches.js';
import { buildPlan } from '../../src/plan/plan.js';
import { fixtureNode } from '../support/fixture-node.js';
import { KUBECTL_MISSING, kubectlRead, kubectlStrategicPatch } from '../support/kubectl.js';
import { REPO_ROOT } from '../../scripts/lib/paths.js';
import { skipOrFail } from '../support/prerequisites.js';

const template = (name: string) => readFileSync(join(REPO_ROOT, 'templates', 'patches', name), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'kubeadm-nonroot-userns-patches-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const FIXTURES = ['v1.31-ubuntu-stacked-kube-vip', 'v1.32-rhel-stacked', 'v1.29-audit-encryption'];

describe('patches in a user-namespace mode, merged by kubectl', { skip: skipOrFail(KUBECTL_MISSING) }, () => {
  for (const mode of ['with-accounts', 'only'] as const) {
    for (const c of FIXTURES) {
      it(`${mode}, ${c}: the node's manifests + the patches = apply's manifests, hostUsers: false`, async () => {
        const node = fixtureNode(c);
        const plan = buildPlan(node, { ...defaultConfig(), userNamespaces: mode }, { now: new Date(0) });
        assert.equal(plan.manifests.length, 4, `${c}: every component's manifest is edited`);
        for (const m of plan.manifests) {
          const dir = join(tmp, `${mode}-${c}-${m.component}`);
          const [original, patch, applied] = ['original.yaml', patchFileName(m.component), 'applied.yaml'].map((f) => `${dir}-${f}`) as [string, string, string];
          const id = plan.components.find((x) => x.component === m.component)!.identity;
          const patchText = mode === 'only' ? renderHostUsersPatch(m.component, '0.0.0') : renderPatch(template(patchFileName(m.component)), id!, '0.0.0', seccompStyle(plan.kubernetesVersion), mode);
          assert.equal(parse(patchText).spec.hostUsers, false);
          if (mode === 'only') assert.equal(id, null, 'only: no identity, no securityContext in the patch');
          await writeFile(original, node.manifests.find((x) => x.path === m.path)!.text);
          await writeFile(patch, patchText);
          await writeFile(applied, m.after);
          const [want] = await kubectlRead([applied]);
          assert.deepEqual(await kubectlStrategicPatch(original, patch), want, `${c} ${m.component}`);
        }
      });
    }
  }
});
