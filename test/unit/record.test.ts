// The migration record (src/state/record.ts) and config resolution (src/state/config-source.ts): what is
// trusted, what is refused, how a re-apply merges, and which config each command runs with. Every
// expectation is written out by hand; files live in throwaway roots only.
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { configDifferences, defaultConfig } from '../../src/plan/config.js';
import { planIdentities } from '../../src/plan/identities.js';
import type { Plan } from '../../src/plan/types.js';
import { resolveConfig } from '../../src/state/config-source.js';
import { nextRecord, parseRecord, readRecord, rolledBackRecord, writeRecord } from '../../src/state/record.js';
import { RECORD_API_VERSION, RECORD_KIND, type MigrationRecord } from '../../src/state/record.types.js';
import { NEEDS_ROOT } from '../support/cli-root.js';
import { readKubeadmCase } from '../../scripts/lib/kubeadm-cases.js';
import { group, nodeState, passwd } from '../support/node-state.js';

const roots: string[] = [];
after(async () => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));
async function root(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-record-'));
  roots.push(r);
  return r;
}
const recordPath = (r: string) => join(r, 'var/lib/kubeadm-nonroot/record.json');

function record(over: Partial<MigrationRecord> = {}): MigrationRecord {
  return {
    apiVersion: RECORD_API_VERSION,
    kind: RECORD_KIND,
    status: 'migrated',
    config: { ...defaultConfig(), accounts: { etcd: { user: 'etcd', uid: 2001, gid: 2001 } } },
    accounts: [
      { kind: 'group', name: 'etcd', id: 2001, created: true, component: 'etcd', membersAdded: ['etcd'] },
      { kind: 'user', name: 'etcd', id: 2001, gid: 2001, created: true, component: 'etcd' },
    ],
    grants: [{ path: '/var/lib/etcd', type: 'directory', components: ['etcd'], access: 'write', recursive: true, secret: false, given: { uid: 2001, gid: 2001, mode: 0o700 }, before: { uid: 0, gid: 0, mode: 0o700 }, source: 'etcd writes here (--data-dir)' }],
    manifestEdits: [{ component: 'etcd', path: '/etc/kubernetes/manifests/etcd.yaml', field: ['spec', 'securityContext', 'runAsUser'], after: 2001 }],
    kubernetesVersion: '1.32.11',
    etcdVersion: '3.5.24',
    migratedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    toolVersion: '0.1.0',
    by: 'alice',
    history: [{ op: 'apply', runId: 'run1', at: '2026-01-01T00:00:00.000Z', by: 'alice', toolVersion: '0.1.0' }],
    ...over,
  };
}

describe('migration record: validation', () => {
  it('reads back what it wrote', () => {
    const r = record();
    assert.deepEqual(parseRecord(JSON.stringify(r), '/x/record.json'), r);
  });

  for (const [what, text, message] of [
    ['not JSON', '{', /not valid JSON/],
    ['another apiVersion', JSON.stringify(record({ apiVersion: 'v9' as never })), /apiVersion is "v9", expected kubeadm-nonroot\/v1alpha1/],
    ['another kind', JSON.stringify({ ...record(), kind: 'Plan' }), /kind is "Plan"/],
    ['an unknown status', JSON.stringify(record({ status: 'done' as never })), /status "done"/],
    ['a config key the config file does not know', JSON.stringify(record({ config: { ...defaultConfig(), colour: 'blue' } as never })), /config: unknown key "colour"/],
    ['uid 0 for a component', JSON.stringify(record({ config: { ...defaultConfig(), accounts: { etcd: { uid: 0 } } } })), /accounts\.etcd\.uid: 0 is not an ID in 1\.\.2147483646/],
    ['an account with ID 0', JSON.stringify(record({ accounts: [{ kind: 'user', name: 'x', id: 0, created: true, component: null }] })), /accounts\[0\]: id is not a positive integer/],
    ['a relative grant path', JSON.stringify(record({ grants: [{ ...record().grants[0]!, path: 'etc/x' }] })), /grants\[0\]: path is not an absolute node path/],
    ['a mode beyond 07777', JSON.stringify(record({ grants: [{ ...record().grants[0]!, given: { uid: 1, gid: 1, mode: 0o10000 } }] })), /grants\[0\]: given is not/],
    ['history without runId', JSON.stringify(record({ history: [{ op: 'apply', at: 'x', by: 'x', toolVersion: 'x' } as never] })), /history\[0\]: runId is not a string/],
  ] as const) {
    it(`refuses ${what}, naming the file and the fix`, () => {
      assert.throws(() => parseRecord(text, '/n/record.json'), (e: unknown) => e instanceof InputError && message.test(e.message) && e.message.startsWith('/n/record.json: ') && /move it away|restore it/.test(e.message));
    });
  }
});

