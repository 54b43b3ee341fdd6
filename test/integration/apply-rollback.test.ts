// apply → apply again → rollback through the real CLI on a sandbox root of every fixture case.
//
// Expectations were checked by hand against test/fixtures/manifests/INDEX.md (flag tables: who reads
// which file, resolved host paths) and kubeadm-manifests.md:
//   - kube-apiserver reads sa.key itself only from v1.20 (--service-account-signing-key-file, present
//     in the v1.20+ kube-apiserver manifests, absent in v1.16/v1.17/v1.19). From then on sa.key is read
//     by two components and becomes root:kubeadm-sa-key-readers 0640; before, kcm is its only reader
//     and reads it through its own group (root:kubeadm-kcm 0640), and no shared group exists.
//   - A file a component only reads stays root's and is read through the component's group, 0600 →
//     0640 (docs/ownership.md, the read-only rule): its kubeconfig, its keys, the encryption config,
//     the webhook kubeconfigs. Only what it writes (etcd's data dir, the audit log dir) is its own. The apiserver-only cases (v1.17, v1.19-kind) have
//     no kcm, so nobody migrated reads sa.key and it is left as it is.
//   - etcd's data dir is the HOST path of --data-dir: /var/lib/minikube/etcd on minikube and
//     /var/lib/etcd-old-copy on the v1.22 case (hostPath differs from the container path).
//   - admin.conf, super-admin.conf, kubelet.conf, etcd/ca.key, front-proxy-ca.key are read by no
//     static pod (kube-vip mounts super-admin.conf, but kube-vip is not migrated): never touched.
//   - haproxy.yaml, keepalived.yaml, kube-vip.yaml are not kubeadm's: byte-identical, same inode times.
// No fixture is blocked: v1.30's port 443 belongs to kube-apiserver, which keeps NET_BIND_SERVICE
// (kubernetes#99145), and every data dir's parents are 0755. Blocked plans are covered with edited
// sandboxes in refusals.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, chown, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { addSystemDirs, runCli, show } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT, withoutLockDirTimes } from '../support/cli-root.js';
import { buildSandbox, listFixtures, type Sandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree, type Entry } from '../support/tree.js';
import { skipUnlessPossible } from '../support/prerequisites.js';
import { setTimeout as sleep } from 'node:timers/promises';

type Short = 'etcd' | 'kas' | 'kcm' | 'ks';

interface Expect {
  /** certificatesDir (host path). */
  pki: string;
  /** Who gets sa.key: shared through kubeadm-sa-key-readers, owned by kcm alone, or nobody (unchanged). */
  saKey: 'shared' | 'kcm' | 'untouched';
  /** Host path of etcd's --data-dir, or null without etcd. */
  etcdData: string | null;
  /** Manifests of kubeadm components, by account short name. */
  components: Short[];
  /** Non-kubeadm static pods in the manifests dir. */
  foreign: string[];
  /** More files with the account (short name) they end with and mode: 'owns' as owner (it writes), 'reads' as root:<its group>. */
  extra?: Array<[string, Short, number, 'owns' | 'reads']>;
}

