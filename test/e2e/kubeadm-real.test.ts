// The real kubeadm of each release, where its binary is in the Kubernetes build cache
// (scripts/k8s-build.ts, /var/cache/kubeadm-nonroot-k8s/<release>/bin/kubeadm):
//   1. regenerating every committed case of the release (test/fixtures/kubeadm/<release>/) gives the
//      same bytes — manifests, listing, accounts, config: the fixtures are kubeadm's output, not edited;
//   2. kubeadm applies kubeadm-nonroot's patch files itself — the same phases on the same config, plus
//      InitConfiguration `patches: {directory: DIR}` (what `--patches DIR` sets; kubeadm refuses the flag
//      together with --config), in a throwaway root — and writes exactly the manifests `apply` wrote
//      (compared as parsed YAML: kubeadm re-serialises).
// Which releases: every one that is cached. Building all sixteen takes hours, so CI builds only some:
// REQUIRED (or KUBEADM_NONROOT_REAL_KUBEADM=v1.x.y,…) must be cached when KUBEADM_NONROOT_REQUIRE_E2E=1
// — a missing one FAILS, it never skips. Releases neither cached nor required are covered by
// kubeadm-generated.test.ts only (real strategic merge with kubectl); the coverage test names them.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { cachedKubeadm, caseFiles, configWithPatches, generateCase, phasesFor, readCaseFiles, RELEASES, withKubeadmRoot, type CaseName } from '../../scripts/kubeadm-fixtures.js';
import { addSystemDirs, runCli, show } from '../support/cli.js';
import { buildKubeadmCaseSandbox, listKubeadmCases } from '../support/kubeadm-cases.js';
import { skipUnlessPossible } from '../support/prerequisites.js';
import { missingPrerequisites } from '../support/setpriv.js';

/** The releases .ci/run builds kubeadm for (the real-node tests' release). */
const REQUIRED = (process.env.KUBEADM_NONROOT_REAL_KUBEADM ?? 'v1.36.3').split(',').filter(Boolean);

const cases = listKubeadmCases();
const committed = [...new Set(cases.map((c) => c.release))];
const cached = committed.filter((r) => cachedKubeadm(r) !== null);

describe('real kubeadm on the generated cases', () => {
  it('coverage: the required releases have a cached kubeadm', (t) => {
    const missing = REQUIRED.filter((r) => cachedKubeadm(r) === null);
    const notCommitted = REQUIRED.filter((r) => !committed.includes(r));
    assert.deepEqual(notCommitted, [], `required releases without committed fixtures (known: ${RELEASES.join(' ')})`);
    t.diagnostic(`checked with the real kubeadm: ${cached.join(' ') || 'none'}; kubectl strategic merge only: ${committed.filter((r) => !cached.includes(r)).join(' ') || 'none'}`);
    skipUnlessPossible(t, missing.length ? [`kubeadm ${missing.join(', ')} is not built: npm run k8s:build -- ${missing[0]} --only kubeadm`] : []);
  });

  for (const c of cases.filter((x) => cached.includes(x.release))) {
    const kubeadm = cachedKubeadm(c.release)!;
    it(`${c.id}: regenerating gives the committed bytes`, { timeout: 180_000 }, async (t) => {
      if (skipUnlessPossible(t, missingPrerequisites())) return;
      const out = await generateCase(kubeadm, c.release, c.name as CaseName);
      assert.deepEqual(caseFiles(out), await readCaseFiles(c.dir));
    });

    it(`${c.id}: kubeadm's patches (the directory "kubeadm-nonroot patches" writes) write apply's manifests`, { timeout: 180_000 }, async (t) => {
      if (skipUnlessPossible(t, missingPrerequisites())) return;
      const sb = await buildKubeadmCaseSandbox(c);
      const patchDir = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-patches-'));
      try {
        await addSystemDirs(sb.root);
        const apply = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 120_000 });
        assert.equal(apply.code, 0, `apply: ${show(apply)}`);
        const patches = await runCli(['patches', '--root', sb.root, '--output-dir', patchDir]);
        assert.equal(patches.code, 0, `patches: ${show(patches)}`);
        const written = await withKubeadmRoot(kubeadm, configWithPatches(c.config, '/patches'), async (root, kubeadmIn) => {
          await cp(patchDir, path.join(root, 'patches'), { recursive: true });
          for (const args of phasesFor(c.name as CaseName)) await kubeadmIn([...args, '--config', '/kubeadm.yaml']);
          const dir = path.join(root, 'etc/kubernetes/manifests');
          return Object.fromEntries(await Promise.all((await readdir(dir)).sort().map(async (f) => [f, await readFile(path.join(dir, f), 'utf8')] as const)));
        });
        assert.deepEqual(Object.keys(written).sort(), Object.keys(c.manifests).sort());
        for (const [f, text] of Object.entries(written)) {
          assert.deepEqual(parse(text), parse(await readFile(path.join(sb.manifestsDir, f), 'utf8')), `${c.id}: kubeadm's ${f} with the patches equals apply's`);
        }
      } finally {
        await rm(patchDir, { recursive: true, force: true });
        await sb.cleanup();
      }
    });
  }
});
