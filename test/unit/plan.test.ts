// Planning over every fixture case. Expected file changes are written by hand from the read-only rule
// (docs/ownership.md: a file a component only reads stays root's and is read through the component's
// group, 0600 → 0640; only what it writes is its own) applied to the files of kubeadm's own
// RootlessControlPlane table (KEP-2568; kubeadm's cmd/kubeadm/app/util/staticpod/utils_linux.go and
// cmd/kubeadm/app/util/users/users_linux.go; the gate instead gives each reader its files as owner) plus the extra files
// each case's INDEX.md entry lists; they are not copied from the planner's output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { formatMode } from '../../src/model/perms.js';
import { defaultConfig } from '../../src/plan/config.js';
import { buildPlan } from '../../src/plan/plan.js';
import { hasChanges, isBlocked } from '../../src/plan/summary.js';
import type { Plan } from '../../src/plan/types.js';
import { editManifest, fixtureNode, kubesprayKeyNode } from '../support/fixture-node.js';

const NOW = new Date('2026-11-25T00:00:00Z');
const plan = (c: string, opts?: Parameters<typeof fixtureNode>[1]) => buildPlan(fixtureNode(c, opts), defaultConfig(), { now: NOW });

function changes(p: Plan): Record<string, string> {
  return Object.fromEntries(p.files.map((f) => [f.path, `${f.desired.user}:${f.desired.group} ${formatMode(f.desired.mode)}${f.action === 'set-owner-recursive' ? ' -R' : f.action === 'create-directory' ? ' mkdir' : ''}`]));
}

const KAS = 'root:kubeadm-kas 0640';
const kasFiles = (pki: string) => ({
  [`${pki}/apiserver-etcd-client.key`]: KAS,
  [`${pki}/apiserver-kubelet-client.key`]: KAS,
  [`${pki}/apiserver.key`]: KAS,
  [`${pki}/front-proxy-client.key`]: KAS,
  [`${pki}/sa.pub`]: KAS, // kubeadm writes sa.pub 0600 root: the apiserver reads it through its group (the gate made it the owner)
});
function stacked(o: { pki?: string; data?: string; saShared: boolean }) {
  const pki = o.pki ?? '/etc/kubernetes/pki';
  return {
    ...kasFiles(pki),
    '/etc/kubernetes/controller-manager.conf': 'root:kubeadm-kcm 0640',
    '/etc/kubernetes/scheduler.conf': 'root:kubeadm-ks 0640',
    [`${pki}/ca.key`]: 'root:kubeadm-kcm 0640',
    [`${pki}/etcd/peer.key`]: 'root:kubeadm-etcd 0640',
    [`${pki}/etcd/server.key`]: 'root:kubeadm-etcd 0640',
    // From v1.20 kube-apiserver reads sa.key too (--service-account-signing-key-file): shared via a group.
    [`${pki}/sa.key`]: o.saShared ? 'root:kubeadm-sa-key-readers 0640' : 'root:kubeadm-kcm 0640',
    [o.data ?? '/var/lib/etcd']: 'kubeadm-etcd:kubeadm-etcd 0700 -R',
  };
}