const ALL: Short[] = ['etcd', 'kas', 'kcm', 'ks'];
const PKI = '/etc/kubernetes/pki';
const EXPECT: Record<string, Expect> = {
  'v1.16-centos-stacked': { pki: PKI, saKey: 'kcm', etcdData: '/var/lib/etcd', components: ALL, foreign: [] },
  'v1.17-kms-encryption-apiserver-only': { pki: PKI, saKey: 'untouched', etcdData: null, components: ['kas'], foreign: [], extra: [['/etc/kubernetes/apiserver-encryption.conf', 'kas', 0o640, 'reads']] },
  'v1.19-kind-oidc-apiserver-only': { pki: PKI, saKey: 'untouched', etcdData: null, components: ['kas'], foreign: [] },
  'v1.19-ubuntu-stacked': { pki: PKI, saKey: 'kcm', etcdData: '/var/lib/etcd', components: ALL, foreign: [] },
  'v1.20-minikube-certsdir-port8443': { pki: '/var/lib/minikube/certs', saKey: 'shared', etcdData: '/var/lib/minikube/etcd', components: ALL, foreign: [] },
  'v1.22-ubuntu-stacked-seccomp-root': { pki: PKI, saKey: 'shared', etcdData: '/var/lib/etcd-old-copy', components: ALL, foreign: [] },
  'v1.28.0-defaulted-fields': { pki: PKI, saKey: 'shared', etcdData: '/var/lib/etcd', components: ALL, foreign: [] },
  'v1.29-audit-encryption': {
    pki: PKI, saKey: 'shared', etcdData: '/var/lib/etcd', components: ALL, foreign: [],
    extra: [['/var/log/kubernetes/audit', 'kas', 0o700, 'owns'], ['/var/log/kubernetes/audit/audit.log', 'kas', 0o600, 'owns'], ['/etc/kubernetes/enc/encryption-config.yaml', 'kas', 0o640, 'reads']],
  },
  'v1.30-port443-webhooks-haproxy-keepalived': {
    pki: PKI, saKey: 'shared', etcdData: '/var/lib/etcd', components: ALL, foreign: ['haproxy.yaml', 'keepalived.yaml'],
    extra: [['/etc/kubernetes/webhooks/authn-webhook.kubeconfig', 'kas', 0o640, 'reads'], ['/etc/kubernetes/webhooks/authz-webhook.kubeconfig', 'kas', 0o640, 'reads']],
  },
  'v1.31-rootless-control-plane': { pki: PKI, saKey: 'shared', etcdData: '/var/lib/etcd', components: ALL, foreign: [] },
  'v1.31-ubuntu-stacked-kube-vip': { pki: PKI, saKey: 'shared', etcdData: '/var/lib/etcd', components: ALL, foreign: ['kube-vip.yaml'] },
  'v1.32-rhel-stacked': { pki: PKI, saKey: 'shared', etcdData: '/var/lib/etcd', components: ALL, foreign: [] },
};

const MANIFEST_OF: Record<Short, string> = { etcd: 'etcd.yaml', kas: 'kube-apiserver.yaml', kcm: 'kube-controller-manager.yaml', ks: 'kube-scheduler.yaml' };
const rel = (nodePath: string) => nodePath.replace(/^\//, '');

interface Account {
  uid: number;
  gid: number;
  shell: string;
}

async function accounts(sb: Sandbox): Promise<{ users: Map<string, Account>; groups: Map<string, { gid: number; members: string[] }>; shadow: Map<string, string> }> {
  const lines = async (p: string) => (await readFile(sb.path(p), 'utf8')).split('\n').filter(Boolean).map((l) => l.split(':'));
  const users = new Map((await lines('/etc/passwd')).map((f) => [f[0]!, { uid: Number(f[2]), gid: Number(f[3]), shell: f[6]! }]));
  const groups = new Map((await lines('/etc/group')).map((f) => [f[0]!, { gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] }]));
  const shadow = new Map((await lines('/etc/shadow')).map((f) => [f[0]!, f[1]!]));
  return { users, groups, shadow };
}

function entry(snap: Map<string, Entry>, nodePath: string): Entry {
  const e = snap.get(rel(nodePath));
  assert.ok(e, `${nodePath} is missing from the sandbox`);
  return e;
}

