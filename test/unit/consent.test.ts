// No new grant without consent: a later plan restores what the migration record granted and marks
// everything beyond it as a NEW GRANT, blocking unless the operator consents to that exact path. The
// record here is written by hand from the first plan's file actions (what apply records), the node then
// laid out as that apply left it; expectations come from the rule (docs/ownership.md), not the code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configRefs } from '../../src/model/config-refs.js';
import type { FileStat } from '../../src/model/node.js';
import { defaultConfig } from '../../src/plan/config.js';
import { buildPlan } from '../../src/plan/plan.js';
import type { Plan } from '../../src/plan/types.js';
import { RECORD_API_VERSION, RECORD_KIND, type MigrationRecord } from '../../src/state/record.types.js';
import { staticFindings } from '../../src/verify/static.js';
import { editManifest, fixtureNode } from '../support/fixture-node.js';

const NOW = new Date('2026-12-07T00:00:00Z');
const CASE = 'v1.32-rhel-stacked';
const KCM_CONF = '/etc/kubernetes/controller-manager.conf';
const ETCD_CA_KEY = '/etc/kubernetes/pki/etcd/ca.key';

/** The record an apply of `plan` leaves: every file action is a grant. */
function recordOf(plan: Plan): MigrationRecord {
  return {
    apiVersion: RECORD_API_VERSION,
    kind: RECORD_KIND,
    status: 'migrated',
    config: defaultConfig(),
    accounts: [],
    grants: plan.files.map((f) => ({ path: f.path, type: f.action === 'set-owner-mode' ? 'file' : 'directory', components: f.readers, access: f.access, recursive: f.action === 'set-owner-recursive', secret: f.secret, given: { uid: f.desired.uid, gid: f.desired.gid, mode: f.desired.mode }, before: f.current && { uid: f.current.uid, gid: f.current.gid, mode: f.current.mode }, source: f.reason })),
    manifestEdits: [],
    kubernetesVersion: plan.kubernetesVersion,
    etcdVersion: plan.etcdVersion,
    migratedAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    toolVersion: 'test',
    by: 'root',
    history: [],
  };
}

/** The fixture node after the first plan was applied (accounts created, owners and modes set), and its record. */
function migratedNode() {
  const node = fixtureNode(CASE);
  const first = buildPlan(node, defaultConfig(), { now: NOW });
  assert.deepEqual(first.problems, []);
  for (const a of first.accounts) {
    if (a.action === 'create-group') node.group.push({ name: a.name, gid: a.gid, members: a.members, line: node.group.length });
    if (a.action === 'create-user') {
      node.passwd.push({ name: a.name, uid: a.uid, gid: a.gid, gecos: a.comment, home: a.home, shell: a.shell, line: node.passwd.length });
      for (const g of a.supplementaryGroups) node.group.find((x) => x.name === g)?.members.push(a.name);
    }
  }
  for (const f of first.files) {
    const before = node.paths[f.path] as FileStat;
    node.paths[f.path] = { ...before, uid: f.desired.uid, gid: f.desired.gid, mode: f.desired.mode };
    if (f.action === 'set-owner-recursive') node.trees[f.path] = { entries: 3, owners: [{ uid: f.desired.uid, gid: f.desired.gid, count: 3 }] };
  }
  for (const m of first.manifests) {
    const mf = node.manifests.find((x) => x.path === m.path)!;
    mf.text = m.after;
  }
  // discovery reads each manifest once; the fixture node re-reads the migrated texts the same way
  const migrated = fixtureNode(CASE, { manifests: Object.fromEntries(node.manifests.map((m) => [m.fileName, m.text])) });
  return { node: { ...migrated, passwd: node.passwd, group: node.group, paths: node.paths, trees: node.trees }, record: recordOf(first) };
}

/** controller-manager.conf now names etcd's CA key as a client key (a root edit, or what a compromised kcm wanted). */
function withCaKeyReference(node: ReturnType<typeof migratedNode>['node']) {
  node.configs[KCM_CONF] = configRefs(`apiVersion: v1\nkind: Config\nusers:\n- name: system:kube-controller-manager\n  user:\n    client-key: ${ETCD_CA_KEY}\n`);
  node.paths[ETCD_CA_KEY] = { type: 'file', uid: 0, gid: 0, mode: 0o600, size: 100 };
  return node;
}

