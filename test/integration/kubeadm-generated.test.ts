// Every case kubeadm itself generated (test/fixtures/kubeadm/<release>/<case>/, `npm run fixtures:kubeadm`),
// through the real CLI on a sandbox root laid out as kubeadm left it (owners and modes from its listing,
// the gate's accounts from its accounts.txt):
//   plan (no problem; without the gate: one new account per component kubeadm wrote a manifest for) →
//   apply --no-wait → verify → a second plan has nothing to do → the kernel access proof → `patches`:
//   (a) equal the patch files the generator fed to this release's real kubeadm (<case>/patches/; the
//   tool version in the header comment aside), (b) apply's manifests equal the manifests that kubeadm
//   wrote with them (<case>/kubeadm-patched/), byte for byte, (c) applied with real strategic merge (kubectl patch --local) to kubeadm's manifests equal
//   apply's manifests → rollback restores the tree exactly (content, owner, mode, type of every path).
// No kubeadm binary is needed here: kubeadm's answers are committed by `npm run fixtures:kubeadm`.
// A gate-made case (RootlessControlPlane, v1.22–v1.34) must plan exactly "reuse the gate's accounts with
// their IDs, add runAsNonRoot: true to each manifest, and give every FILE the gate made a component's
// back to root, read through that component's group (0600 → 0640: the read-only rule of
// docs/ownership.md)" and nothing else: oracle = kubeadm's accounts.txt, its files.txt and its
// manifests, one line added per manifest. Directories the gate gave (etcd's data dir) stay etcd's.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { accessViolations } from '../support/access-proof.js';
import { addSystemDirs, runCli, show } from '../../scripts/lib/cli-run.js';
import { isToolState } from '../support/cli-root.js';
import { buildKubeadmCaseSandbox, listKubeadmCases, type KubeadmCase } from '../../scripts/lib/kubeadm-cases.js';
import { KUBECTL, kubectlStrategicPatch } from '../support/kubectl.js';
import { VERSION } from '../../src/version.js';
import { blockOf, docPath, ownershipTables } from '../../scripts/ownership-table.js';
import { missingPrerequisites, skipUnlessPossible } from '../support/setpriv.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const ACCOUNT_OF: Record<string, string> = { 'etcd.yaml': 'kubeadm-etcd', 'kube-apiserver.yaml': 'kubeadm-kas', 'kube-controller-manager.yaml': 'kubeadm-kcm', 'kube-scheduler.yaml': 'kubeadm-ks' };
const PATCH_OF: Record<string, string> = { 'etcd.yaml': 'etcd+strategic.yaml', 'kube-apiserver.yaml': 'kube-apiserver+strategic.yaml', 'kube-controller-manager.yaml': 'kube-controller-manager+strategic.yaml', 'kube-scheduler.yaml': 'kube-scheduler+strategic.yaml' };

interface PlanJson {
  accounts: Array<{ action: string; name: string; uid?: number; gid: number }>;
  files: unknown[];
  manifests: Array<{ path: string; after: string }>;
  problems: Array<{ code: string; message: string }>;
}

async function planOf(root: string): Promise<PlanJson> {
  const r = await runCli(['plan', '--root', root, '-o', 'json']);
  assert.equal(r.code, 0, `plan: ${show(r)}`);
  return JSON.parse(r.stdout) as PlanJson;
}

/** The gate's accounts from kubeadm's accounts.txt: name → [uid or null, gid]. */
function gateAccounts(c: KubeadmCase): Map<string, { uid: number | null; gid: number }> {
  const out = new Map<string, { uid: number | null; gid: number }>();
  for (const l of c.groupAdded) {
    const f = l.split(':');
    out.set(`group ${f[0]}`, { uid: null, gid: Number(f[2]) });
  }
  for (const l of c.passwdAdded) {
    const f = l.split(':');
    out.set(`user ${f[0]}`, { uid: Number(f[2]), gid: Number(f[3]) });
  }
  return out;
}