describe('migration record: on disk', { skip: NEEDS_ROOT }, () => {
  it('is written root:root 0600 and read back; a node without one has none', async () => {
    const r = await root();
    assert.equal(readRecord(r), null);
    await writeRecord(r, record());
    const st = await stat(recordPath(r));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o600]);
    assert.equal((await stat(join(r, 'var/lib/kubeadm-nonroot'))).mode & 0o7777, 0o700);
    assert.deepEqual(readRecord(r), record());
  });

  it('is refused when someone other than root owns it, or others can write it, or it is a link', async () => {
    const r = await root();
    await writeRecord(r, record());
    await chown(recordPath(r), 1234, 0);
    assert.throws(() => readRecord(r), /owned by uid 1234 .*only a file owned by root that no one else can write is trusted/);
    await chown(recordPath(r), 0, 0);
    await chmod(recordPath(r), 0o620);
    assert.throws(() => readRecord(r), /mode 0620/);
    await chmod(recordPath(r), 0o600);
    await rm(recordPath(r));
    await writeFile(join(r, 'elsewhere.json'), JSON.stringify(record()), { mode: 0o600 });
    await symlink(join(r, 'elsewhere.json'), recordPath(r));
    assert.throws(() => readRecord(r), /symbolic link/);
  });
});

describe('config resolution', { skip: NEEDS_ROOT }, () => {
  const defaultFile = (r: string) => join(r, 'etc/kubeadm-nonroot/config.yaml');

  it('-c, else the default config file, else the record, else the defaults', async () => {
    const r = await root();
    assert.deepEqual(resolveConfig(r, null), { config: defaultConfig(), source: { kind: 'defaults' }, record: null });
    await writeRecord(r, record());
    const fromRecord = resolveConfig(r, null);
    assert.deepEqual([fromRecord.source.kind, fromRecord.config.accounts.etcd], ['record', { user: 'etcd', uid: 2001, gid: 2001 }]);
    await mkdir(join(r, 'etc/kubeadm-nonroot'), { recursive: true });
    await writeFile(defaultFile(r), 'accounts:\n  etcd: { uid: 2101 }\n', { mode: 0o644 });
    const fromDefault = resolveConfig(r, null);
    assert.deepEqual([fromDefault.source, fromDefault.config.accounts.etcd, fromDefault.record?.status], [{ kind: 'default-file', path: defaultFile(r) }, { uid: 2101 }, 'migrated']);
    const given = join(r, 'given.yaml');
    await writeFile(given, 'components: [etcd]\n');
    const fromFlag = resolveConfig(r, given);
    assert.deepEqual([fromFlag.source, fromFlag.config.components, fromFlag.config.accounts], [{ kind: 'file', path: given }, ['etcd'], {}]);
  });

  it('refuses a default config file others can write (it decides what the tool grants)', async () => {
    const r = await root();
    await mkdir(join(r, 'etc/kubeadm-nonroot'), { recursive: true });
    await writeFile(defaultFile(r), 'components: [etcd]\n', { mode: 0o644 });
    await chmod(defaultFile(r), 0o666);
    assert.throws(() => resolveConfig(r, null), (e: unknown) => e instanceof InputError && /config\.yaml: the default config file is owned by uid 0 with mode 0666/.test(e.message));
  });
});

