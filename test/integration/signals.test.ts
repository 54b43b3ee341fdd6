// apply with its health gates ON and no kubelet to restart anything: the first gate waits. A SIGTERM or
// SIGINT then, or the gate's own timeout, must undo every change and leave the tree as it was. With no
// kubelet the restored etcd cannot be seen healthy either, so the run ends with exit 3 and the manual
// steps — the honest answer when a rollback's health cannot be confirmed. (With a kubelet double and a
// real etcd, the same interruption ends in exit 1: test/e2e/etcd.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addSystemDirs, isToolState, NEEDS_ROOT, runCli, show, startCli } from '../support/cli.js';
import { buildSandbox } from '../support/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const FIXTURE = 'v1.31-ubuntu-stacked-kube-vip';

describe('interrupting apply', { skip: NEEDS_ROOT }, () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} while a health gate waits rolls back: changes undone, tree restored`, async () => {
      const sb = await buildSandbox({ fixture: FIXTURE });
      try {
        await addSystemDirs(sb.root);
        const original = await snapshotTree(sb.root);
        const { child, done } = startCli(['apply', '--root', sb.root, '--yes', '--timeout', '6s'], { timeoutMs: 90_000 });
        let seen = '';
        await new Promise<void>((resolve) => {
          child.stderr!.on('data', (d: Buffer) => {
            seen += d.toString();
            if (seen.includes('waiting for the kubelet to restart etcd')) resolve();
          });
        });
        child.kill(signal);
        const r = await done;
        assert.equal(r.code, 3, show(r));
        assert.match(r.stderr, /apply failed: etcd: interrupted while waiting for it to become healthy/);
        assert.match(r.stderr, /rollback failure: restored etcd did not become healthy/);
        assert.match(r.stderr, /↶ undo: write \/etc\/kubernetes\/manifests\/etcd\.yaml/);
        assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState }), []);
      } finally {
        await sb.cleanup();
      }
    });
  }

  it('a health gate that times out rolls back: exit 1 with the last observation', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await addSystemDirs(sb.root);
      const original = await snapshotTree(sb.root);
      // The rollback waits for the restored etcd too; with no kubelet it times out as well, so the run
      // ends with exit 3 and manual steps — unless the rollback's gates are skipped the same way.
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--timeout', '2s'], { timeoutMs: 60_000 });
      assert.equal(r.code, 3, show(r));
      assert.match(r.stderr, /etcd did not become healthy within 2s: no new etcd process since the manifest was written/);
      assert.match(r.stderr, /Manual steps to restore the node:/);
      // Every change itself was undone; only the restored etcd's health could not be confirmed.
      assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState }), []);
    } finally {
      await sb.cleanup();
    }
  });
});
