// The attack of "a later apply widens access on the component's word", through the real CLI on a
// sandbox: after apply, kube-controller-manager — its own user, through setpriv, no capabilities — tries
// to append `client-key: /etc/kubernetes/pki/etcd/ca.key` to its kubeconfig, and the KERNEL refuses (it
// only reads that file: root's, read through its group). If a root edit adds the reference anyway, the
// next plan lists etcd/ca.key as a NEW GRANT with where it came from, and apply without --grant exits 2
// with the tree byte-identical; with --grant for that exact path it proceeds.
// The migration record is written as apply leaves it (src/state/record.types.ts): root:root 0600 in
// the tool's state dir, one grant per file action of the reviewed plan.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { addSystemDirs, runCli, show } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT, withoutLockDirTimes } from '../support/cli-root.js';
import { readPod } from '../../scripts/lib/pod-reading.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';
import { identityOf, missingPrerequisites, SETPRIV, setprivArgs } from '../support/setpriv.js';
import { skipUnlessPossible } from '../support/prerequisites.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const KCM_CONF = '/etc/kubernetes/controller-manager.conf';
const ETCD_CA_KEY = '/etc/kubernetes/pki/etcd/ca.key';

interface PlanFile {
  action: string;
  path: string;
  readers: string[];
  access: 'read' | 'write';
  secret: boolean;
  reason: string;
  current: { uid: number; gid: number; mode: number } | null;
  desired: { uid: number; gid: number; mode: number };
  newGrant?: { source: string };
}

/** The record apply leaves for the reviewed plan `files` (only what the consent rule reads matters). */
async function writeRecord(sb: Sandbox, files: PlanFile[]): Promise<void> {
  const now = new Date().toISOString();
  const record = {
    apiVersion: 'kubeadm-nonroot/v1alpha1',
    kind: 'MigrationRecord',
    status: 'migrated',
    config: { manifestsDir: '/etc/kubernetes/manifests', components: ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'], accounts: {}, saKeyReaders: {} },
    accounts: [],
    grants: files.map((f) => ({ path: f.path, type: f.action === 'set-owner-mode' ? 'file' : 'directory', components: f.readers, access: f.access, recursive: f.action === 'set-owner-recursive', secret: f.secret, given: { uid: f.desired.uid, gid: f.desired.gid, mode: f.desired.mode }, before: f.current && { uid: f.current.uid, gid: f.current.gid, mode: f.current.mode }, source: f.reason })),
    manifestEdits: [],
    kubernetesVersion: null,
    etcdVersion: null,
    migratedAt: now,
    updatedAt: now,
    toolVersion: 'test',
    by: 'root',
    history: [],
  };
  await mkdir(sb.path('/var/lib/kubeadm-nonroot'), { recursive: true, mode: 0o700 });
  await writeFile(sb.path('/var/lib/kubeadm-nonroot/record.json'), JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
}

/** Run `sh -c script` as the migrated kube-controller-manager (its manifest's identity, no capabilities). */
async function asKcm(sb: Sandbox, script: string): Promise<number | null> {
  const pod = readPod(await readFile(sb.path('/etc/kubernetes/manifests/kube-controller-manager.yaml'), 'utf8'));
  const id = identityOf(pod);
  assert.notEqual(id.uid, 0, 'kube-controller-manager runs as its own user after apply');
  const argv = [...setprivArgs({ ...id, bounding: [], noNewPrivs: true }), '--', '/bin/sh', '-c', script];
  return new Promise((resolve, reject) => {
    const c = spawn(SETPRIV, argv, { stdio: 'ignore', cwd: '/' });
    c.on('error', reject);
    c.on('close', (code) => resolve(code));
  });
}

const nodeTree = async (sb: Sandbox) => new Map([...(await snapshotTree(sb.root))].filter(([rel]) => !isToolState(rel)));

describe('no new grant without consent: the controller-manager attack', { skip: NEEDS_ROOT }, () => {
  it('kcm cannot add a client-key to its kubeconfig; a root edit that does is a NEW GRANT, refused without --grant', async (t) => {
    if (skipUnlessPossible(t, missingPrerequisites())) return;
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    try {
      await addSystemDirs(sb.root);
      const first = await runCli(['plan', '--root', sb.root, '-o', 'json']);
      assert.equal(first.code, 0, show(first));
      const reviewed = (JSON.parse(first.stdout) as { files: PlanFile[] }).files;
      const applied = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(applied.code, 0, show(applied));
      await writeRecord(sb, reviewed);

      // The compromised kcm, as itself: the kernel refuses to let it append to the kubeconfig it reads.
      const conf = sb.path(KCM_CONF);
      const before = await readFile(conf, 'utf8');
      const code = await asKcm(sb, `printf '    client-key: ${ETCD_CA_KEY}\\n' >> '${conf}'`);
      assert.notEqual(code, 0, 'the append must fail');
      assert.equal(await readFile(conf, 'utf8'), before, 'controller-manager.conf is unchanged');

      // A root edit does it anyway: a user entry naming etcd's CA key.
      const kubeconfig = parse(before) as { users: Array<Record<string, unknown>> };
      kubeconfig.users.push({ name: 'extra', user: { 'client-key': ETCD_CA_KEY } });
      await writeFile(conf, stringify(kubeconfig));

      const next = await runCli(['plan', '--root', sb.root, '-o', 'json']);
      assert.equal(next.code, 2, show(next));
      const plan = JSON.parse(next.stdout) as { files: PlanFile[]; problems: Array<{ code: string; path?: string }> };
      const grant = plan.files.find((f) => f.path === ETCD_CA_KEY);
      assert.ok(grant?.newGrant, `etcd/ca.key is listed as a NEW GRANT: ${JSON.stringify(plan.files.map((f) => f.path))}`);
      assert.match(grant.newGrant.source, /kube-controller-manager .*client-key/);
      assert.deepEqual(plan.problems.map((p) => [p.code, p.path]), [['new-grant', ETCD_CA_KEY]]);
      const human = await runCli(['plan', '--root', sb.root]);
      assert.match(human.stdout, /NEW GRANTS[^\n]*\n[^\n]*etcd\/ca\.key/);

      const tree = await nodeTree(sb);
      const refused = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(refused.code, 2, show(refused));
      assert.match(refused.stderr, /etcd\/ca\.key/);
      assert.deepEqual(withoutLockDirTimes(diffSnapshots(tree, await nodeTree(sb), { ignoreMtime: false, ignoreCtime: false })), [], 'nothing changed');

      const consented = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait', '--grant', ETCD_CA_KEY]);
      assert.equal(consented.code, 0, show(consented));
      const key = await snapshotTree(sb.root).then((s) => s.get(path.relative('/', ETCD_CA_KEY)));
      assert.equal(key?.uid, 0, 'granted for reading only: still root\'s');
    } finally {
      await sb.cleanup();
    }
  });
});