describe('plan on the fixture cases', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['v1.16-centos-stacked', stacked({ saShared: false })],
    ['v1.17-kms-encryption-apiserver-only', { ...kasFiles('/etc/kubernetes/pki'), '/etc/kubernetes/apiserver-encryption.conf': KAS }],
    ['v1.19-kind-oidc-apiserver-only', kasFiles('/etc/kubernetes/pki')],
    ['v1.19-ubuntu-stacked', stacked({ saShared: false })],
    ['v1.20-minikube-certsdir-port8443', stacked({ pki: '/var/lib/minikube/certs', data: '/var/lib/minikube/etcd', saShared: true })],
    ['v1.22-ubuntu-stacked-seccomp-root', stacked({ data: '/var/lib/etcd-old-copy', saShared: true })],
    ['v1.28.0-defaulted-fields', stacked({ saShared: true })],
    ['v1.29-audit-encryption', { ...stacked({ saShared: true }), '/etc/kubernetes/enc/encryption-config.yaml': KAS, '/var/log/kubernetes/audit': 'kubeadm-kas:kubeadm-kas 0700 -R' }],
    ['v1.30-port443-webhooks-haproxy-keepalived', { ...stacked({ saShared: true }), '/etc/kubernetes/webhooks/authn-webhook.kubeconfig': KAS, '/etc/kubernetes/webhooks/authz-webhook.kubeconfig': KAS }],
    ['v1.31-ubuntu-stacked-kube-vip', stacked({ saShared: true })],
    ['v1.32-rhel-stacked', stacked({ saShared: true })],
  ];
  for (const [name, expected] of cases) {
    it(`${name}: file changes match kubeadm's table plus the case's extra files`, () => {
      const p = plan(name);
      assert.deepEqual(p.problems, []);
      assert.deepEqual(changes(p), expected);
      assert.ok(hasChanges(p));
    });
  }

  it('creates a shared reader group only where sa.key really is shared (v1.20+)', () => {
    const groupsOf = (c: string) => plan(c).accounts.filter((a) => a.action === 'create-group').map((a) => a.name);
    assert.deepEqual(groupsOf('v1.16-centos-stacked'), ['kubeadm-etcd', 'kubeadm-kas', 'kubeadm-kcm', 'kubeadm-ks']);
    assert.deepEqual(groupsOf('v1.32-rhel-stacked'), ['kubeadm-etcd', 'kubeadm-kas', 'kubeadm-kcm', 'kubeadm-ks', 'kubeadm-sa-key-readers']);
    assert.deepEqual(groupsOf('v1.19-kind-oidc-apiserver-only'), ['kubeadm-kas']); // no etcd user with external etcd
  });

  it('leaves non-kubeadm static pods alone and names them', () => {
    const files = (p: Plan) => p.ignoredManifests.map((m) => m.file);
    assert.deepEqual(files(plan('v1.30-port443-webhooks-haproxy-keepalived')), ['haproxy.yaml', 'keepalived.yaml']);
    const p = plan('v1.31-ubuntu-stacked-kube-vip');
    assert.deepEqual(p.ignoredManifests, [{ file: 'kube-vip.yaml', reason: 'not a kubeadm control-plane pod (runs image ghcr.io/kube-vip/kube-vip:v0.8.2)' }]);
    assert.ok(!p.manifests.some((m) => m.path.endsWith('kube-vip.yaml')));
    // kube-vip mounts super-admin.conf; no component of the control plane reads it, so it is not touched.
    assert.ok(!p.files.some((f) => f.path.includes('admin.conf')));
  });

  it('writes the planned securityContext into each manifest (v1.32)', () => {
    const p = plan('v1.32-rhel-stacked');
    const pod = (c: string) => parse(p.manifests.find((m) => m.component === c)!.after).spec;
    const kas = p.components.find((c) => c.component === 'kube-apiserver')!.identity!;
    const sa = p.accounts.find((a) => a.name === 'kubeadm-sa-key-readers')!;
    assert.deepEqual(pod('kube-apiserver').securityContext, { runAsGroup: kas.gid, runAsNonRoot: true, runAsUser: kas.uid, seccompProfile: { type: 'RuntimeDefault' }, supplementalGroups: [sa.gid] });
    assert.deepEqual(pod('kube-apiserver').containers[0].securityContext, { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } });
    assert.deepEqual(pod('kube-scheduler').containers[0].securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    assert.equal(pod('etcd').securityContext.supplementalGroups, undefined);
  });

  it('uses the seccomp annotation before v1.19 (v1.16)', () => {
    const m = plan('v1.16-centos-stacked').manifests.find((x) => x.component === 'etcd')!;
    const doc = parse(m.after);
    assert.equal(doc.metadata.annotations['seccomp.security.alpha.kubernetes.io/pod'], 'runtime/default');
    assert.equal(doc.spec.securityContext.seccompProfile, undefined);
  });

  it('allows port 443 for the apiserver (NET_BIND_SERVICE) and warns about the KMS socket mount', () => {
    assert.deepEqual(plan('v1.30-port443-webhooks-haproxy-keepalived').problems, []);
    const kms = plan('v1.17-kms-encryption-apiserver-only');
    assert.deepEqual(kms.warnings.map((w) => [w.code, w.path]), [['writable-mount-unanalysed', '/var/run/k8s-kms-plugin']]);
  });

  it('recognises a node set up by kubeadm\'s RootlessControlPlane gate: same IDs, only runAsNonRoot added', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nkubeadm-etcd:x:100:100:kubeadm-nonroot etcd::/bin/false\nkubeadm-kas:x:101:101:kubeadm-nonroot kube-apiserver::/bin/false\nkubeadm-kcm:x:102:102:kubeadm-nonroot kube-controller-manager::/bin/false\nkubeadm-ks:x:103:103:kubeadm-nonroot kube-scheduler::/bin/false\n';
    const group = 'root:x:0:\nkubeadm-etcd:x:100:kubeadm-etcd\nkubeadm-kas:x:101:kubeadm-kas\nkubeadm-kcm:x:102:kubeadm-kcm\nkubeadm-ks:x:103:kubeadm-ks\nkubeadm-sa-key-readers:x:104:kubeadm-kas,kubeadm-kcm\n';
    const p = plan('v1.31-rootless-control-plane', { passwd, group });
    assert.deepEqual(p.problems, []);
    assert.ok(p.accounts.every((a) => a.action === 'reuse-user' || a.action === 'reuse-group'));
    assert.deepEqual(p.components.map((c) => [c.component, c.identity!.uid, c.identity!.gid]), [['etcd', 100, 100], ['kube-apiserver', 101, 101], ['kube-controller-manager', 102, 102], ['kube-scheduler', 103, 103]]);
    for (const m of p.manifests) assert.deepEqual(m.changes, ['pod securityContext.runAsNonRoot: true'], m.path);
    assert.equal(p.manifests.length, 4);
  });

  it('warns when a manifest already runs as a UID the plan would change (here: messagebus holds 100)', () => {
    const p = plan('v1.31-rootless-control-plane'); // Debian base accounts: uid 100 is messagebus
    const w = p.warnings.find((x) => x.code === 'identity-changes' && x.component === 'etcd');
    assert.ok(w, JSON.stringify(p.warnings));
    assert.match(w.message, /uid 100 \(messagebus\)/);
    assert.match(w.fix!, /accounts\.etcd\.uid/);
  });

  it('blocks a data dir whose parent only root can traverse (a restore under /root)', () => {
    const node = fixtureNode('v1.32-rhel-stacked');
    const etcd = node.manifests.find((m) => m.fileName === 'etcd.yaml')!;
    editManifest(etcd, (t) => t.replace('path: /var/lib/etcd\n', 'path: /root/res-test\n'));
    node.paths['/root'] = { type: 'dir', uid: 0, gid: 0, mode: 0o700, size: 4096 };
    node.paths['/root/res-test'] = { type: 'dir', uid: 0, gid: 0, mode: 0o700, size: 4096 };
    node.trees['/root/res-test'] = { entries: 1, owners: [{ uid: 0, gid: 0, count: 1 }] };
    const p = buildPlan(node, defaultConfig(), { now: NOW });
    assert.ok(isBlocked(p));
    // /root is root's home, not a directory dedicated to etcd: refused as a handover too.
    assert.deepEqual(p.problems.map((x) => [x.code, x.path]), [['parent-not-traversable', '/root'], ['not-dedicated', '/root/res-test']]);
  });

  it('reports a missing referenced file as a blocking problem with its path', () => {
    const node = fixtureNode('v1.32-rhel-stacked');
    node.paths['/etc/kubernetes/pki/sa.key'] = null;
    const p = buildPlan(node, defaultConfig(), { now: NOW });
    assert.deepEqual(p.problems.map((x) => [x.code, x.path]), [['missing-file', '/etc/kubernetes/pki/sa.key']]);
  });

  it('blocks kube-scheduler on a privileged port', () => {
    const node = fixtureNode('v1.32-rhel-stacked');
    const ks = node.manifests.find((m) => m.fileName === 'kube-scheduler.yaml')!;
    editManifest(ks, (t) => t.replace('    - --leader-elect=true\n', '    - --leader-elect=true\n    - --secure-port=259\n'));
    const p = buildPlan(node, defaultConfig(), { now: NOW });
    assert.deepEqual(p.problems.map((x) => x.code), ['privileged-port']);
  });

  it('migrates only the components selected in the config', () => {
    const config = defaultConfig();
    config.components = ['etcd'];
    const p = buildPlan(fixtureNode('v1.32-rhel-stacked'), config, { now: NOW });
    assert.deepEqual(p.manifests.map((m) => m.component), ['etcd']);
    assert.deepEqual(Object.keys(changes(p)).sort(), ['/etc/kubernetes/pki/etcd/peer.key', '/etc/kubernetes/pki/etcd/server.key', '/var/lib/etcd']);
  });

  it('is deterministic: same inputs and clock give the same plan', () => {
    assert.deepEqual(plan('v1.29-audit-encryption'), plan('v1.29-audit-encryption'));
    assert.equal(plan('v1.29-audit-encryption').createdAt, NOW.toISOString());
  });
});