describe('no new grant without consent', () => {
  it('a node as the record says: nothing to do, nothing new', () => {
    const { node, record } = migratedNode();
    const p = buildPlan(node, defaultConfig(), { now: NOW, record });
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.files, []);
  });

  it('restores what the record granted without asking (kubeadm rewrote a key root 0600)', () => {
    const { node, record } = migratedNode();
    node.paths['/etc/kubernetes/pki/apiserver.key'] = { type: 'file', uid: 0, gid: 0, mode: 0o600, size: 100 };
    const p = buildPlan(node, defaultConfig(), { now: NOW, record });
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.files.map((f) => [f.path, f.newGrant]), [['/etc/kubernetes/pki/apiserver.key', undefined]]);
  });

  it('a path named only by a changed config file is a NEW GRANT with its source, blocking without consent', () => {
    const { node, record } = migratedNode();
    const p = buildPlan(withCaKeyReference(node), defaultConfig(), { now: NOW, record });
    const f = p.files.find((x) => x.path === ETCD_CA_KEY);
    assert.ok(f, 'the plan lists etcd/ca.key');
    assert.ok(f.newGrant, 'marked as a new grant');
    assert.match(f.newGrant.source, /kube-controller-manager/);
    assert.match(f.newGrant.source, /client-key/);
    assert.deepEqual(p.problems.map((x) => [x.code, x.path]), [['new-grant', ETCD_CA_KEY]]);
    assert.match(p.problems[0]!.fix!, new RegExp(`--grant ${ETCD_CA_KEY}`));
  });

  it('consent to that exact path unblocks it, still marked; consent to another path does not', () => {
    const { node, record } = migratedNode();
    const consented = buildPlan(withCaKeyReference(node), defaultConfig(), { now: NOW, record, consentedGrants: [ETCD_CA_KEY] });
    assert.deepEqual(consented.problems, []);
    assert.ok(consented.files.find((x) => x.path === ETCD_CA_KEY)?.newGrant);
    const other = buildPlan(withCaKeyReference(migratedNode().node), defaultConfig(), { now: NOW, record, consentedGrants: ['/etc/kubernetes/pki/ca.key'] });
    assert.deepEqual(other.problems.map((x) => x.code), ['new-grant']);
  });

  it('a new reader of a secret the record granted to another component is a new grant', () => {
    const { node, record } = migratedNode();
    // kube-apiserver's manifest now also names kcm's CA key: a second reader, through a shared group
    const kas = node.manifests.find((m) => m.fileName === 'kube-apiserver.yaml')!;
    editManifest(kas, (t) => t.replace('    - kube-apiserver\n', '    - kube-apiserver\n    - --tls-sni-cert-key=/etc/kubernetes/pki/ca.crt,/etc/kubernetes/pki/ca.key\n'));
    const p = buildPlan(node, defaultConfig(), { now: NOW, record });
    const f = p.files.find((x) => x.path === '/etc/kubernetes/pki/ca.key');
    assert.ok(f?.newGrant, JSON.stringify(p.files.map((x) => x.path)));
    assert.ok(p.problems.some((x) => x.code === 'new-grant' && x.path === '/etc/kubernetes/pki/ca.key'));
  });

  it('write where the record granted read is a new grant', async () => {
    const { beyondRecord } = await import('../../src/plan/consent.js');
    const granted = { path: KCM_CONF, type: 'file' as const, components: ['kube-controller-manager' as const], access: 'read' as const, recursive: false, secret: true, given: { uid: 0, gid: 1, mode: 0o640 }, before: null, source: '' };
    assert.match(beyondRecord({ access: 'write', readers: ['kube-controller-manager'] }, granted) ?? '', /write where the record granted read/);
    assert.equal(beyondRecord({ access: 'read', readers: ['kube-controller-manager'] }, granted), null);
  });

  it('without a record (first apply) every grant is shown normally, none is new', () => {
    const p = buildPlan(withCaKeyReference(migratedNode().node), defaultConfig(), { now: NOW, record: null });
    assert.ok(p.files.some((x) => x.path === ETCD_CA_KEY));
    assert.ok(p.files.every((x) => x.newGrant === undefined));
    assert.ok(!p.problems.some((x) => x.code === 'new-grant'));
  });

  it('verify reports a requested new grant as such, and never says just to run apply for it', () => {
    const { node, record } = migratedNode();
    const p = buildPlan(withCaKeyReference(node), defaultConfig(), { now: NOW, record, consentedGrants: [ETCD_CA_KEY] });
    const findings = staticFindings(p, '').filter((f) => f.subject === ETCD_CA_KEY);
    assert.equal(findings.length, 1);
    assert.match(findings[0]!.cause, /NEW GRANT/);
    assert.notEqual(findings[0]!.fix, 'kubeadm-nonroot apply');
    assert.match(findings[0]!.fix, /do not just apply/);
  });
});