/** The migrated state, in the places checked by hand (see the header). */
async function assertMigrated(sb: Sandbox, x: Expect, before: Map<string, Entry>, after: Map<string, Entry>): Promise<void> {
  const { users, groups, shadow } = await accounts(sb);
  const acct = (s: Short): Account => {
    const a = users.get(`kubeadm-${s}`);
    assert.ok(a, `user kubeadm-${s} was not created`);
    return a;
  };
  for (const s of x.components) {
    const a = acct(s);
    // A system account (login.defs leaves SYS_UID_MIN/MAX at their defaults 100-999), no login, locked password.
    assert.ok(a.uid >= 100 && a.uid <= 999, `kubeadm-${s} uid ${a.uid} outside the system range`);
    // /bin/false, the shell kubeadm's RootlessControlPlane gate requires of its accounts (kubeadm-rootless.md §1.5).
    assert.equal(a.shell, '/bin/false');
    assert.equal(groups.get(`kubeadm-${s}`)?.gid, a.gid, `kubeadm-${s} primary group`);
    assert.match(shadow.get(`kubeadm-${s}`) ?? '', /^[!*]/, `kubeadm-${s} has a locked shadow entry`);
    // The manifest runs the component as that account; the manifest file itself stays root 0600 for the kubelet.
    const m = `/etc/kubernetes/manifests/${MANIFEST_OF[s]}`;
    const pod = parse(await readFile(sb.path(m), 'utf8')) as { spec: { securityContext: Record<string, unknown> } };
    assert.equal(pod.spec.securityContext.runAsUser, a.uid, `${m} runAsUser`);
    assert.equal(pod.spec.securityContext.runAsGroup, a.gid, `${m} runAsGroup`);
    assert.deepEqual([entry(after, m).uid, entry(after, m).gid, entry(after, m).mode], [0, 0, 0o600], `${m} owner/mode`);
  }
  const owned = (nodePath: string, s: Short, mode: number) => {
    const e = entry(after, nodePath);
    assert.deepEqual([e.uid, e.gid, e.mode.toString(8)], [acct(s).uid, acct(s).gid, mode.toString(8)], `${nodePath} owner/mode`);
  };
  const readable = (nodePath: string, s: Short, mode: number) => {
    const e = entry(after, nodePath);
    assert.deepEqual([e.uid, e.gid, e.mode.toString(8)], [0, acct(s).gid, mode.toString(8)], `${nodePath} root:kubeadm-${s} ${mode.toString(8)}`);
  };
  // What each component only reads stays root's: its kubeconfig and its own serving key.
  const reads: Array<[Short, string]> = [['kcm', '/etc/kubernetes/controller-manager.conf'], ['ks', '/etc/kubernetes/scheduler.conf'], ['kas', `${x.pki}/apiserver.key`], ['etcd', `${x.pki}/etcd/server.key`]];
  for (const [s, p] of reads) if (x.components.includes(s) && (s !== 'etcd' || x.etcdData)) readable(p, s, 0o640);
  const saKey = `${x.pki}/sa.key`;
  const readers = groups.get('kubeadm-sa-key-readers');
  if (x.saKey === 'shared') {
    assert.ok(readers, 'group kubeadm-sa-key-readers was not created');
    assert.deepEqual([...readers.members].sort(), ['kubeadm-kas', 'kubeadm-kcm']);
    const e = entry(after, saKey);
    assert.deepEqual([e.uid, e.gid, e.mode.toString(8)], [0, readers.gid, '640'], `${saKey} owner/mode`);
  } else {
    assert.equal(readers, undefined, 'no shared sa-key readers group when only one component reads sa.key');
    if (x.saKey === 'kcm') readable(saKey, 'kcm', 0o640);
    else assert.deepEqual(diffSnapshots(new Map([['k', entry(before, saKey)]]), new Map([['k', entry(after, saKey)]]), { ignoreCtime: false, ignoreMtime: false }), [], `${saKey} untouched`);
  }
  if (x.etcdData) {
    const { uid, gid } = acct('etcd');
    const below = [...after.entries()].filter(([r]) => r === rel(x.etcdData!) || r.startsWith(`${rel(x.etcdData!)}/`));
    assert.ok(below.length >= 5, `${x.etcdData} has its member/snap and member/wal entries`);
    for (const [r, e] of below) assert.deepEqual([e.uid, e.gid], [uid, gid], `/${r} owned by kubeadm-etcd`);
    assert.equal(entry(after, x.etcdData).mode, 0o700);
  }
  for (const [p, s, mode, how] of x.extra ?? []) (how === 'owns' ? owned : readable)(p, s, mode);
  // Files nothing migrated reads, and other people's static pods: not even their inode was touched.
  const untouched = ['/etc/kubernetes/admin.conf', '/etc/kubernetes/super-admin.conf', '/etc/kubernetes/kubelet.conf', `${x.pki}/etcd/ca.key`, `${x.pki}/front-proxy-ca.key`, ...x.foreign.map((f) => `/etc/kubernetes/manifests/${f}`)];
  for (const p of untouched) {
    const d = diffSnapshots(new Map([[rel(p), entry(before, p)]]), new Map([[rel(p), entry(after, p)]]), { ignoreMtime: false, ignoreCtime: false });
    assert.deepEqual(d, [], `${p} must be left alone`);
  }
}

/** Exit code of a plain command (chattr), for test setup. */
function runCmd(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: 'ignore' });
    c.on('error', () => resolve(127));
    c.on('close', (code) => resolve(code ?? 1));
  });
}