describe('saved plans (apply --plan)', () => {
  it('accepts a plan with actions removed, refuses one with an added or altered action', async () => {
    const { actionsNotIn } = await import('../../src/plan/summary.js');
    const fresh = plan('v1.32-rhel-stacked');
    const fewer = { ...fresh, files: fresh.files.filter((f) => f.path !== '/var/lib/etcd') };
    assert.deepEqual(actionsNotIn(fewer, fresh), []);
    const altered = structuredClone(fresh);
    altered.files[0]!.desired.mode = 0o644;
    assert.deepEqual(actionsNotIn(altered, fresh), [`set-owner-mode ${fresh.files[0]!.path}`]);
    const added = structuredClone(fresh);
    added.files.push({ ...added.files[0]!, path: '/etc/shadow' });
    assert.deepEqual(actionsNotIn(added, fresh), ['set-owner-mode /etc/shadow']);
  });
});

describe('review findings on planning', () => {
  it('a private key under /etc/ssl (Kubespray etcd client key) follows the secret rule, not the trust-store rule', () => {
    const node = kubesprayKeyNode(0o700);
    const config = defaultConfig();
    config.allowPaths = ['/etc/ssl/etcd/ssl']; // outside /etc/kubernetes: granted only when the config names it
    const p = buildPlan(node, config, { now: NOW });
    assert.equal(changes(p)['/etc/ssl/etcd/ssl/node-cp1-key.pem'], 'root:kubeadm-kas 0640');
    assert.ok(!p.problems.some((x) => x.code === 'trust-store-unreadable'));
    // /etc/ssl/etcd/ssl is 0700 root: a parent problem, never advice to make the key world-readable
    assert.deepEqual(p.problems.map((x) => [x.code, x.path]), [['parent-not-traversable', '/etc/ssl/etcd/ssl']]);
    assert.doesNotMatch(p.problems[0]!.fix!, /a\+r/);
  });

  it('an audit log mounted as a single file is given to kube-apiserver 0600', () => {
    const node = fixtureNode('v1.29-audit-encryption');
    const kas = node.manifests.find((m) => m.fileName === 'kube-apiserver.yaml')!;
    editManifest(kas, (t) => t.replace(/path: \/var\/log\/kubernetes\/audit\n      type: DirectoryOrCreate/, 'path: /var/log/kubernetes/audit/audit.log\n      type: FileOrCreate').replace('- mountPath: /var/log/kubernetes/audit\n', '- mountPath: /var/log/kubernetes/audit/audit.log\n'));
    node.paths['/var/log/kubernetes/audit'] = { type: 'dir', uid: 0, gid: 0, mode: 0o755, size: 1 }; // an ordinary directory now
    node.paths['/var/log/kubernetes/audit/audit.log'] = { type: 'file', uid: 0, gid: 0, mode: 0o644, size: 1 };
    const p = buildPlan(node, defaultConfig(), { now: NOW });
    assert.deepEqual(p.problems, []);
    assert.equal(changes(p)['/var/log/kubernetes/audit/audit.log'], 'kubeadm-kas:kubeadm-kas 0600');
  });

  it('blocks kube-apiserver on port 443 before v1.21 (no file capability on the binary yet)', () => {
    const node = fixtureNode('v1.20-minikube-certsdir-port8443');
    const kas = node.manifests.find((m) => m.fileName === 'kube-apiserver.yaml')!;
    editManifest(kas, (t) => t.replace('--secure-port=8443', '--secure-port=443'));
    assert.deepEqual(buildPlan(node, defaultConfig(), { now: NOW }).problems.map((x) => [x.code, x.component]), [['privileged-port', 'kube-apiserver']]);
    assert.deepEqual(plan('v1.30-port443-webhooks-haproxy-keepalived').problems, []); // v1.30: allowed
  });

  it('a partial revert keeps the reader group the still-migrated components use', async () => {
    const { buildRevertPlan } = await import('../../src/plan/revert.js');
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nkubeadm-etcd:x:100:100:kubeadm-nonroot etcd::/bin/false\nkubeadm-kas:x:101:101:kubeadm-nonroot kube-apiserver::/bin/false\nkubeadm-kcm:x:102:102:kubeadm-nonroot kube-controller-manager::/bin/false\nkubeadm-ks:x:103:103:kubeadm-nonroot kube-scheduler::/bin/false\n';
    const group = 'root:x:0:\nkubeadm-etcd:x:100:kubeadm-etcd\nkubeadm-kas:x:101:kubeadm-kas\nkubeadm-kcm:x:102:kubeadm-kcm\nkubeadm-ks:x:103:kubeadm-ks\nkubeadm-sa-key-readers:x:104:kubeadm-kas,kubeadm-kcm\n';
    const config = defaultConfig();
    config.components = ['etcd'];
    const created = { users: ['kubeadm-etcd', 'kubeadm-kas', 'kubeadm-kcm', 'kubeadm-ks'], groups: ['kubeadm-etcd', 'kubeadm-kas', 'kubeadm-kcm', 'kubeadm-ks', 'kubeadm-sa-key-readers'] };
    const partial = buildRevertPlan(fixtureNode('v1.31-rootless-control-plane', { passwd, group }), config, { now: NOW, created });
    assert.deepEqual(partial.accounts.map((a) => `${a.action} ${a.name}`), ['delete-user kubeadm-etcd', 'delete-group kubeadm-etcd']);
    const full = buildRevertPlan(fixtureNode('v1.31-rootless-control-plane', { passwd, group }), defaultConfig(), { now: NOW, created });
    assert.ok(full.accounts.some((a) => a.action === 'delete-group' && a.name === 'kubeadm-sa-key-readers'));
  });
});
