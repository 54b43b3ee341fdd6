// verify's static causes come from the plan's structured facts (ManifestAction.identityLost, the account
// actions), never from the plan's display text (ManifestAction.changes). The nodes: kubeadm fixtures
// with the accounts kubeadm's RootlessControlPlane gate (or an earlier migration) left, with and without
// the identity in the manifests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/plan/config.js';
import { buildPlan } from '../../src/plan/plan.js';
import { CAUSE } from '../../src/verify/causes.js';
import { staticFindings } from '../../src/verify/static.js';
import { fixtureNode } from '../support/fixture-node.js';

const NOW = new Date('2026-11-25T00:00:00Z');
// The accounts a migration (or kubeadm's gate) made: IDs 100-103, /bin/false, each in its own group.
const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nkubeadm-etcd:x:100:100:kubeadm-nonroot etcd:/nonexistent:/bin/false\nkubeadm-kas:x:101:101:kubeadm-nonroot kube-apiserver:/nonexistent:/bin/false\nkubeadm-kcm:x:102:102:kubeadm-nonroot kube-controller-manager:/nonexistent:/bin/false\nkubeadm-ks:x:103:103:kubeadm-nonroot kube-scheduler:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nkubeadm-etcd:x:100:kubeadm-etcd\nkubeadm-kas:x:101:kubeadm-kas\nkubeadm-kcm:x:102:kubeadm-kcm\nkubeadm-ks:x:103:kubeadm-ks\nkubeadm-sa-key-readers:x:104:kubeadm-kas,kubeadm-kcm\n';
const ALL = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

const planOf = (c: string, accounts: boolean) => buildPlan(fixtureNode(c, accounts ? { passwd: PASSWD, group: GROUP } : {}), defaultConfig(), { now: NOW });
const manifestCauses = (p: ReturnType<typeof planOf>) => staticFindings(p, '').filter((f) => f.kind === 'manifest').map((f) => [f.subject.replace(/^.*\//, ''), f.cause]);

describe('ManifestAction.identityLost and the causes verify derives from it', () => {
  it('root manifests while the components\' users exist (kubeadm regenerated them): identityLost, cause "regenerated"', () => {
    const p = planOf('v1.32-rhel-stacked', true);
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.manifests.map((m) => [m.component, m.identityLost]), ALL.map((c) => [c, true]));
    assert.deepEqual(manifestCauses(p), ALL.map((c) => [`${c}.yaml`, CAUSE.manifestRegenerated]));
  });

  it('a fresh node (the plan creates the users): not lost, cause "not migrated"', () => {
    const p = planOf('v1.32-rhel-stacked', false);
    assert.deepEqual(p.manifests.map((m) => m.identityLost), [false, false, false, false]);
    assert.deepEqual(manifestCauses(p), ALL.map((c) => [`${c}.yaml`, CAUSE.notMigrated]));
  });

  it('manifests that run as the users (only runAsNonRoot missing): not lost, cause "edited"', () => {
    const p = planOf('v1.31-rootless-control-plane', true);
    assert.deepEqual(p.manifests.map((m) => m.identityLost), [false, false, false, false]);
    assert.deepEqual(manifestCauses(p), ALL.map((c) => [`${c}.yaml`, CAUSE.manifestEdited]));
  });

  it('a manifest running as another uid whose planned user does not exist yet: not lost', () => {
    const p = planOf('v1.31-rootless-control-plane', false); // Debian's accounts: uid 100 is messagebus
    assert.deepEqual(p.manifests.map((m) => m.identityLost), [false, false, false, false]);
    assert.deepEqual(manifestCauses(p), ALL.map((c) => [`${c}.yaml`, CAUSE.notMigrated]));
  });

  it('decides on the structured fact, not on the display text of the changes', () => {
    const regenerated = planOf('v1.32-rhel-stacked', true);
    for (const m of regenerated.manifests) m.changes = m.changes.map((c) => c.replace(/runAsUser/g, 'uid'));
    assert.deepEqual(manifestCauses(regenerated).map(([, c]) => c), ALL.map(() => CAUSE.manifestRegenerated));
    const edited = planOf('v1.31-rootless-control-plane', true);
    for (const m of edited.manifests) m.changes.push('pod securityContext.runAsUser: (display text only)');
    assert.deepEqual(manifestCauses(edited).map(([, c]) => c), ALL.map(() => CAUSE.manifestEdited));
  });

  it('the etcd data dir written by a regenerated (root) etcd is blamed on that, from the same field', () => {
    const node = fixtureNode('v1.32-rhel-stacked', { passwd: PASSWD, group: GROUP });
    node.paths['/var/lib/etcd'] = { type: 'dir', uid: 100, gid: 100, mode: 0o700, size: 4096 };
    node.trees['/var/lib/etcd'] = { entries: 3, owners: [{ uid: 100, gid: 100, count: 2 }, { uid: 0, gid: 0, count: 1 }] };
    const p = buildPlan(node, defaultConfig(), { now: NOW });
    const data = staticFindings(p, '').find((f) => f.subject === '/var/lib/etcd');
    assert.equal(data?.cause, CAUSE.dataWrittenByRootEtcd, JSON.stringify(staticFindings(p, '')));
  });
});

describe('a drift line never says a file is what it should be', () => {
  const plan = (current: { uid: number; gid: number; mode: number; user?: string; group?: string }, desired: { uid: number; gid: number; mode: number; user?: string; group?: string }, tree?: { entries: number; owners: Array<{ uid: number; gid: number; count: number }> }) =>
    ({ problems: [], accounts: [], manifests: [], components: [], files: [{ action: tree ? 'set-owner-recursive' : 'set-owner-mode', path: '/var/lib/etcd', current, desired, tree, readers: ['etcd'], access: 'write', secret: false, reason: '' }] }) as unknown as Parameters<typeof staticFindings>[0];
  const message = (p: Parameters<typeof staticFindings>[0]) => staticFindings(p, '').map((f) => f.message);

  it('a recursive directory right at the top but not below says so, with the count', () => {
    const etcd = { uid: 102, gid: 109, mode: 0o700, user: 'kubeadm-etcd', group: 'kubeadm-etcd' };
    assert.deepEqual(message(plan(etcd, etcd, { entries: 6, owners: [{ uid: 102, gid: 109, count: 5 }, { uid: 0, gid: 0, count: 1 }] })), ['is kubeadm-etcd:kubeadm-etcd 0700 as it should be, but 1 of 6 entries below have another owner']);
  });

  it('a name two IDs carry (an account made again) shows the numbers', () => {
    assert.deepEqual(message(plan({ uid: 100, gid: 100, mode: 0o700, user: 'kubeadm-etcd', group: 'kubeadm-etcd' }, { uid: 102, gid: 109, mode: 0o700, user: 'kubeadm-etcd', group: 'kubeadm-etcd' })), [
      'is kubeadm-etcd(100):kubeadm-etcd(100) 0700, should be kubeadm-etcd(102):kubeadm-etcd(109) 0700',
    ]);
  });
});