describe('apply, apply again, rollback on every fixture', { skip: NEEDS_ROOT, concurrency: 2 }, () => {
  for (const fixture of listFixtures()) {
    it(`${fixture}: apply migrates, a second apply changes nothing, rollback restores the tree`, async () => {
      const x = EXPECT[fixture];
      assert.ok(x, `no hand-checked expectations for fixture ${fixture}; add it to EXPECT`);
      const sb = await buildSandbox({ fixture });
      try {
        await addSystemDirs(sb.root);
        const original = await snapshotTree(sb.root);

        const first = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
        assert.equal(first.code, 0, show(first));
        const migrated = await snapshotTree(sb.root);
        await assertMigrated(sb, x, original, migrated);

        const second = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
        assert.equal(second.code, 0, show(second));
        assert.match(second.stdout, /Nothing to do/);
        const again = await snapshotTree(sb.root);
        assert.deepEqual(withoutLockDirTimes(diffSnapshots(migrated, again, { ignoreMtime: false, ignoreCtime: false, ignore: isToolState })), [], 'a second apply must not touch anything, not even inode times');

        const back = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
        assert.equal(back.code, 0, show(back));
        assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState }), [], 'rollback must restore content, owner and mode of every entry');
      } finally {
        await sb.cleanup();
      }
    });
  }
});

describe('state directory on a bare root', { skip: NEEDS_ROOT }, () => {
  it('apply creates missing parents of its state directory 0755 and only the state itself 0700', async () => {
    // v1.19-kind-oidc references nothing under /var, so its sandbox has no /var at all.
    const sb = await buildSandbox({ fixture: 'v1.19-kind-oidc-apiserver-only' });
    try {
      const original = await snapshotTree(sb.root);
      assert.equal(original.get('var'), undefined);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      const after = await snapshotTree(sb.root);
      const mode = (p: string) => after.get(p)?.mode.toString(8);
      assert.deepEqual([mode('var'), mode('var/lib'), mode('var/lib/kubeadm-nonroot'), mode('var/lib/kubeadm-nonroot/backups')], ['755', '755', '700', '700']);
      const back = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(back.code, 0, show(back));
      // Backups are kept after a rollback, so their parents stay; /run existed only while the lock did.
      assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState }), ['+ var (dir 0755 0:0)', '+ var/lib (dir 0755 0:0)']);
    } finally {
      await sb.cleanup();
    }
  });
});

