// The user-namespace mode's prerequisites, judged by `plan --user-namespaces MODE` on a node kubeadm
// v1.36.3 laid out (test/fixtures/kubeadm/v1.36.3/default), with the kubelet's files, a fake procfs
// (--proc) and a saved Node object (--node-status) written here as a real node would have them. With
// everything in place the plan passes; each missing prerequisite alone makes plan exit 2 with exactly
// that problem (its code, hand-picked per case below), the tree byte-identical. The expectations come
// from upstream, not from the tool: the gate names and defaults from kubernetes pkg/features/
// kube_features.go (UserNamespacesSupport on by default from v1.33; UserNamespacesHostNetworkSupport
// alpha and off, KEP-5607, from v1.35), idmapped-mount support per filesystem from the kernel releases.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, show } from '../../scripts/lib/cli-run.js';
import { NEEDS_ROOT } from '../support/cli-root.js';
import { skipUnlessPossible } from '../support/prerequisites.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';
import { APISERVER_MANIFEST as APISERVER, BOTH_GATES, nodeObject, UsernsNodes, type UsernsNode as Node } from '../support/userns-node.js';

const nodes = new UsernsNodes();
const node = () => nodes.node();

async function edit(n: Node, nodePath: string, change: (text: string) => string): Promise<void> {
  const before = await readFile(n.path(nodePath), 'utf8');
  const after = change(before);
  assert.notEqual(after, before, `the edit of ${nodePath} must change it`);
  await writeFile(n.path(nodePath), after);
}

async function plan(n: Node, extra: string[] = [], mode = 'with-accounts') {
  return runCli(['plan', '--root', n.root, '--user-namespaces', mode, '--proc', n.proc, '--node-status', n.nodeStatus, '-o', 'json', ...extra]);
}

/** plan exits 2 with exactly the problems `codes` (sorted), one stderr line, and the root unchanged. */
async function refusedWith(n: Node, codes: string[], extra: string[] = []): Promise<Array<{ code: string; message: string; fix?: string }>> {
  const before = await snapshotTree(n.root);
  const r = await plan(n, extra);
  assert.equal(r.code, 2, show(r));
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, show(r));
  const problems = (JSON.parse(r.stdout) as { problems: Array<{ code: string; message: string; fix?: string }> }).problems;
  assert.deepEqual(problems.map((p) => p.code).sort(), [...codes].sort(), show(r));
  for (const p of problems) assert.ok(p.fix, `every prerequisite names its fix: ${p.message}`);
  assert.deepEqual(diffSnapshots(before, await snapshotTree(n.root)), []);
  return problems;
}

