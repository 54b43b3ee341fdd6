// Day-2 operations on a migrated node (issue: stay non-root across kubeadm upgrades, certificate
// renewal and etcd restore; full revert). kubeadm itself cannot run here, so each operation is
// simulated by doing to the sandbox what it does to a node: an upgrade replaces the manifests with
// kubeadm's output for the new version (no securityContext); a renewal re-writes keys as root 0600;
// a restore done as root leaves root-owned data (k0s#891, rancher/rke2#6466).
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { removeSecurity } from '../../src/plan/manifest-edit.js';
import { runCli, show } from '../../scripts/lib/cli-run.js';
import { NEEDS_ROOT } from '../support/cli-root.js';
import { buildKubeadmCaseSandbox, readKubeadmCase } from '../../scripts/lib/kubeadm-cases.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const sandboxes: Sandbox[] = [];
after(async () => Promise.all(sandboxes.map((s) => s.cleanup())));
async function sandbox(opts: Parameters<typeof buildSandbox>[0]): Promise<Sandbox> {
  const s = await buildSandbox(opts);
  sandboxes.push(s);
  return s;
}
const toolState = (rel: string) => rel.startsWith('var/lib/kubeadm-nonroot') || rel === 'run' || rel.startsWith('run/');

async function ok(args: string[], expect = 0) {
  const r = await runCli(args);
  assert.equal(r.code, expect, show(r));
  return r;
}
async function verify(root: string) {
  const r = await runCli(['verify', '--root', root, '-o', 'json']);
  return { code: r.code, report: JSON.parse(r.stdout) as { ok: boolean; findings: Array<{ kind: string; subject: string; cause: string; fix: string }> } };
}
const idsOf = async (root: string) => (await readFile(join(root, 'etc/passwd'), 'utf8')).split('\n').filter((l) => l.startsWith('kubeadm-')).sort();
const podSc = async (root: string, c: string) => parse(await readFile(join(root, 'etc/kubernetes/manifests', `${c}.yaml`), 'utf8')).spec.securityContext;

