// apply and rollback in each user-namespace mode, on a node where every prerequisite holds
// (test/support/userns-node.ts), with --no-wait (no kubelet here; the gates' user-namespace reading is
// test/unit/idmap.test.ts). What the modes mean (docs/user-namespaces.md): every static pod gets
// spec.hostUsers: false; with-accounts keeps today's accounts, owners, modes and runAsUser; only
// creates no account and changes no file's owner or mode and sets no runAsUser. The record says the
// mode; rollback returns the node to exactly what it was; leaving a mode goes through rollback.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { addSystemDirs, runCli, show } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT } from '../support/cli-root.js';
import { skipUnlessPossible } from '../support/prerequisites.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';
import { UsernsNodes, type UsernsNode } from '../support/userns-node.js';

const nodes = new UsernsNodes();
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

async function pods(n: UsernsNode): Promise<Array<{ spec: { hostUsers?: boolean; securityContext?: { runAsUser?: number } } }>> {
  return Promise.all(COMPONENTS.map(async (c) => parse(await readFile(n.path(`/etc/kubernetes/manifests/${c}.yaml`), 'utf8'))));
}

async function record(n: UsernsNode): Promise<{ status: string; config: { userNamespaces?: string }; accounts: unknown[]; grants: unknown[]; manifestEdits: Array<{ field: string[]; after?: unknown }> }> {
  return JSON.parse(await readFile(n.path('/var/lib/kubeadm-nonroot/record.json'), 'utf8'));
}

const isManifest = (rel: string) => rel.startsWith('etc/kubernetes/manifests/');

async function applied(n: UsernsNode, mode: string): Promise<void> {
  const r = await runCli(['apply', '--root', n.root, '--user-namespaces', mode, ...n.args, '--yes', '--no-wait'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, show(r));
}

async function rolledBackExactly(n: UsernsNode, before: Awaited<ReturnType<typeof snapshotTree>>): Promise<void> {
  const back = await runCli(['rollback', '--root', n.root, '--yes', '--no-wait'], { timeoutMs: 120_000 });
  assert.equal(back.code, 0, show(back));
  assert.deepEqual(diffSnapshots(before, await snapshotTree(n.root), { ignore: isToolState }), []);
}

describe('apply --user-namespaces', { skip: NEEDS_ROOT, timeout: 600_000 }, () => {
  before(() => nodes.setUp());
  after(() => nodes.tearDown());

  it('with-accounts: the non-root layout and hostUsers: false; recorded; kept without the flag; rollback exact', async (t) => {
    const unsupported = await nodes.idmapUnsupported();
    if (skipUnlessPossible(t, unsupported ? [unsupported] : [])) return;
    const n = await nodes.node();
    await addSystemDirs(n.root);
    const before = await snapshotTree(n.root);
    await applied(n, 'with-accounts');
    for (const [i, pod] of (await pods(n)).entries()) {
      assert.equal(pod.spec.hostUsers, false, COMPONENTS[i]);
      assert.ok((pod.spec.securityContext?.runAsUser ?? 0) > 0, `${COMPONENTS[i]} runs as its own user`);
    }
    assert.match(await readFile(n.path('/etc/passwd'), 'utf8'), /^kubeadm-etcd:/m);
    const rec = await record(n);
    assert.equal(rec.config.userNamespaces, 'with-accounts');
    assert.equal(rec.manifestEdits.filter((e) => e.field.join('.') === 'spec.hostUsers' && e.after === false).length, 4, 'the record holds the hostUsers edits rollback undoes');
    // Later commands take the mode from the record: nothing to do, no flag needed.
    const again = await runCli(['apply', '--root', n.root, ...n.args, '--yes', '--no-wait'], { timeoutMs: 120_000 });
    assert.equal(again.code, 0, show(again));
    assert.match(again.stdout, /Nothing to do/);
    const status = JSON.parse((await runCli(['status', '--root', n.root, '--no-runtime', '-o', 'json'])).stdout);
    assert.equal(status.config.userNamespaces, 'with-accounts');
    assert.equal(status.verify.state, 'holds');
    await rolledBackExactly(n, before);
  });

  it('only: hostUsers: false and nothing else — no account, no owner or mode change, no runAsUser; rollback exact', async (t) => {
    const unsupported = await nodes.idmapUnsupported();
    if (skipUnlessPossible(t, unsupported ? [unsupported] : [])) return;
    const n = await nodes.node();
    await addSystemDirs(n.root);
    const before = await snapshotTree(n.root);
    await applied(n, 'only');
    for (const [i, pod] of (await pods(n)).entries()) {
      assert.equal(pod.spec.hostUsers, false, COMPONENTS[i]);
      assert.equal(pod.spec.securityContext?.runAsUser, undefined, `${COMPONENTS[i]} sets no runAsUser`);
    }
    // Only the four manifests (and the tool's own state) changed: passwd, group, every key and kubeconfig as kubeadm left them.
    const changed = diffSnapshots(before, await snapshotTree(n.root), { ignore: isToolState });
    assert.deepEqual([...new Set(changed.map((l) => l.split(':')[0]!))].sort(), COMPONENTS.map((c) => `etc/kubernetes/manifests/${c}.yaml`), changed.join('\n'));
    assert.ok(changed.every((l) => isManifest(l) && / content changed$/.test(l)), changed.join('\n'));
    const rec = await record(n);
    assert.deepEqual([rec.config.userNamespaces, rec.accounts, rec.grants], ['only', [], []]);
    const verified = await runCli(['verify', '--root', n.root, '--no-runtime', '-o', 'json']);
    assert.equal(verified.code, 0, show(verified));
    assert.equal(JSON.parse(verified.stdout).state, 'holds');
    await rolledBackExactly(n, before);
  });

  it('any other mode than the record\'s, but off → with-accounts, is refused (exit 2, nothing changed)', async (t) => {
    const unsupported = await nodes.idmapUnsupported();
    if (skipUnlessPossible(t, unsupported ? [unsupported] : [])) return;
    const n = await nodes.node();
    await applied(n, 'only');
    const migrated = await snapshotTree(n.root);
    for (const mode of ['off', 'with-accounts']) {
      const r = await runCli(['apply', '--root', n.root, '--user-namespaces', mode, ...n.args, '--yes', '--no-wait', '-o', 'json']);
      assert.equal(r.code, 2, show(r));
      const [problem] = JSON.parse(r.stdout).problems.filter((p: { code: string }) => p.code === 'userns-mode-switch');
      assert.match(problem.message, new RegExp(`migrated with userNamespaces only \\(migration record\\); going to ${mode} needs that migration undone first`));
      assert.match(problem.fix, /kubeadm-nonroot rollback first/);
      assert.deepEqual(diffSnapshots(migrated, await snapshotTree(n.root)), []);
    }
    // off → with-accounts: the same accounts and grants, hostUsers added.
    const m = await nodes.node();
    await applied(m, 'off');
    await applied(m, 'with-accounts');
    assert.equal((await record(m)).config.userNamespaces, 'with-accounts');
    assert.ok((await pods(m)).every((p) => p.spec.hostUsers === false));
    for (const mode of ['off', 'only']) {
      const r = await runCli(['plan', '--root', m.root, '--user-namespaces', mode, ...m.args, '-o', 'json']);
      assert.equal(r.code, 2, show(r));
      assert.deepEqual(JSON.parse(r.stdout).problems.map((p: { code: string }) => p.code), ['userns-mode-switch']);
    }
  });
});