describe('config differences from the record', () => {
  it('lists each difference in the config file\'s terms', () => {
    const recorded = { ...defaultConfig(), accounts: { etcd: { user: 'etcd', uid: 2001 } }, saKeyReaders: { gid: 2005 } };
    const now = { ...defaultConfig(), components: ['etcd' as const], accounts: { etcd: { user: 'etcd', uid: 2101 } }, saKeyReaders: { gid: 2005 } };
    assert.deepEqual(configDifferences(recorded, now), ['components: etcd, kube-apiserver, kube-controller-manager, kube-scheduler → etcd', 'accounts.etcd.uid: 2001 → 2101']);
    assert.deepEqual(configDifferences(recorded, recorded), []);
  });
});

describe('manifest edits in the record: the journal\'s form', () => {
  // kubeadm v1.36.3's own manifest, and the one apply writes from it (test/fixtures/kubeadm, checked
  // byte for byte against kubeadm --patches by kubeadm-generated.test.ts).
  const kas = readKubeadmCase('v1.36.3', 'default');
  const path = '/etc/kubernetes/manifests/kube-apiserver.yaml';
  const stock = kas.manifests['kube-apiserver.yaml']!;
  const migrated = kas.kubeadmPatched['kube-apiserver.yaml']!;
  const run = { runId: 'run2', at: new Date('2026-06-01T00:00:00.000Z'), by: 'bob', toolVersion: '0.2.0' };
  const applyPlan = (after: string) => ({ kind: 'MigrationPlan', kubernetesVersion: '1.36.3', etcdVersion: null, components: [], accounts: [], files: [], manifests: [{ action: 'write-manifest', component: 'kube-apiserver', path, beforeSha256: '', after, diff: '', changes: [], identityLost: true }] }) as unknown as Plan;
  const editsOf = (r: MigrationRecord | null) => r!.manifestEdits.map((e) => [e.component, e.path, e.field.join('.'), e.before, e.after]);
  // What apply set in kube-apiserver's manifest, read by hand from the two files: the container had no
  // securityContext (one edit: the whole mapping), the pod's had only seccompProfile (one edit per key).
  const firstApply = (runAsUser: number) => [
    ['kube-apiserver', path, 'spec.containers.0.securityContext', undefined, { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } }],
    ['kube-apiserver', path, 'spec.securityContext.runAsGroup', undefined, 110],
    ['kube-apiserver', path, 'spec.securityContext.runAsNonRoot', undefined, true],
    ['kube-apiserver', path, 'spec.securityContext.runAsUser', undefined, runAsUser],
    ['kube-apiserver', path, 'spec.securityContext.supplementalGroups', undefined, [113]],
  ];
  const sorted = (rows: unknown[][]) => rows.sort((a, b) => String(a[2]).localeCompare(String(b[2])));

  it('a first apply records each field as the journal does (a new mapping is one edit holding its whole value)', () => {
    const next = nextRecord({ plan: applyPlan(migrated), config: defaultConfig(), manifestsBefore: new Map([[path, stock]]) }, null, run);
    assert.deepEqual(sorted(editsOf(next)), firstApply(103));
  });

  it('a record in the older form (one edit per managed field) still reads, and a re-apply writes it in the journal\'s form with the first before', () => {
    // What the previous version wrote for the same apply.
    const older = [
      { field: ['spec', 'securityContext', 'runAsGroup'], after: 110 },
      { field: ['spec', 'securityContext', 'runAsNonRoot'], after: true },
      { field: ['spec', 'securityContext', 'runAsUser'], after: 103 },
      { field: ['spec', 'securityContext', 'supplementalGroups'], after: [113] },
      { field: ['spec', 'containers', 0, 'securityContext', 'capabilities', 'add'], after: ['NET_BIND_SERVICE'] },
      { field: ['spec', 'containers', 0, 'securityContext', 'capabilities', 'drop'], after: ['ALL'] },
    ].map((e) => ({ component: 'kube-apiserver' as const, path, ...e }));
    const earlier = parseRecord(JSON.stringify(record({ manifestEdits: [...record().manifestEdits, ...older] })), '/x/record.json');
    assert.deepEqual(earlier.manifestEdits, [...record().manifestEdits, ...older]);
    // The re-apply pins another UID: the manifest it reads is the migrated one.
    const reapplied = migrated.replace('runAsUser: 103', 'runAsUser: 150');
    assert.notEqual(reapplied, migrated);
    const next = nextRecord({ plan: applyPlan(reapplied), config: defaultConfig(), manifestsBefore: new Map([[path, migrated]]) }, earlier, run);
    const etcdKept = ['etcd', '/etc/kubernetes/manifests/etcd.yaml', 'spec.securityContext.runAsUser', undefined, 2001];
    assert.deepEqual(editsOf(next), [etcdKept, ...sorted(firstApply(150))]);
  });
});