describe('day-2 operations', { skip: NEEDS_ROOT }, () => {
  it('re-applies after a simulated upgrade 1.19 → 1.20 with the same IDs, and shares sa.key as 1.20 needs', async () => {
    const s = await sandbox({ fixture: 'v1.19-ubuntu-stacked' });
    const pristine = new Map<string, string>();
    for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) pristine.set(c, await readFile(join(s.manifestsDir, `${c}.yaml`), 'utf8'));
    await ok(['apply', '--root', s.root, '--yes', '--no-wait']);
    const ids = await idsOf(s.root);
    const kcmBefore = await podSc(s.root, 'kube-controller-manager');
    assert.equal(kcmBefore.supplementalGroups, undefined); // v1.19: kcm alone reads sa.key
    // kubeadm upgrade to 1.20 regenerates every manifest: new image tags, and the apiserver gains
    // --service-account-signing-key-file (kubeadm-manifests.md §2, 1.20 row).
    for (const [c, text] of pristine) {
      let t = text.replace(/:v1\.19\.0/g, ':v1.20.15');
      if (c === 'kube-apiserver') t = t.replace('    - --service-account-key-file=/etc/kubernetes/pki/sa.pub\n', '    - --service-account-issuer=https://kubernetes.default.svc.cluster.local\n    - --service-account-key-file=/etc/kubernetes/pki/sa.pub\n    - --service-account-signing-key-file=/etc/kubernetes/pki/sa.key\n');
      await writeFile(join(s.manifestsDir, `${c}.yaml`), t, { mode: 0o600 });
    }
    assert.ok((await readFile(join(s.manifestsDir, 'kube-apiserver.yaml'), 'utf8')).includes('--service-account-signing-key-file'));
    const drift = await verify(s.root);
    assert.equal(drift.code, 1);
    assert.ok(drift.report.findings.some((f) => f.kind === 'manifest' && /regenerated/.test(f.cause)), JSON.stringify(drift.report.findings));
    // kube-apiserver reading sa.key is a new reader of a secret: a NEW GRANT the operator consents to.
    const refused = await ok(['apply', '--root', s.root, '--yes', '--no-wait'], 2);
    assert.match(refused.stderr, /NEW GRANT: \/etc\/kubernetes\/pki\/sa\.key .*new reader: kube-apiserver/);
    await ok(['apply', '--root', s.root, '--yes', '--no-wait', '--grant', '/etc/kubernetes/pki/sa.key']);
    assert.deepEqual(await idsOf(s.root), ids, 'users keep their IDs');
    const group = await readFile(join(s.root, 'etc/group'), 'utf8');
    const sa = /^kubeadm-sa-key-readers:x:(\d+):(.*)$/m.exec(group);
    assert.ok(sa, 'the reader group now exists');
    assert.equal(sa[2], 'kubeadm-kas,kubeadm-kcm');
    assert.deepEqual((await podSc(s.root, 'kube-apiserver')).supplementalGroups, [Number(sa[1])]);
    assert.equal((await podSc(s.root, 'kube-controller-manager')).runAsUser, kcmBefore.runAsUser);
    assert.equal((await verify(s.root)).code, 0);
  });

  it('verify names a re-created key and a restore as causes; apply repairs both', async () => {
    const s = await sandbox({ fixture: 'v1.32-rhel-stacked' });
    await ok(['apply', '--root', s.root, '--yes', '--no-wait']);
    assert.equal((await verify(s.root)).code, 0);
    // A key written anew by root, 0600 root:root (a new inode) — kubeadm init phase certs after it was
    // removed. (kubeadm certs renew rewrites in place and keeps owner and mode: seen on the real node.)
    const key = s.path('/etc/kubernetes/pki/apiserver.key');
    await rm(key);
    await writeFile(key, 'renewed\n', { mode: 0o600 });
    // etcdctl snapshot restore run as root into the data dir.
    const data = s.path('/var/lib/etcd');
    await rm(join(data, 'member'), { recursive: true });
    await mkdir(join(data, 'member', 'snap'), { recursive: true });
    await writeFile(join(data, 'member', 'snap', 'db'), 'restored');
    const { code, report } = await verify(s.root);
    assert.equal(code, 1);
    const bySubject = new Map(report.findings.map((f) => [f.subject, f]));
    assert.match(bySubject.get('/etc/kubernetes/pki/apiserver.key')!.cause, /re-created by root/);
    assert.equal(bySubject.get('/var/lib/etcd')!.kind, 'data-dir');
    assert.match(bySubject.get('/var/lib/etcd')!.cause, /snapshot restore/);
    assert.match(bySubject.get('/var/lib/etcd')!.fix, /kubeadm-nonroot apply/);
    await ok(['apply', '--root', s.root, '--yes', '--no-wait']);
    assert.equal((await verify(s.root)).code, 0);
  });

  it('an upgrade without the patches: verify blames the regenerated manifests and the root etcd for its data files', async () => {
    // As observed on the real node (kubeadm v1.36.3 → v1.37.2, npm run test:node): kubeadm upgrade
    // apply without --patches regenerates every manifest as root; etcd, now root, writes new WAL and
    // snapshot files into the data dir as root before anyone runs verify.
    const s = await sandbox({ fixture: 'v1.32-rhel-stacked' });
    await ok(['apply', '--root', s.root, '--yes', '--no-wait']);
    for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      const p = join(s.manifestsDir, `${c}.yaml`);
      await writeFile(p, removeSecurity(await readFile(p, 'utf8'), { keepSeccompField: true, removeSeccompAnnotation: false }).text);
    }
    await mkdir(s.path('/var/lib/etcd/member/wal'), { recursive: true });
    await writeFile(s.path('/var/lib/etcd/member/wal/0.tmp'), 'written by a root etcd'); // the test runs as root
    const { code, report } = await verify(s.root);
    assert.equal(code, 1);
    const bySubject = new Map(report.findings.map((f) => [f.subject, f]));
    assert.match(bySubject.get('/var/lib/etcd')!.cause, /written by etcd running as root/);
    assert.match(bySubject.get('/etc/kubernetes/manifests/etcd.yaml')!.cause, /regenerated/);
    assert.ok(!report.findings.some((f) => /not been migrated/.test(f.cause)), JSON.stringify(report.findings));
    await ok(['apply', '--root', s.root, '--yes', '--no-wait']);
    assert.equal((await verify(s.root)).code, 0);
  });

  it("kubeadm's own v1.37.2 manifests over a migrated v1.36.3 node (an upgrade without the patches): identityLost in the plan, verify blames the regeneration", async () => {
    // What `kubeadm upgrade apply v1.37.2` without --patches leaves on a node migrated at v1.36.3 (the
    // real-node flow's step, npm run test:node): kubeadm's unpatched manifests of the target release,
    // byte for byte as that release's kubeadm wrote them (test/fixtures/kubeadm), root 0600; etcd,
    // running as root again, writes into its data dir. The oracle for "regenerated" is kubeadm's output.
    const from = readKubeadmCase('v1.36.3', 'default');
    const to = readKubeadmCase('v1.37.2', 'default');
    const s = await buildKubeadmCaseSandbox(from);
    sandboxes.push(s);
    await ok(['apply', '--root', s.root, '--yes', '--no-wait']);
    assert.equal((await verify(s.root)).code, 0);
    const ids = await idsOf(s.root);
    for (const [file, text] of Object.entries(to.manifests)) await writeFile(join(s.manifestsDir, file), text, { mode: 0o600 });
    await mkdir(s.path('/var/lib/etcd/member/wal'), { recursive: true });
    await writeFile(s.path('/var/lib/etcd/member/wal/1.tmp'), 'written by a root etcd'); // the test runs as root

    const plan = JSON.parse((await ok(['plan', '--root', s.root, '-o', 'json'])).stdout) as { manifests: Array<{ component: string; identityLost: boolean }>; accounts: Array<{ action: string }> };
    assert.deepEqual(plan.manifests.map((m) => [m.component, m.identityLost]), Object.keys(to.manifests).sort().map((f) => [f.replace(/\.yaml$/, ''), true]));
    assert.ok(plan.accounts.every((a) => a.action.startsWith('reuse-')), 'the accounts are still there');
    const human = (await ok(['plan', '--root', s.root])).stdout;
    assert.match(human, /\/etc\/kubernetes\/manifests\/etcd\.yaml\n\s+! no longer runs as kubeadm-etcd \(uid \d+\), whose account exists/);

    const { code, report } = await verify(s.root);
    assert.equal(code, 1);
    const manifests = report.findings.filter((f) => f.kind === 'manifest');
    assert.deepEqual(manifests.map((f) => f.subject).sort(), Object.keys(to.manifests).map((f) => `/etc/kubernetes/manifests/${f}`).sort());
    for (const f of manifests) assert.match(f.cause, /regenerated without the non-root securityContext/, f.subject);
    const data = report.findings.find((f) => f.subject === '/var/lib/etcd');
    assert.match(data?.cause ?? '', /written by etcd running as root/, JSON.stringify(report.findings));
    assert.ok(!report.findings.some((f) => /not been migrated|edited by hand/.test(f.cause)), JSON.stringify(report.findings));
    const text = await runCli(['verify', '--root', s.root]);
    assert.match(text.stdout, /regenerated/, 'the text verify prints, which the real-node flow matches');

    await ok(['apply', '--root', s.root, '--yes', '--no-wait']);
    assert.equal((await verify(s.root)).code, 0);
    assert.deepEqual(await idsOf(s.root), ids, 'the same IDs');
  });

  it("restores only the securityContext on a node that used kubeadm's RootlessControlPlane gate", async () => {
    // kubeadm's gate wrote these accounts (IDs 100-104, shell /bin/false, explicit group members).
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nkubeadm-etcd:x:100:100::/:/bin/false\nkubeadm-kas:x:101:101::/:/bin/false\nkubeadm-kcm:x:102:102::/:/bin/false\nkubeadm-ks:x:103:103::/:/bin/false\n';
    const group = 'root:x:0:\nshadow:x:42:\nkubeadm-etcd:x:100:kubeadm-etcd\nkubeadm-kas:x:101:kubeadm-kas\nkubeadm-kcm:x:102:kubeadm-kcm\nkubeadm-ks:x:103:kubeadm-ks\nkubeadm-sa-key-readers:x:104:kubeadm-kas,kubeadm-kcm\n';
    const s = await sandbox({ fixture: 'v1.31-rootless-control-plane', passwd, group });
    await ok(['apply', '--root', s.root, '--yes', '--no-wait']); // brings the files to the gate's ownership (+ runAsNonRoot)
    // Upgrade to a kubeadm without the gate: manifests regenerated as root (seccompProfile kept: kubeadm writes it).
    for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      const p = join(s.manifestsDir, `${c}.yaml`);
      await writeFile(p, removeSecurity(await readFile(p, 'utf8'), { keepSeccompField: true, removeSeccompAnnotation: true }).text.replace(/v1\.31\.1/g, 'v1.35.0'));
    }
    const r = await ok(['plan', '--root', s.root, '-o', 'json']);
    const plan = JSON.parse(r.stdout);
    assert.ok(plan.accounts.every((a: { action: string }) => a.action.startsWith('reuse-')), 'every account reused');
    assert.deepEqual(plan.files, [], 'ownership already right');
    assert.equal(plan.manifests.length, 4);
    await ok(['apply', '--root', s.root, '--yes', '--no-wait']);
    assert.deepEqual([await podSc(s.root, 'etcd'), await podSc(s.root, 'kube-scheduler')].map((x) => [x.runAsUser, x.runAsGroup]), [[100, 100], [103, 103]]);
    assert.deepEqual((await podSc(s.root, 'kube-apiserver')).supplementalGroups, [104]);
  });

  it('revert gives a tree equal to a fresh kubeadm node, and can itself be rolled back', async () => {
    const s = await sandbox({ fixture: 'v1.29-audit-encryption' });
    const fresh = await snapshotTree(s.root);
    await ok(['apply', '--root', s.root, '--yes', '--no-wait']);
    const migrated = await snapshotTree(s.root);
    const plan = JSON.parse((await ok(['revert', '--root', s.root, '--dry-run', '-o', 'json'])).stdout);
    assert.equal(plan.kind, 'RevertPlan');
    assert.deepEqual(diffSnapshots(migrated, await snapshotTree(s.root), { ignore: toolState }), [], '--dry-run changes nothing');
    await ok(['revert', '--root', s.root, '--yes', '--no-wait']);
    // shadow-utils keeps its own "-" backups of the account files; everything else is as kubeadm left it.
    const shadowBackups = (rel: string) => /^etc\/(passwd|group|shadow|gshadow)-$/.test(rel);
    assert.deepEqual(diffSnapshots(fresh, await snapshotTree(s.root), { ignore: (r) => toolState(r) || shadowBackups(r) }), []);
    assert.equal((await ok(['verify', '--root', s.root], 1)).code, 1); // not migrated any more
    await ok(['rollback', '--root', s.root, '--yes', '--no-wait']);
    assert.deepEqual(diffSnapshots(migrated, await snapshotTree(s.root), { ignore: toolState }), [], 'rollback of the revert restores the migrated node');
  });
});