describe('rollback variants and the automatic rollback', { skip: NEEDS_ROOT, concurrency: 2 }, () => {
  const FIXTURE = 'v1.31-ubuntu-stacked-kube-vip';
  const ACCOUNT_FILES = ['etc/group', 'etc/gshadow', 'etc/passwd', 'etc/shadow'];

  it('apply → revert → apply → rollback --keep-accounts: verify names that rollback, blames nothing on kubeadm', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await addSystemDirs(sb.root);
      for (const args of [['apply'], ['revert'], ['apply']]) {
        const r = await runCli([...args, '--root', sb.root, '--yes', '--no-wait']);
        assert.equal(r.code, 0, show(r));
      }
      const list = JSON.parse((await runCli(['backups', '--root', sb.root, '-o', 'json'])).stdout) as Array<{ id: string }>;
      const second = list[2]!.id;
      const back = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait', '--keep-accounts']);
      assert.equal(back.code, 0, show(back));
      const vj = await runCli(['verify', '--root', sb.root, '-o', 'json']);
      assert.equal(vj.code, 1, show(vj));
      const report = JSON.parse(vj.stdout) as { state: string; rolledBackRun?: string; findings: Array<{ cause: string }> };
      assert.equal(report.state, 'not-migrated');
      assert.equal(report.rolledBackRun, second);
      assert.deepEqual(report.findings.filter((f) => /regenerated|re-created by root|accounts are missing/.test(f.cause)), [], 'no finding blames kubeadm or a userdel for what the rollback did');
    } finally {
      await sb.cleanup();
    }
  });

  it('rollback --keep-accounts restores files and manifests, keeps the accounts, and a new apply reuses them', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await addSystemDirs(sb.root);
      const original = await snapshotTree(sb.root);
      const first = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(first.code, 0, show(first));
      const migrated = await snapshotTree(sb.root);

      const back = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait', '--keep-accounts']);
      assert.equal(back.code, 0, show(back));
      assert.doesNotMatch(back.stdout, /↶ (create|save) /, 'the preview lists no account undo');
      assert.match(back.stdout, /↶ \/etc\/kubernetes\/manifests\/etcd\.yaml back to its saved original/);
      // Only the account databases (and shadow-utils' "-" copies of them) still differ from the original.
      const d = diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState });
      assert.deepEqual(d, ACCOUNT_FILES.flatMap((f) => [`${f}: content changed`, `+ ${f}- (file ${f.includes('shadow') ? '0640 0:42' : '0644 0:0'})`]));

      // verify: the kept accounts alone must not read as a migrated node whose manifests kubeadm
      // regenerated — the migration was rolled back.
      const id = /Applied \(backup (\S+);/.exec(first.stdout)?.[1];
      assert.ok(id, first.stdout);
      const v = await runCli(['verify', '--root', sb.root]);
      assert.equal(v.code, 1, show(v));
      assert.equal(v.stdout.trim().split('\n').length, 1, show(v));
      assert.match(v.stdout, new RegExp(`migration was rolled back \\(run ${id}\\)`));
      const vj = await runCli(['verify', '--root', sb.root, '-o', 'json']);
      const report = JSON.parse(vj.stdout) as { state: string; rolledBackRun?: string; findings: Array<{ cause: string }> };
      assert.equal(report.state, 'not-migrated');
      assert.equal(report.rolledBackRun, id);
      assert.ok(report.findings.length > 0);
      assert.deepEqual(report.findings.filter((f) => /regenerated|re-created by root/.test(f.cause)), [], 'no finding blames kubeadm for what the rollback did');

      const again = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(again.code, 0, show(again));
      assert.match(again.stdout, /= user  kubeadm-etcd .*\(exists, reused\)/);
      assert.deepEqual(diffSnapshots(migrated, await snapshotTree(sb.root), { ignore: isToolState }), [], 'the same IDs, owners and manifests as the first apply');
    } finally {
      await sb.cleanup();
    }
  });

  it('two stacked runs: rollback refuses the older one first, then undoes newest first back to the original', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await addSystemDirs(sb.root);
      const original = await snapshotTree(sb.root);
      const a = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(a.code, 0, show(a));
      const idA = /Applied \(backup (\S+);/.exec(a.stdout)?.[1];
      assert.ok(idA, a.stdout);
      // Drift after the migration (a renewal re-wrote the key as root, world-readable by mistake); a
      // second apply fixes it as a run of its own.
      const key = '/etc/kubernetes/pki/apiserver.key';
      await chown(sb.path(key), 0, 0);
      await chmod(sb.path(key), 0o644);
      const drifted = await snapshotTree(sb.root);
      await sleep(5); // backup ids are milliseconds
      const b = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(b.code, 0, show(b));
      assert.match(b.stdout, /1 file\(s\) to change/);

      const before = await snapshotTree(sb.root);
      const refused = await runCli(['rollback', '--root', sb.root, '--backup', idA, '--yes', '--no-wait']);
      assert.equal(refused.code, 2, show(refused));
      assert.match(refused.stderr, new RegExp(`run ${idA} has newer runs on top of it \\(\\S+\\); roll those back first`));
      assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.root)), []);

      const undoB = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(undoB.code, 0, show(undoB));
      assert.deepEqual(diffSnapshots(drifted, await snapshotTree(sb.root), { ignore: isToolState }), [], 'the newest run is undone first');
      const undoA = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(undoA.code, 0, show(undoA));
      assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState }), []);

      const again = await runCli(['rollback', '--root', sb.root, '--backup', idA, '--yes', '--no-wait']);
      assert.equal(again.code, 2, show(again));
      assert.match(again.stderr, new RegExp(`run ${idA} was already rolled back`));
      const none = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(none.code, 0, show(none));
      assert.equal(none.stdout, 'Nothing to roll back.\n');
    } finally {
      await sb.cleanup();
    }
  });

  it('a step failing late (kube-scheduler.yaml cannot be replaced) rolls everything back: exit 1, tree restored', async (t) => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    const scheduler = sb.path('/etc/kubernetes/manifests/kube-scheduler.yaml');
    try {
      await addSystemDirs(sb.root);
      const original = await snapshotTree(sb.root);
      // An immutable file (chattr +i) cannot be renamed over: the last manifest write fails with EPERM
      // after every other change, while nothing the plan fingerprints (content, owner, mode) differs.
      const chattr = await runCmd('chattr', ['+i', scheduler]);
      if (skipUnlessPossible(t, chattr !== 0 ? ['chattr +i is not supported on this file system'] : [])) return;
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /apply failed and was rolled back \(backup \S+\): .*(EPERM|operation not permitted)/i);
      assert.match(r.stderr, /↶ undo: write \/etc\/kubernetes\/manifests\/kube-controller-manager\.yaml/, 'the manifests written before were undone');
      await runCmd('chattr', ['-i', scheduler]);
      assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: isToolState }), []);
      const listed = await runCli(['backups', '--root', sb.root, '-o', 'json']);
      assert.deepEqual((JSON.parse(listed.stdout) as Array<{ status: string }>).map((b) => b.status), ['rolled-back']);
    } finally {
      await runCmd('chattr', ['-i', scheduler]);
      await sb.cleanup();
    }
  });

});
