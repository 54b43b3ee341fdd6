// The real kubeadm of each release, where its binary is in the Kubernetes build cache
// (scripts/k8s-build.ts, /var/cache/kubeadm-nonroot-k8s/<release>-<recipe>/bin/kubeadm): regenerating every
// committed case of the release (test/fixtures/kubeadm/<release>/) gives the same bytes — manifests,
// listing, accounts, config, and the patch oracle: `kubeadm-nonroot apply` + `patches` on a sandbox laid
// out from the listing, then this kubeadm running the same phases on the same config plus InitConfiguration
// `patches: {directory: DIR}` (what `--patches DIR` sets; kubeadm refuses the flag together with --config)
// writes exactly the committed kubeadm-patched/ manifests. With test/integration/kubeadm-generated.test.ts
// (apply's manifests == kubeadm-patched/, byte for byte) that proves kubeadm's own --patches writes what
// apply writes; a second kubeadm run per case to compare them directly would add nothing but time.
// Which releases: every one that is cached. Building all sixteen takes hours, so CI builds only some:
// REQUIRED (or KUBEADM_NONROOT_REAL_KUBEADM=v1.x.y,…) must be cached when KUBEADM_NONROOT_REQUIRE_E2E=1
// — a missing one FAILS, it never skips. Releases neither cached nor required are covered by
// kubeadm-generated.test.ts only (real strategic merge with kubectl); the coverage test names them.
// Two cases at a time (each is mostly waiting on kubeadm and the CLI's child processes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cachedKubeadm, caseFiles, generateCase, readCaseFiles, RELEASES, type CaseName } from '../../scripts/kubeadm-fixtures.js';
import { listKubeadmCases } from '../../scripts/lib/kubeadm-cases.js';
import { skipUnlessPossible } from '../support/prerequisites.js';
import { missingPrerequisites } from '../support/setpriv.js';

/**
 * The releases checked with their real kubeadm: by default the two .ci/run builds kubeadm for (the
 * real-node flow's v1.36.3 → v1.37.2), which must then be cached. KUBEADM_NONROOT_REAL_KUBEADM names
 * others (comma-separated), or `all` for every committed release whose kubeadm is cached — each case
 * reruns kubeadm twice (its phases, then with the tool's patches), about 6.5 CPU-s, so all sixteen
 * releases add a quarter of an hour, and a developer's machine may hold any subset.
 */
const ASKED = process.env.KUBEADM_NONROOT_REAL_KUBEADM ?? 'v1.36.3,v1.37.2';
const REQUIRED = ASKED === 'all' ? [] : ASKED.split(',').filter(Boolean);

const cases = listKubeadmCases();
const committed = [...new Set(cases.map((c) => c.release))];
const cached = committed.filter((r) => cachedKubeadm(r) !== null && (ASKED === 'all' || REQUIRED.includes(r)));

describe('real kubeadm on the generated cases', { concurrency: 2 }, () => {
  it('coverage: the required releases have a cached kubeadm', (t) => {
    const missing = REQUIRED.filter((r) => cachedKubeadm(r) === null);
    const notCommitted = REQUIRED.filter((r) => !committed.includes(r));
    assert.deepEqual(notCommitted, [], `required releases without committed fixtures (known: ${RELEASES.join(' ')})`);
    t.diagnostic(`checked with the real kubeadm: ${cached.join(' ') || 'none'}; committed fixtures only (KUBEADM_NONROOT_REAL_KUBEADM=all checks every cached release): ${committed.filter((r) => !cached.includes(r)).join(' ') || 'none'}`);
    skipUnlessPossible(t, missing.length ? [`kubeadm ${missing.join(', ')} is not built: npm run k8s:build -- ${missing[0]} --only kubeadm`] : []);
  });

  for (const c of cases.filter((x) => cached.includes(x.release))) {
    const kubeadm = cachedKubeadm(c.release)!;
    it(`${c.id}: regenerating gives the committed bytes`, { timeout: 180_000 }, async (t) => {
      if (skipUnlessPossible(t, missingPrerequisites())) return;
      const out = await generateCase(kubeadm, c.release, c.name as CaseName);
      assert.deepEqual(caseFiles(out), await readCaseFiles(c.dir), `${c.id}: kubeadm ${c.release} (and its patch oracle) no longer gives the committed files: regenerate with npm run fixtures:kubeadm -- ${c.release} and review the diff`);
    });
  }
});