describe('record merge', () => {
  const run = { runId: 'run2', at: new Date('2026-06-01T00:00:00.000Z'), by: 'bob', toolVersion: '0.2.0' };
  // A re-apply after an upgrade regenerated etcd's manifest and renewed its key as root.
  const plan = {
    kind: 'MigrationPlan',
    kubernetesVersion: '1.33.0',
    etcdVersion: '3.5.24',
    components: [{ component: 'etcd', manifest: '/etc/kubernetes/manifests/etcd.yaml', migrate: true, image: 'x', version: '3.5.24', identity: { component: 'etcd', user: 'etcd', uid: 2001, group: 'etcd', gid: 2001, supplementalGroups: [] } }],
    accounts: [
      { action: 'reuse-group', name: 'etcd', gid: 2001, members: ['etcd'] },
      { action: 'reuse-user', name: 'etcd', uid: 2001, gid: 2001, group: 'etcd' },
    ],
    files: [
      { action: 'set-owner-recursive', path: '/var/lib/etcd', current: { uid: 0, gid: 0, mode: 0o700 }, desired: { uid: 2001, gid: 2001, mode: 0o700 }, tree: { entries: 1, owners: [] }, readers: ['etcd'], access: 'write', secret: false, reason: 'etcd writes here (--data-dir)' },
      { action: 'set-owner-mode', path: '/etc/kubernetes/pki/etcd/server.key', current: { uid: 0, gid: 0, mode: 0o600 }, desired: { uid: 2001, gid: 2001, mode: 0o600 }, readers: ['etcd'], access: 'read', secret: true, reason: 'secret read only by etcd (--key-file)' },
    ],
    manifests: [{ action: 'write-manifest', component: 'etcd', path: '/etc/kubernetes/manifests/etcd.yaml', beforeSha256: '', after: 'spec:\n  securityContext:\n    runAsUser: 2001\n', diff: '', changes: [], identityLost: true }],
  } as unknown as Plan;
  const input = { plan, config: record().config, manifestsBefore: new Map([['/etc/kubernetes/manifests/etcd.yaml', 'spec: {}\n']]) };

  it('a re-apply keeps the first date, the created flags and the earliest before, and appends to the history', () => {
    const earlier = record({ grants: [{ ...record().grants[0]!, before: { uid: 0, gid: 0, mode: 0o755 } }] });
    const next = nextRecord(input, earlier, run)!;
    assert.equal(next.migratedAt, '2026-01-01T00:00:00.000Z');
    assert.equal(next.updatedAt, '2026-06-01T00:00:00.000Z');
    assert.deepEqual(next.accounts.map((a) => [a.kind, a.name, a.created]), [['group', 'etcd', true], ['user', 'etcd', true]]);
    assert.deepEqual(next.grants.map((g) => [g.path, g.before?.mode, g.given.uid, g.recursive]), [['/etc/kubernetes/pki/etcd/server.key', 0o600, 2001, false], ['/var/lib/etcd', 0o755, 2001, true]]);
    // The earlier edit no longer undoes on this text (not a pod manifest): this run's own edit, in the journal's form.
    assert.deepEqual(next.manifestEdits, [{ component: 'etcd', path: '/etc/kubernetes/manifests/etcd.yaml', field: ['spec', 'securityContext'], after: { runAsUser: 2001 } }]);
    assert.deepEqual(next.history.map((h) => [h.op, h.runId, h.by]), [['apply', 'run1', 'alice'], ['apply', 'run2', 'bob']]);
    assert.deepEqual([next.kubernetesVersion, next.toolVersion, next.by, next.status], ['1.33.0', '0.2.0', 'bob', 'migrated']);
  });

  it('a first apply on a node with reused accounts records them as not created', () => {
    const next = nextRecord(input, null, run)!;
    assert.deepEqual(next.accounts.map((a) => [a.name, a.created]), [['etcd', false], ['etcd', false]]);
    assert.equal(next.migratedAt, '2026-06-01T00:00:00.000Z');
  });

  it('a revert only changes the status; a rollback puts the previous record back, or marks the run\'s own rolled-back', () => {
    const reverted = nextRecord({ ...input, plan: { ...plan, kind: 'RevertPlan' } as Plan }, record(), run)!;
    assert.deepEqual({ ...reverted, history: [] }, { ...record(), status: 'reverted', updatedAt: '2026-06-01T00:00:00.000Z', history: [] });
    assert.equal(nextRecord({ ...input, plan: { ...plan, kind: 'RevertPlan' } as Plan }, null, run), null);
    const back = rolledBackRecord(reverted, record(), { ...run, runId: 'run2' })!;
    assert.equal(back.status, 'migrated');
    assert.deepEqual(back.history.map((h) => [h.op, h.runId]), [['apply', 'run1'], ['rollback', 'run2']]);
    const first = rolledBackRecord(record(), null, { ...run, runId: 'run1' })!;
    assert.equal(first.status, 'rolled-back');
    assert.deepEqual(rolledBackRecord(first, null, { ...run, runId: 'run1' }), first, 'a second rollback of the same run changes nothing');
  });
});

