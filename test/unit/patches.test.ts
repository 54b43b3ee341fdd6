// kubeadm patch files, checked by the real thing, never by a stand-in of ours:
//   - every fixture's manifests + the patch files `patches` renders, merged by kubectl's strategic merge
//     (`kubectl patch --local --type strategic`: apimachinery's strategicpatch with the Pod's patch
//     strategies, the same call kubeadm's --patches makes — cmd/kubeadm/app/util/patches/patches.go,
//     ApplyPatchesToTarget), equal the manifests apply writes, both sides read by Go (kubectl);
//   - the real kubeadm (where its binary is in the Kubernetes build cache; CI builds it) applies the
//     directory `kubeadm-nonroot patches` writes: it takes every file, under the name we give it, as a
//     strategic merge patch of its component, and writes exactly what kubectl's merge gives — so kubectl
//     is a faithful oracle for kubeadm's patcher.
// kubeadm's patch file names (patches.go, parseFilename): `target[suffix][+patchtype].extension`, target
// one of etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubeletconfiguration,
// corednsdeployment; patchtype strategic (the default when omitted), merge or json; extension yaml or
// json. Any other name is ignored with a "[patches] Ignoring file" line; a `+` without a known type is
// an error. Ours are `<component>+strategic.yaml`.
// Without kubectl (or, for the second part, root and the cached kubeadm) these skip through
// skipOrFail, which FAILS under KUBEADM_NONROOT_REQUIRE_E2E=1.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { cachedKubeadm, phasesFor, withKubeadmRoot } from '../../scripts/kubeadm-fixtures.js';
import { seccompStyle } from '../../src/model/version.js';
import { defaultConfig } from '../../src/plan/config.js';
import { patchFileName, renderPatch } from '../../src/plan/patches.js';
import { buildPlan } from '../../src/plan/plan.js';
import { addSystemDirs, runCli, show } from '../../scripts/lib/cli-run.js';
import { fixtureNode } from '../support/fixture-node.js';
import { buildKubeadmCaseSandbox, readKubeadmCase } from '../../scripts/lib/kubeadm-cases.js';
import { KUBECTL_MISSING, kubectlRead, kubectlStrategicPatch } from '../support/kubectl.js';
import { REPO_ROOT } from '../../scripts/lib/paths.js';
import { skipOrFail } from '../support/prerequisites.js';
import { listFixtures } from '../../scripts/lib/sandbox.js';

const template = (name: string) => readFileSync(join(REPO_ROOT, 'templates', 'patches', name), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'kubeadm-nonroot-patches-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Merge {
  /** The node's manifest before apply, the rendered patch, apply's manifest: files under `tmp`. */
  original: string;
  patch: string;
  applied: string;
}

/**
 * Every fixture's merges, written out, and Go's reading of ALL of apply's manifests in one kubectl call
 * (file → object). Built once, on first use.
 */
let prepared: Promise<{ merges: Map<string, Merge[]>; goRead: Map<string, unknown> }> | null = null;
function prepare() {
  prepared ??= (async () => {
    const merges = new Map<string, Merge[]>();
    for (const c of listFixtures()) {
      const node = fixtureNode(c);
      const plan = buildPlan(node, defaultConfig(), { now: new Date(0) });
      const dir = join(tmp, c);
      await mkdir(dir);
      const list: Merge[] = [];
      for (const m of plan.manifests) {
        const id = plan.components.find((x) => x.component === m.component)!.identity!;
        const base = path.posix.basename(m.path);
        const f: Merge = { original: join(dir, `original-${base}`), patch: join(dir, patchFileName(m.component)), applied: join(dir, `applied-${base}`) };
        await writeFile(f.original, node.manifests.find((x) => x.path === m.path)!.text);
        await writeFile(f.patch, renderPatch(template(patchFileName(m.component)), id, '0.0.0', seccompStyle(plan.kubernetesVersion)));
        await writeFile(f.applied, m.after);
        list.push(f);
      }
      merges.set(c, list);
    }
    const applied = [...merges.values()].flat().map((m) => m.applied);
    const objects = await kubectlRead(applied);
    assert.equal(objects.length, applied.length, 'kubectl read one object per manifest');
    return { merges, goRead: new Map(applied.map((f, i) => [f, objects[i]])) };
  })();
  return prepared;
}

const SKIP = skipOrFail(KUBECTL_MISSING);

