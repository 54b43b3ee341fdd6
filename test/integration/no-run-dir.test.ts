// A sandbox root without /run (real nodes always have one): the lock's directory exists only for the
// lock's lifetime, so a refused run leaves the tree exactly as it was — no stray /run either.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runCli, show } from '../../scripts/lib/cli-run.js';
import { NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

describe('lock directory', { skip: NEEDS_ROOT }, () => {
  it('a refused apply on a root without /run leaves no /run behind', async () => {
    const s = await buildSandbox({ fixture: 'v1.19-kind-oidc-apiserver-only' });
    try {
      assert.equal(existsSync(s.path('/run')), false, 'precondition: no /run in this sandbox');
      await writeFile(s.path('/etc/kubernetes/manifests/kube-apiserver.yaml'), 'kind: Pod\nspec: [unclosed\n');
      const before = await snapshotTree(s.root);
      const r = await runCli(['apply', '--root', s.root, '--yes', '--no-wait']);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /kube-apiserver\.yaml/);
      assert.deepEqual(diffSnapshots(before, await snapshotTree(s.root)), []);
    } finally {
      await s.cleanup();
    }
  });
});