describe('accounts the record says the tool created', () => {
  const node = nodeState({ passwd: passwd('etcd:x:2001:2001:kubeadm-nonroot etcd:/nonexistent:/bin/false'), group: group('etcd:x:2001:etcd') });
  const config = { ...defaultConfig(), accounts: { etcd: { user: 'etcd', uid: 2001, gid: 2001 } } };

  it('are the tool\'s whatever their ID (a pinned uid above UID_MIN)', () => {
    const without = planIdentities(node, config, ['etcd'], []);
    assert.deepEqual(without.problems.map((p) => p.code), ['account-is-login']);
    const withRecord = planIdentities(node, config, ['etcd'], [], record().accounts);
    assert.deepEqual(withRecord.problems, []);
    assert.deepEqual(withRecord.identities.map((i) => [i.user, i.uid, i.gid]), [['etcd', 2001, 2001]]);
    assert.deepEqual(withRecord.warnings.map((w) => w.code), []);
  });

  it('but not under another ID, nor when not created by the tool, nor with a login shell', () => {
    const other = record().accounts.map((a) => ({ ...a, id: 2002 }));
    assert.deepEqual(planIdentities(node, config, ['etcd'], [], other).problems.map((p) => p.code), ['account-is-login']);
    const reused = record().accounts.map((a) => ({ ...a, created: false }));
    assert.deepEqual(planIdentities(node, config, ['etcd'], [], reused).problems.map((p) => p.code), ['account-is-login']);
    const login = nodeState({ passwd: passwd('etcd:x:2001:2001:kubeadm-nonroot etcd:/home/etcd:/bin/bash'), group: group('etcd:x:2001:etcd') });
    assert.deepEqual(planIdentities(login, config, ['etcd'], [], record().accounts).problems.map((p) => p.code), ['account-is-login']);
  });
});