describe('kubeadm patches, merged by kubectl (real strategic merge)', { concurrency: 3 }, () => {
  for (const c of listFixtures()) {
    it(`${c}: the node's manifests + the patches = apply's manifests`, { skip: SKIP }, async () => {
      const { merges, goRead } = await prepare();
      const list = merges.get(c)!;
      assert.ok(list.length > 0, `${c}: apply changes no manifest`);
      // One kubectl per manifest (each has its own patch), all at once.
      const patched = await Promise.all(list.map((m) => kubectlStrategicPatch(m.original, m.patch)));
      list.forEach((m, i) => assert.deepEqual(patched[i], goRead.get(m.applied), `${c}: ${path.basename(m.original)} + ${path.basename(m.patch)}`));
    });
  }
});

/** The release CI builds kubeadm for (.ci/run; kubeadm-real.test.ts REQUIRED). */
const RELEASE = 'v1.36.3';
const KUBEADM = cachedKubeadm(RELEASE);
const NO_KUBEADM =
  [
    process.getuid?.() === 0 ? null : 'not running as root (kubeadm runs chrooted in a throwaway root)',
    KUBEADM ? null : `kubeadm ${RELEASE} is not built: npm run k8s:build -- ${RELEASE} --only kubeadm`,
    KUBECTL_MISSING,
  ].filter(Boolean).join('; ') || false;

describe(`kubeadm ${RELEASE} itself`, () => {
  it('applies every file `patches` writes, by its name, as kubectl merges it', { skip: skipOrFail(NO_KUBEADM), timeout: 180_000 }, async () => {
    const c = readKubeadmCase(RELEASE, 'default');
    const sb = await buildKubeadmCaseSandbox(c);
    const patchDir = join(tmp, 'kubeadm-patches');
    try {
      await addSystemDirs(sb.root);
      // patches names only accounts that exist (it refuses otherwise): migrate the node first, as docs/upgrade.md has it.
      const apply = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 120_000 });
      assert.equal(apply.code, 0, `apply: ${show(apply)}`);
      const r = await runCli(['patches', '--root', sb.root, '--output-dir', patchDir]);
      assert.equal(r.code, 0, `patches: ${show(r)}`);
    } finally {
      await sb.cleanup();
    }
    const names = (await readdir(patchDir)).sort();
    assert.deepEqual(names, Object.keys(c.manifests).map((f) => `${f.replace(/\.yaml$/, '')}+strategic.yaml`).sort());

    // `--patches DIR` cannot be combined with --config (kubeadm's validation.go, isAllowedFlag): the
    // InitConfiguration's `patches.directory` is the same setting.
    const [init, ...rest] = c.config.split('\n---\n');
    const config = [`${init}\npatches:\n  directory: /patches`, ...rest].join('\n---\n');
    const out = join(tmp, 'kubeadm-out');
    await mkdir(out);
    const log = await withKubeadmRoot(KUBEADM!, config, async (root, kubeadmIn) => {
      await mkdir(join(root, 'patches'));
      for (const n of names) await writeFile(join(root, 'patches', n), await readFile(join(patchDir, n)));
      let text = '';
      for (const args of phasesFor('default').filter((p) => p.includes('control-plane') || p.includes('etcd'))) text += await kubeadmIn([...args, '--config', '/kubeadm.yaml']);
      const dir = join(root, 'etc/kubernetes/manifests');
      for (const f of await readdir(dir)) writeFileSync(join(out, f), await readFile(join(dir, f)));
      return text;
    });

    // Every file taken, as a strategic merge patch of the component its name says; none ignored.
    assert.doesNotMatch(log, /\[patches\] Ignoring/, log);
    const applied = [...log.matchAll(/\[patches\] Applied patch of type "([^"]+)" to target "([^"]+)"/g)].map((m) => `${m[2]}+${m[1]}`).sort();
    assert.deepEqual(applied, names.map((n) => `${n.replace(/\+strategic\.yaml$/, '')}+application/strategic-merge-patch+json`).sort(), log);

    // kubeadm's own merge = kubectl's merge of the same patch into the manifest kubeadm writes without it.
    const files = Object.keys(c.manifests).sort();
    const read = await kubectlRead([...files.map((f) => join(out, f)), ...files.map((f) => join(c.dir, 'manifests', f))]);
    const byKubectl = await Promise.all(files.map((f) => kubectlStrategicPatch(join(c.dir, 'manifests', f), join(patchDir, `${f.replace(/\.yaml$/, '')}+strategic.yaml`))));
    files.forEach((f, i) => {
      assert.deepEqual(byKubectl[i], read[i], `${f}: kubeadm's --patches and kubectl's strategic merge differ`);
      // …and the patch did something (a no-op patch would make both sides trivially equal).
      assert.notDeepEqual(read[i], read[files.length + i], `${f}: the patch changed nothing`);
    });
  });
});

describe('patch rendering', () => {
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
