// apply with its health gates ON and no kubelet to restart anything: the first gate waits, showing the
// elapsed time and its last observation. A SIGTERM, SIGINT or SIGHUP (an SSH session that dropped) then,
// or the gate's own timeout, must undo every change and leave the tree as it was. With no kubelet the
// restored etcd cannot be seen healthy either: every change is undone, only its health is unconfirmed —
// exit 1 ("failed and rolled back") with "restored, health unconfirmed", not exit 3 (rollback failed).
// A second signal stops the rollback's wait for health, never its undos.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { addSystemDirs, runCli, show, startCli } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const FIXTURE = 'v1.31-ubuntu-stacked-kube-vip';

/** Resolves once the child's stderr matches `re`. */
function stderrMatches(child: ChildProcess, re: RegExp): Promise<void> {
  let seen = '';
  return new Promise<void>((resolve) => {
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (re.test(seen)) resolve();
    });
  });
}

describe('interrupting apply', { skip: NEEDS_ROOT }, () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`${signal} while a health gate waits rolls back: changes undone, tree restored, health unconfirmed (exit 1)`, async () => {
      const sb = await buildSandbox({ fixture: FIXTURE });
      try {
        await addSystemDirs(sb.root);
        const original = await snapshotTree(sb.root);
        const { child, done } = startCli(['apply', '--root', sb.root, '--yes', '--timeout', '4s'], { timeoutMs: 90_000 });
        // The gate's progress: elapsed time and the last observation.
        await stderrMatches(child, /… etcd: \d+s: no new etcd process since the manifest was written/);
        child.kill(signal);
        const r = await done;
        assert.equal(r.code, 1, show(r));
        assert.match(r.stderr, new RegExp(`${signal}: stopping the apply and rolling back every change made so far`));
        assert.match(r.stderr, /apply failed and was rolled back \(backup \S+\): etcd: interrupted while waiting for it to become healthy/);
        assert.match(r.stderr, /restored, health unconfirmed: etcd: /);
        assert.doesNotMatch(r.stderr, /rollback failure|Manual steps/);
        assert.match(r.stderr, /↶ undo: write \/etc\/kubernetes\/manifests\/etcd\.yaml/);
        assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState }), []);
      } finally {
        await sb.cleanup();
      }
    });
  }

  it('a second SIGINT stops the rollback waiting for the restored etcd, not its undos', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await addSystemDirs(sb.root);
      const original = await snapshotTree(sb.root);
      const { child, done } = startCli(['apply', '--root', sb.root, '--yes', '--timeout', '5m'], { timeoutMs: 90_000 });
      await stderrMatches(child, /waiting for the kubelet to restart etcd/);
      const started = Date.now();
      child.kill('SIGINT');
      await stderrMatches(child, /restored; waiting for the kubelet to restart etcd as uid 0/);
      child.kill('SIGINT');
      const r = await done;
      assert.ok(Date.now() - started < 60_000, 'did not wait the 5m timeout');
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /SIGINT: no longer waiting for restored components to become healthy; every change is still undone/);
      assert.match(r.stderr, /restored, health unconfirmed: etcd/);
      assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState }), []);
    } finally {
      await sb.cleanup();
    }
  });

  it('a health gate that times out rolls back: exit 1 with the last observation', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await addSystemDirs(sb.root);
      const original = await snapshotTree(sb.root);
      // The rollback waits for the restored etcd too; with no kubelet that wait times out as well: the
      // node is restored, only the restored etcd's health is unconfirmed.
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--timeout', '2s'], { timeoutMs: 60_000 });
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /etcd did not become healthy within 2s: no new etcd process since the manifest was written/);
      assert.match(r.stderr, /restored, health unconfirmed: etcd: etcd did not become healthy within 2s/);
      assert.doesNotMatch(r.stderr, /Manual steps to restore the node:/);
      assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState }), []);
    } finally {
      await sb.cleanup();
    }
  });

  it('rollback whose restored components cannot be seen healthy: exit 0, each named in JSON with how to check it', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await addSystemDirs(sb.root);
      const original = await snapshotTree(sb.root);
      const a = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(a.code, 0, show(a));
      // No kubelet: every restored component's wait times out; every change is still undone.
      const r = await runCli(['rollback', '--root', sb.root, '--yes', '--timeout', '1s', '-o', 'json'], { timeoutMs: 90_000 });
      assert.equal(r.code, 0, show(r));
      const out = JSON.parse(r.stdout) as { outcome: string; healthUnconfirmed: Array<{ component: string; reason: string; check: string }> };
      assert.equal(out.outcome, 'rolled-back');
      assert.deepEqual(out.healthUnconfirmed.map((u) => u.component).sort(), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
      for (const u of out.healthUnconfirmed) {
        assert.match(u.reason, new RegExp(`^${u.component} did not become healthy within 1s`));
        assert.equal(u.check, `crictl ps -a --name ${u.component}; journalctl -u kubelet`);
      }
      assert.match(r.stderr, /restored, health unconfirmed: etcd: etcd did not become healthy within 1s.*; check it with: crictl ps -a --name etcd/);
      assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState }), []);
    } finally {
      await sb.cleanup();
    }
  });
});
