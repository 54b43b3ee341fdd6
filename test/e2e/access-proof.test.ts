// The kernel, not the tool, decides whether the migrated components can read what they need and
// nothing else. For every fixture case that `apply --no-wait` migrates, and for every kubeadm component
// in it, a process with that component's UID, GID and supplementary groups from its MIGRATED manifest
// (no capabilities at all: bounding set empty, so no DAC_OVERRIDE) asks the kernel (test -r / -w / -x):
//   - every host file the component's manifest references (analyzeAccess, mapped into the sandbox)
//     must be readable, every directory it writes (etcd data dir, audit log dir, cert dirs) readable,
//     writable and searchable;
//   - every secret it does NOT reference must be refused: the private keys and kubeconfigs of the other
//     components (scheduler vs apiserver.key, etcd vs sa.key, anyone but kcm vs ca.key), and the files
//     no component reads, which only root may (admin.conf, super-admin.conf, kubelet.conf,
//     etcd/ca.key, front-proxy-ca.key, /etc/shadow).
// Skipped only when not root or setpriv is absent, and then FAILS instead when KUBEADM_NONROOT_REQUIRE_E2E=1.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { accessViolations } from '../support/access-proof.js';
import { buildSandbox, listFixtures } from '../support/sandbox.js';
import { missingPrerequisites, skipUnlessPossible } from '../support/setpriv.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(REPO, 'bin/kubeadm-nonroot');

for (const fixture of listFixtures()) {
  test(`kernel access proof after apply: ${fixture}`, { timeout: 120_000 }, async (t) => {
    if (skipUnlessPossible(t, missingPrerequisites())) return;
    const sb = await buildSandbox({ fixture });
    try {
      const apply = await execa(process.execPath, [CLI, 'apply', '--root', sb.root, '--yes', '--no-wait'], { reject: false, stdin: 'ignore' });
      if (apply.exitCode === 2) {
        // Refused or blocked: nothing was migrated, so there is nothing to prove here.
        t.skip(`apply refused this case (exit 2): ${apply.stderr.trim().split('\n').pop()}`);
        return;
      }
      assert.equal(apply.exitCode, 0, `apply --no-wait failed (${apply.exitCode}):\n${apply.stdout}\n${apply.stderr}`);

      const violations = await accessViolations(sb);
      assert.deepEqual(violations, [], `kernel access checks failed in ${fixture}:\n${violations.join('\n')}`);
    } finally {
      await sb.cleanup();
    }
  });
}