describe('plan --user-namespaces: prerequisites', { skip: NEEDS_ROOT, timeout: 300_000 }, () => {
  before(() => nodes.setUp());
  after(() => nodes.tearDown());

  it('all in place: plan passes in both modes', async (t) => {
    const unsupported = await nodes.idmapUnsupported();
    if (skipUnlessPossible(t, unsupported ? [unsupported] : [])) return;
    const n = await node();
    for (const mode of ['with-accounts', 'only']) {
      const r = await plan(n, [], mode);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(JSON.parse(r.stdout).problems, []);
    }
  });

  it('a --user-namespaces value that is no mode: exit 2, one line naming the choices, nothing changed', async () => {
    const n = await node();
    const before = await snapshotTree(n.root);
    for (const cmd of ['plan', 'apply']) {
      const r = await runCli([cmd, '--root', n.root, '--user-namespaces', 'on', ...n.args, ...(cmd === 'apply' ? ['--yes', '--no-wait'] : [])]);
      assert.equal(r.code, 2, show(r));
      assert.deepEqual(r.stderr.trimEnd().split('\n'), ['kubeadm-nonroot: --user-namespaces must be one of off, with-accounts, only, not "on"; see docs/user-namespaces.md']);
    }
    assert.deepEqual(diffSnapshots(before, await snapshotTree(n.root)), []);
  });

  it('off (the default) reads none of it: a node without any prerequisite plans as before', async () => {
    const n = await node();
    await rm(n.path('/var/lib/kubelet'), { recursive: true });
    await rm(n.proc, { recursive: true });
    const r = await runCli(['plan', '--root', n.root, '--proc', n.proc, '-o', 'json']);
    assert.equal(r.code, 0, show(r));
  });

  it('the kubelet\'s UserNamespacesHostNetworkSupport off in its config file', async () => {
    const n = await node();
    await edit(n, '/var/lib/kubelet/config.yaml', (s) => s.replace('UserNamespacesHostNetworkSupport: true', 'UserNamespacesHostNetworkSupport: false'));
    const [p] = await refusedWith(n, ['userns-kubelet-gate']);
    assert.match(p!.message, /UserNamespacesHostNetworkSupport is off/);
  });

  it('the kubelet config without featureGates: the alpha gate is off by default', async () => {
    const n = await node();
    await edit(n, '/var/lib/kubelet/config.yaml', (s) => s.replace('featureGates:\n  UserNamespacesHostNetworkSupport: true\n', ''));
    await refusedWith(n, ['userns-kubelet-gate']);
  });

  it('a --feature-gates in kubeadm-flags.env turning a gate off wins over the config file', async () => {
    const n = await node();
    await edit(n, '/var/lib/kubelet/kubeadm-flags.env', (s) => s.replace('--container-runtime-endpoint', '--feature-gates=UserNamespacesSupport=false --container-runtime-endpoint'));
    const [p] = await refusedWith(n, ['userns-kubelet-gate']);
    assert.match(p!.message, /UserNamespacesSupport is off \(the kubelet's --feature-gates \(\/var\/lib\/kubelet\/kubeadm-flags\.env\)\)/);
  });

  it('no kubelet config at all', async () => {
    const n = await node();
    await rm(n.path('/var/lib/kubelet/config.yaml'));
    await refusedWith(n, ['userns-kubelet-config-missing']);
  });

  it('kube-apiserver without UserNamespacesHostNetworkSupport in its --feature-gates', async () => {
    const n = await node();
    await edit(n, APISERVER, (s) => s.replace(`--feature-gates=${BOTH_GATES}`, '--feature-gates=UserNamespacesSupport=true'));
    const [p] = await refusedWith(n, ['userns-apiserver-gate']);
    assert.match(p!.message, /kube-apiserver's feature gate UserNamespacesHostNetworkSupport is off/);
  });

  it('the runtime does not advertise user namespaces (Node status.runtimeHandlers)', async () => {
    const n = await node();
    await writeFile(n.nodeStatus, JSON.stringify(nodeObject(false)));
    await refusedWith(n, ['userns-runtime']);
  });

  it('the runtime\'s support cannot be asked (no --node-status for a node under --root): missing, never a pass', async () => {
    const n = await node();
    const before = await snapshotTree(n.root);
    const r = await runCli(['plan', '--root', n.root, '--user-namespaces', 'with-accounts', '--proc', n.proc, '-o', 'json']);
    assert.equal(r.code, 2, show(r));
    assert.deepEqual(JSON.parse(r.stdout).problems.map((p: { code: string }) => p.code), ['userns-runtime-unknown']);
    assert.deepEqual(diffSnapshots(before, await snapshotTree(n.root)), []);
  });

  it('a Node object without status.runtimeHandlers (a kubelet before v1.30)', async () => {
    const n = await node();
    await writeFile(n.nodeStatus, JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'cp-1' }, status: {} }));
    await refusedWith(n, ['userns-runtime-unknown']);
  });

  it('a kernel older than idmapped mounts on ext4 (5.12): every hostPath and the kubelet dir is named', async (t) => {
    const unsupported = await nodes.idmapUnsupported();
    if (skipUnlessPossible(t, unsupported ? [unsupported] : [])) return;
    const n = await node();
    await writeFile(path.join(n.proc, 'sys/kernel/osrelease'), '5.10.0-28-amd64\n');
    const problems = await refusedWith(n, Array((await volumes(n)).length).fill('userns-idmap-filesystem'));
    assert.ok(problems.some((p) => p.message.includes('/var/lib/etcd') && /supports idmapped mounts from Linux 5\.1[2-9]; this kernel is 5\.10\.0-28-amd64/.test(p.message)), JSON.stringify(problems));
    assert.ok(problems.some((p) => p.message.includes('/var/lib/kubelet,')), 'the kubelet\'s pods dir is checked too');
  });

  it('no kernel release in --proc', async () => {
    const n = await node();
    await rm(path.join(n.proc, 'sys/kernel/osrelease'));
    await refusedWith(n, ['userns-kernel-unknown']);
  });

  it('kube-apiserver on 443 (kubeadm bindPort 443), below net.ipv4.ip_unprivileged_port_start 1024', async () => {
    const n = await node();
    await edit(n, APISERVER, (s) => s.replace('--secure-port=6443', '--secure-port=443'));
    const [p] = await refusedWith(n, ['userns-privileged-port']);
    assert.match(p!.message, /kube-apiserver listens on port 443 \(--secure-port\), below net\.ipv4\.ip_unprivileged_port_start 1024/);
  });

  it('etcd and kube-apiserver below a raised net.ipv4.ip_unprivileged_port_start: each port named', async () => {
    const n = await node();
    await writeFile(path.join(n.proc, 'sys/net/ipv4/ip_unprivileged_port_start'), '7000\n');
    const problems = await refusedWith(n, Array(4).fill('userns-privileged-port'));
    assert.deepEqual(problems.map((p) => /port (\d+)/.exec(p.message)![1]).sort(), ['2379', '2380', '2381', '6443']);
  });

  it('no ip_unprivileged_port_start in --proc', async () => {
    const n = await node();
    await rm(path.join(n.proc, 'sys/net/ipv4/ip_unprivileged_port_start'));
    await refusedWith(n, ['userns-port-start-unknown']);
  });

  it('every missing prerequisite at once: each named on its own', async () => {
    const n = await node();
    await rm(n.path('/var/lib/kubelet/config.yaml'));
    await edit(n, APISERVER, (s) => s.replace(`    - --feature-gates=${BOTH_GATES}\n`, ''));
    await writeFile(n.nodeStatus, JSON.stringify(nodeObject(false)));
    await rm(path.join(n.proc, 'sys/kernel/osrelease'));
    await edit(n, APISERVER, (s) => s.replace('--secure-port=6443', '--secure-port=443'));
    await refusedWith(n, ['userns-kubelet-config-missing', 'userns-apiserver-gate', 'userns-runtime', 'userns-kernel-unknown', 'userns-privileged-port']);
    const r = await runCli(['plan', '--root', n.root, '--user-namespaces', 'with-accounts', '--proc', n.proc, '--node-status', n.nodeStatus]);
    for (const code of ['UserNamespacesHostNetworkSupport is off', 'does not support user namespaces', 'kernel release', 'ip_unprivileged_port_start 1024', 'no kubelet configuration']) {
      assert.equal(r.stdout.split('\n').filter((l) => l.includes(code)).length, 1, `one line says "${code}"\n${r.stdout}`);
    }
  });
});

/** The distinct hostPath volumes of the case's manifests plus the kubelet dir (what the check covers). */
async function volumes(n: Node): Promise<string[]> {
  const out = new Set(['/var/lib/kubelet']);
  for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
    const text = await readFile(n.path(`/etc/kubernetes/manifests/${name}.yaml`), 'utf8');
    for (const m of text.matchAll(/hostPath:\n\s+path: (\S+)/g)) out.add(m[1]!);
  }
  return [...out];
}