function assertGatePlan(c: KubeadmCase, plan: PlanJson): void {
  const gate = gateAccounts(c);
  assert.ok(gate.size >= 8, `${c.id}: kubeadm's gate added its accounts (accounts.txt has ${gate.size} lines)`);
  const planned = new Map(plan.accounts.map((a) => [`${a.action.endsWith('group') ? 'group' : 'user'} ${a.name}`, a]));
  for (const a of plan.accounts) assert.match(a.action, /^reuse-(user|group)$/, `${c.id}: the plan must only reuse accounts, not ${a.action} ${a.name}`);
  for (const [key, ids] of gate) {
    if (key === 'group kubeadm-sa-key-readers' || key.startsWith('group ')) {
      const p = planned.get(key);
      assert.ok(p, `${c.id}: the plan reuses ${key}`);
      assert.equal(p.gid, ids.gid, `${c.id}: ${key} keeps gid ${ids.gid}`);
    } else {
      const p = planned.get(key);
      assert.ok(p, `${c.id}: the plan reuses ${key}`);
      assert.deepEqual([p.uid, p.gid], [ids.uid, ids.gid], `${c.id}: ${key} keeps its IDs`);
    }
  }
  const componentUsers = new Set(Object.values(ACCOUNT_OF));
  const expected = c.listing
    .filter((l) => l.type === 'file' && componentUsers.has(l.user))
    .map((l) => ({ path: l.path, desired: `root:${l.group} ${(((l.mode & 0o600) | 0o440) >>> 0).toString(8)}` }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  assert.ok(expected.length > 0, `${c.id}: the gate gave files to components`);
  const files = (plan.files as Array<{ path: string; desired: { user?: string; group?: string; mode: number } }>).map((f) => ({ path: f.path, desired: `${f.desired.user}:${f.desired.group} ${f.desired.mode.toString(8)}` }));
  assert.deepEqual(files, expected, `${c.id}: the files the gate gave to components go back to root, read through the component's group`);
  assert.deepEqual(plan.manifests.map((m) => path.posix.basename(m.path)).sort(), Object.keys(c.manifests).sort(), `${c.id}: every manifest gets runAsNonRoot`);
  for (const m of plan.manifests) {
    const before = c.manifests[path.posix.basename(m.path)]!;
    const b = before.split('\n');
    const a = m.after.split('\n');
    const addedLines = a.filter((l, i) => a.slice(0, i).filter((x) => x === l).length >= b.filter((x) => x === l).length);
    assert.equal(a.length, b.length + 1, `${c.id}: ${m.path} gains exactly one line`);
    assert.deepEqual(addedLines.map((l) => l.trim()), ['runAsNonRoot: true'], `${c.id}: ${m.path} only adds runAsNonRoot`);
    const pod = parse(m.after) as { spec: { securityContext: Record<string, unknown> } };
    assert.equal(pod.spec.securityContext.runAsNonRoot, true, `${c.id}: ${m.path} pod securityContext.runAsNonRoot`);
    delete pod.spec.securityContext.runAsNonRoot;
    assert.deepEqual(pod, parse(before), `${c.id}: ${m.path} is otherwise kubeadm's`);
  }
}

/** The header names the tool version that wrote a patch; what kubeadm reads (the YAML) is compared exactly. */
const versionless = (files: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(files).map(([f, t]) => [f, t.replace(/^(# .*written by kubeadm-nonroot )\S+\.$/m, '$1<version>.')]));

const cases = listKubeadmCases();

describe('kubeadm-generated cases', { concurrency: 2 }, () => {
  it('there are generated cases, each with its manifests, listing and config', () => {
    assert.ok(cases.length > 0, 'test/fixtures/kubeadm has no case: run npm run fixtures:kubeadm');
    for (const c of cases) {
      assert.ok(Object.keys(c.manifests).length >= 3, `${c.id}: manifests`);
      assert.ok(c.listing.some((e) => e.path === '/etc/kubernetes/admin.conf'), `${c.id}: files.txt lists admin.conf`);
      assert.match(c.config, new RegExp(`kubernetesVersion: ${c.release.replace(/\./g, '\\.')}\\n`), `${c.id}: config names the release`);
      assert.deepEqual(Object.keys(c.kubeadmPatched).sort(), Object.keys(c.manifests).sort(), `${c.id}: kubeadm-patched/ has every manifest: regenerate with npm run fixtures:kubeadm`);
    }
  });

  it('docs/ownership.md: the per-release tables are what the listings and plan give (npm run docs:ownership)', { timeout: 600_000 }, async (t) => {
    if (skipUnlessPossible(t, missingPrerequisites())) return;
    const block = blockOf(await readFile(docPath(), 'utf8'));
    assert.ok(block, 'docs/ownership.md has the generated block');
    assert.equal(block, await ownershipTables(), 'docs/ownership.md is stale: run npm run docs:ownership');
  });

  for (const c of cases) {
    it(`${c.id}: plan, apply, verify, kernel proof, patches, rollback`, { timeout: 180_000 }, async (t) => {
      if (skipUnlessPossible(t, [...missingPrerequisites(), ...(KUBECTL ? [] : ['kubectl is not installed'])])) return;
      const sb = await buildKubeadmCaseSandbox(c);
      const patchDir = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-patches-'));
      try {
        await addSystemDirs(sb.root);
        const before = await snapshotTree(sb.root);

        const plan = await planOf(sb.root);
        assert.deepEqual(plan.problems, [], `${c.id}: no blocking problem`);
        if (c.name === 'rootless-gate') assertGatePlan(c, plan);
        else {
          const users = plan.accounts.filter((a) => a.action === 'create-user').map((a) => a.name).sort();
          assert.deepEqual(users, Object.keys(c.manifests).map((f) => ACCOUNT_OF[f]!).sort(), `${c.id}: one new account per component`);
        }

        const apply = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 120_000 });
        assert.equal(apply.code, 0, `apply: ${show(apply)}`);
        const verify = await runCli(['verify', '--root', sb.root]);
        assert.equal(verify.code, 0, `verify: ${show(verify)}`);
        const again = await planOf(sb.root);
        assert.deepEqual([again.files.length, again.manifests.length, again.accounts.filter((a) => !a.action.startsWith('reuse-')).length], [0, 0, 0], `${c.id}: nothing left to do after apply`);

        const violations = await accessViolations(sb);
        assert.deepEqual(violations, [], `kernel access checks failed in ${c.id}:\n${violations.join('\n')}`);

        const patches = await runCli(['patches', '--root', sb.root, '--output-dir', patchDir]);
        assert.equal(patches.code, 0, `patches: ${show(patches)}`);
        assert.deepEqual((await readdir(patchDir)).sort(), Object.keys(c.manifests).map((f) => PATCH_OF[f]!).sort(), `${c.id}: one patch per component`);
        const written = Object.fromEntries(await Promise.all((await readdir(patchDir)).map(async (f) => [f, await readFile(path.join(patchDir, f), 'utf8')] as const)));
        assert.match(Object.values(written)[0]!, new RegExp(`written by kubeadm-nonroot ${VERSION.replace(/\./g, '\\.')}\\.`), 'the header names the tool version');
        assert.deepEqual(versionless(written), versionless(c.patches), `${c.id}: the tool's patches are not the ones kubeadm ${c.release} was run with (${c.dir}/patches): regenerate with npm run fixtures:kubeadm`);
        for (const f of Object.keys(c.manifests)) {
          // Byte for byte: apply edits kubeadm's manifest in place in kubeadm's own layout, and on every
          // committed case that is exactly what kubeadm itself serialises with the patches.
          const applied = await readFile(path.join(sb.manifestsDir, f), 'utf8');
          assert.equal(applied, c.kubeadmPatched[f], `${c.id}: apply's ${f} equals, byte for byte, the one kubeadm ${c.release} wrote with the patches (${c.dir}/kubeadm-patched/${f})`);
        }
        for (const f of Object.keys(c.manifests)) {
          const patched = await kubectlStrategicPatch(path.join(c.dir, 'manifests', f), path.join(patchDir, PATCH_OF[f]!));
          const applied = parse(await readFile(path.join(sb.manifestsDir, f), 'utf8'));
          assert.deepEqual(patched, applied, `${c.id}: kubeadm's ${f} + ${PATCH_OF[f]} (kubectl strategic merge) equals apply's ${f}`);
        }

        const rollback = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 120_000 });
        assert.equal(rollback.code, 0, `rollback: ${show(rollback)}`);
        const after = await snapshotTree(sb.root);
        const diff = diffSnapshots(before, after, { ignore: isToolState });
        assert.deepEqual(diff, [], `${c.id}: rollback restores the tree kubeadm left`);
      } finally {
        await rm(patchDir, { recursive: true, force: true });
        await sb.cleanup();
      }
    });
  }
});
