// End to end with a REAL etcd: a sandbox node whose only static pod is an etcd.yaml in kubeadm's
// shape, run by the static-pod runner (test/support/runner.ts, the kubelet's stand-in), migrated by
// `kubeadm-nonroot apply` with its health gates ON, then rolled back. What is proven comes from the
// kernel and from etcd itself, never from the tool's own report: /proc says who etcd runs as and
// which capabilities it has, etcdctl says it is healthy and still holds the data written before.
// The negative case applies a deliberately broken plan (the data dir is not handed to kubeadm-etcd):
// the new etcd cannot open its data dir, the gate must fail, and the automatic rollback must bring
// back a healthy root etcd with the data and every owner and mode as they were.
// Skipped only when not root or etcd is absent, and then FAILS instead when KUBEADM_NONROOT_REQUIRE_E2E=1.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parseGroup, parsePasswd } from '../../src/discover/accounts.js';
import { freeEtcdPorts, renderEtcdManifest, type EtcdPorts } from '../support/etcd-manifest.js';
import { startRunner, type Runner } from '../support/runner.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';
import { missingPrerequisites, skipUnlessPossible } from '../support/setpriv.js';
import { diffSnapshots, snapshotTree, type Entry } from '../support/tree.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(REPO, 'bin/kubeadm-nonroot');
const KEY = '/e2e/written-before-apply';
const VALUE = 'still-here-after-every-restart';

interface Node {
  sb: Sandbox;
  ports: EtcdPorts;
  runner: Runner;
}

async function cli(args: string[]) {
  return execa(process.execPath, [CLI, ...args], { reject: false, stdin: 'ignore', timeout: 240_000, env: { NO_COLOR: '1' } });
}

async function etcdctl(n: Node, args: string[]) {
  const pki = n.sb.path('/etc/kubernetes/pki/etcd');
  return execa(
    '/usr/bin/etcdctl',
    [
      `--endpoints=https://127.0.0.1:${n.ports.client}`,
      `--cacert=${pki}/ca.crt`,
      `--cert=${pki}/healthcheck-client.crt`,
      `--key=${pki}/healthcheck-client.key`,
      '--dial-timeout=3s',
      '--command-timeout=5s',
      ...args,
    ],
    { reject: false, stdin: 'ignore', env: { ETCDCTL_API: '3' }, extendEnv: false },
  );
}

async function waitEtcdHealthy(n: Node, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await etcdctl(n, ['endpoint', 'health']);
    if (r.exitCode === 0) return;
    last = `${r.stdout}${r.stderr}`.trim();
    await new Promise((res) => setTimeout(res, 300));
  }
  throw new Error(`etcd did not answer "endpoint health" within ${timeoutMs} ms: ${last}`);
}

async function getKey(n: Node): Promise<string> {
  const r = await etcdctl(n, ['get', KEY, '--print-value-only']);
  assert.equal(r.exitCode, 0, `etcdctl get failed: ${r.stderr}`);
  return r.stdout.trim();
}

interface ProcStatus {
  uids: number[];
  gids: number[];
  groups: number[];
  capPrm: bigint;
  capEff: bigint;
  capBnd: bigint;
  noNewPrivs: number;
}

async function procStatus(pid: number): Promise<ProcStatus> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string => {
    const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(s);
    assert.ok(m, `/proc/${pid}/status has no ${name}`);
    return m[1].trim();
  };
  const ids = (name: string) => (field(name) ? field(name).split(/\s+/).map(Number) : []);
  return {
    uids: ids('Uid'),
    gids: ids('Gid'),
    groups: ids('Groups'),
    capPrm: BigInt(`0x${field('CapPrm')}`),
    capEff: BigInt(`0x${field('CapEff')}`),
    capBnd: BigInt(`0x${field('CapBnd')}`),
    noNewPrivs: Number(field('NoNewPrivs')),
  };
}

/** The etcd process the runner runs now; it must be the one /proc knows as etcd. */
async function etcdPid(n: Node): Promise<number> {
  const p = n.runner.pods().find((x) => x.file === 'etcd.yaml');
  assert.ok(p?.pid && p.state === 'running', `etcd is not running: ${JSON.stringify(p)}`);
  const argv0 = (await readFile(`/proc/${p.pid}/cmdline`, 'utf8')).split('\0')[0];
  assert.equal(path.basename(argv0), 'etcd');
  return p.pid;
}

async function account(sb: Sandbox, name: string): Promise<{ uid: number; gid: number } | null> {
  const user = parsePasswd(await readFile(sb.path('/etc/passwd'), 'utf8'), '/etc/passwd').find((u) => u.name === name);
  const group = parseGroup(await readFile(sb.path('/etc/group'), 'utf8'), '/etc/group').find((g) => g.name === name);
  if (!user) return null;
  assert.ok(group, `user ${name} exists but group ${name} does not`);
  assert.equal(user.gid, group.gid, `${name}'s primary group is not group ${name}`);
  return { uid: user.uid, gid: user.gid };
}

/** A sandbox with only etcd.yaml, an empty data dir (etcd initialises it) and the runner running etcd as root. */
async function startNode(): Promise<Node> {
  const ports = await freeEtcdPorts();
  const sb = await buildSandbox({ manifests: { 'etcd.yaml': renderEtcdManifest({ ports }) } });
  // The sandbox fakes etcd's on-disk files; a real etcd refuses a zero-filled db, so it starts empty
  // (the data dir itself stays as kubeadm leaves it: root, 0700).
  await rm(sb.path('/var/lib/etcd/member'), { recursive: true, force: true });
  // The pods' log lives outside the sandbox (tree snapshots must not see it); kept only when a test fails.
  const logDir = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-e2e-log-'));
  const runner = startRunner({ root: sb.root, log: path.join(logDir, 'pods.log') });
  const n = { sb, ports, runner };
  try {
    await runner.waitFor('etcd.yaml', (p) => p.state === 'running', 15_000, 'etcd running');
    await waitEtcdHealthy(n);
  } catch (e) {
    printLog(n);
    await stopNode(n);
    throw e;
  }
  return n;
}

function printLog(n: Node): void {
  const tail = n.runner.readLog().split('\n').slice(-60).join('\n');
  process.stderr.write(`--- static-pod runner log (${n.runner.logPath}), last lines:\n${tail}\n---\n`);
}

async function stopNode(n: Node): Promise<void> {
  await n.runner.stop();
  await n.sb.cleanup();
}

/** Run the body; on failure put the pods' log in the error, and always stop etcd and remove the sandbox. */
async function withNode(t: TestContext, body: (n: Node) => Promise<void>): Promise<void> {
  if (skipUnlessPossible(t, missingPrerequisites({ etcd: true }))) return;
  const n = await startNode();
  let failed = true;
  try {
    await body(n);
    failed = false;
  } catch (e) {
    printLog(n);
    throw e;
  } finally {
    await stopNode(n);
    if (!failed) await rm(path.dirname(n.runner.logPath), { recursive: true, force: true });
  }
}

const DATA_DIR = 'var/lib/etcd';

/**
 * Differences from `before` other than what a running etcd and the tool's own records are expected to
 * change: the CONTENT below the data dir (etcd writes its WAL and db), the tool's state dir and lock.
 * Owners and modes of everything, the data dir's entries included, must be as they were.
 */
function unexpectedChanges(before: Map<string, Entry>, after: Map<string, Entry>): string[] {
  const own = (m: Map<string, Entry>) =>
    new Map([...m].filter(([rel]) => !rel.startsWith(`${DATA_DIR}/`) && !rel.startsWith('var/lib/kubeadm-nonroot') && rel !== 'run' && !rel.startsWith('run/')));
  return diffSnapshots(own(before), own(after));
}

/** Every entry below the data dir, with its owner: all must be root's again after a rollback. */
function dataDirOwners(snap: Map<string, Entry>): string[] {
  return [...snap].filter(([rel]) => rel.startsWith(`${DATA_DIR}/`) && (snap.get(rel)!.uid !== 0 || snap.get(rel)!.gid !== 0)).map(([rel, e]) => `${rel} ${e.uid}:${e.gid}`);
}

test('etcd e2e: apply with health gates moves a real etcd to kubeadm-etcd without privileges, rollback brings root back, data intact', { timeout: 300_000 }, async (t) => {
  await withNode(t, async (n) => {
    const rootPid = await etcdPid(n);
    const asRoot = await procStatus(rootPid);
    assert.deepEqual(asRoot.uids, [0, 0, 0, 0], 'before apply etcd runs as root (kubeadm writes no securityContext user)');
    assert.notEqual(asRoot.capEff, 0n, 'a root container keeps the runtime default capabilities');
    const put = await etcdctl(n, ['put', KEY, VALUE]);
    assert.equal(put.exitCode, 0, `etcdctl put failed: ${put.stderr}`);
    const before = await snapshotTree(n.sb.root);
    assert.equal(await account(n.sb, 'kubeadm-etcd'), null, 'the sandbox starts without the kubeadm-etcd account');

    const apply = await cli(['apply', '--root', n.sb.root, '--yes', '--timeout', '60s']);
    assert.equal(apply.exitCode, 0, `apply failed (${apply.exitCode}):\n${apply.stdout}\n${apply.stderr}`);

    const planned = await account(n.sb, 'kubeadm-etcd');
    assert.ok(planned, 'apply created the kubeadm-etcd user');
    assert.notEqual(planned.uid, 0);
    const pid = await etcdPid(n);
    assert.notEqual(pid, rootPid, 'the kubelet stand-in restarted etcd');
    const st = await procStatus(pid);
    assert.deepEqual(st.uids, [planned.uid, planned.uid, planned.uid, planned.uid], 'real, effective, saved and fs UID are kubeadm-etcd');
    assert.deepEqual(st.gids, [planned.gid, planned.gid, planned.gid, planned.gid], 'all GIDs are group kubeadm-etcd');
    assert.equal(st.capEff, 0n, 'CapEff: no effective capabilities');
    assert.equal(st.capPrm, 0n, 'CapPrm: no permitted capabilities');
    assert.equal(st.capBnd, 0n, 'CapBnd: capabilities drop ALL empties the bounding set');
    assert.equal(st.noNewPrivs, 1, 'allowPrivilegeEscalation: false sets no_new_privs');
    await waitEtcdHealthy(n, 10_000);
    assert.equal(await getKey(n), VALUE, 'the key written before apply is still there');
    // etcd wrote as kubeadm-etcd; write once more so rollback has files of the new owner to hand back.
    assert.equal((await etcdctl(n, ['put', `${KEY}-2`, VALUE])).exitCode, 0);

    const rollback = await cli(['rollback', '--root', n.sb.root, '--yes', '--timeout', '60s']);
    assert.equal(rollback.exitCode, 0, `rollback failed (${rollback.exitCode}):\n${rollback.stdout}\n${rollback.stderr}`);
    const backPid = await etcdPid(n);
    assert.notEqual(backPid, pid, 'etcd was restarted by the rollback');
    assert.deepEqual((await procStatus(backPid)).uids, [0, 0, 0, 0], 'etcd runs as root again');
    await waitEtcdHealthy(n, 10_000);
    assert.equal(await getKey(n), VALUE, 'the key survived apply and rollback');
    assert.equal(await account(n.sb, 'kubeadm-etcd'), null, 'rollback removed the kubeadm-etcd account');
    const after = await snapshotTree(n.sb.root);
    assert.deepEqual(unexpectedChanges(before, after), [], 'every owner, mode and file outside the data dir is as before');
    assert.deepEqual(dataDirOwners(after), [], 'everything in the data dir is root:root again, files etcd created as kubeadm-etcd included');
  });
});

/** plan -o json with the data dir's entry removed: the new etcd will not be able to open its data. */
async function brokenPlan(n: Node, scratch: string): Promise<{ planFile: string; etcdUid: number }> {
  const planned = await cli(['plan', '--root', n.sb.root, '-o', 'json']);
  assert.equal(planned.exitCode, 0, `plan failed: ${planned.stderr}`);
  const plan = JSON.parse(planned.stdout) as { files: Array<{ path: string }>; components: Array<{ component: string; identity: { uid: number } | null }> };
  const etcdUid = plan.components.find((c) => c.component === 'etcd')?.identity?.uid;
  assert.ok(etcdUid, 'the plan gives etcd an identity');
  const kept = plan.files.filter((f) => f.path !== '/var/lib/etcd');
  assert.equal(kept.length, plan.files.length - 1, `the plan hands /var/lib/etcd to kubeadm-etcd: ${plan.files.map((f) => f.path).join(', ')}`);
  plan.files = kept; // the deliberately broken plan
  const planFile = path.join(scratch, 'plan.json');
  await writeFile(planFile, JSON.stringify(plan));
  return { planFile, etcdUid };
}

test('etcd e2e: a plan that leaves the data dir to root fails the health gate and rolls back automatically to a healthy root etcd', { timeout: 300_000 }, async (t) => {
  await withNode(t, async (n) => {
    assert.equal((await etcdctl(n, ['put', KEY, VALUE])).exitCode, 0);
    const scratch = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-e2e-plan-'));
    try {
      const { planFile, etcdUid } = await brokenPlan(n, scratch);
      const rootPid = await etcdPid(n);
      const before = await snapshotTree(n.sb.root);

      const apply = await cli(['apply', '--root', n.sb.root, '--plan', planFile, '--yes', '--timeout', '30s']);
      assert.equal(apply.exitCode, 1, `apply must fail and roll back (exit 1), got ${apply.exitCode}:\n${apply.stdout}\n${apply.stderr}`);
      assert.match(apply.stderr, /rolled back/, 'stderr says the apply was rolled back');
      assert.match(apply.stderr, /etcd did not become healthy/, 'stderr names the gate that failed');
      // The migrated etcd really ran as kubeadm-etcd, and the kernel refused it its root-owned 0700 data
      // dir (etcd 3.4 says "error listing data dir", 3.5 "cannot access data directory: … permission denied").
      const log = n.runner.readLog();
      assert.match(log, new RegExp(`started pid \\d+ as uid ${etcdUid} `), 'the runner started etcd as kubeadm-etcd');
      assert.match(log, /error listing data dir|permission denied/, 'etcd as kubeadm-etcd could not open its data dir');

      const pid = await etcdPid(n);
      assert.notEqual(pid, rootPid, 'etcd was restarted twice (migrated, then restored)');
      assert.deepEqual((await procStatus(pid)).uids, [0, 0, 0, 0], 'etcd runs as root again');
      await waitEtcdHealthy(n, 10_000);
      assert.equal(await getKey(n), VALUE, 'the data is intact');
      assert.equal(await account(n.sb, 'kubeadm-etcd'), null, 'the account the failed apply created is gone');
      const after = await snapshotTree(n.sb.root);
      assert.deepEqual(unexpectedChanges(before, after), [], 'the tree is back to its original state');
      assert.deepEqual(dataDirOwners(after), [], 'the data dir was never given away');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});

interface VerifyJson {
  ok: boolean;
  runtimeChecked: boolean;
  findings: Array<{ kind: string; subject: string; message: string; cause: string }>;
}
async function verifyRuntime(n: Node): Promise<{ code: number | undefined; report: VerifyJson }> {
  const r = await cli(['verify', '--root', n.sb.root, '--proc', '/proc', '-o', 'json']);
  return { code: r.exitCode, report: JSON.parse(r.stdout) as VerifyJson };
}

test('etcd e2e: verify checks the running etcd from /proc, and reports a manifest regenerated as root', { timeout: 300_000 }, async (t) => {
  await withNode(t, async (n) => {
    const before = await verifyRuntime(n);
    assert.equal(before.code, 1);
    assert.ok(before.report.runtimeChecked);
    assert.ok(before.report.findings.some((f) => f.kind === 'process' && /Uid 0 0 0 0, expected/.test(f.message)), JSON.stringify(before.report.findings));

    const apply = await cli(['apply', '--root', n.sb.root, '--yes', '--timeout', '60s']);
    assert.equal(apply.exitCode, 0, apply.stderr);
    const after = await verifyRuntime(n);
    // The runner cannot install a seccomp filter (util-linux 2.38's setpriv has no --seccomp-filter), so
    // the one runtime finding left is Seccomp; everything the runner can enforce must hold.
    assert.deepEqual(after.report.findings.map((f) => f.kind), ['process'], JSON.stringify(after.report.findings));
    assert.match(after.report.findings[0]!.message, /^Seccomp 0, expected 2/);
    assert.doesNotMatch(after.report.findings[0]!.message, /Uid|Gid|Groups|CapEff|CapBnd|NoNewPrivs/);

    // kubeadm upgrade regenerates the manifest without our securityContext: the runner restarts etcd as root.
    const manifest = n.sb.path('/etc/kubernetes/manifests/etcd.yaml');
    const { removeSecurity } = await import('../../src/plan/manifest-edit.js');
    await writeFile(manifest, removeSecurity(await readFile(manifest, 'utf8'), { keepSeccompField: true, removeSeccompAnnotation: true }).text);
    await n.runner.waitFor('etcd.yaml', (p) => p.state === 'running' && p.privileges?.uid === 0, 20_000, 'etcd restarted as root');
    const regressed = await verifyRuntime(n);
    assert.equal(regressed.code, 1);
    const kinds = new Set(regressed.report.findings.map((f) => f.kind));
    assert.ok(kinds.has('manifest') && kinds.has('process'), JSON.stringify(regressed.report.findings));
    assert.match(regressed.report.findings.find((f) => f.kind === 'manifest')!.cause, /regenerated/);
    await n.runner.stop();
  });
});

test('etcd e2e: SIGTERM while the gate waits rolls back to a healthy root etcd (exit 1)', { timeout: 300_000 }, async (t) => {
  await withNode(t, async (n) => {
    assert.equal((await etcdctl(n, ['put', KEY, VALUE])).exitCode, 0);
    const scratch = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-e2e-plan-'));
    try {
      // The broken plan keeps the gate waiting (the new etcd cannot start) for as long as we like, so the
      // signal deterministically arrives during the wait.
      const { planFile } = await brokenPlan(n, scratch);
      const before = await snapshotTree(n.sb.root);
      // forceKillAfterDelay: false — execa would otherwise follow the SIGTERM with a SIGKILL after 5 s,
      // which a loaded machine's rollback (undos, then waiting for the restored etcd) can outlast.
      const run = execa(process.execPath, [CLI, 'apply', '--root', n.sb.root, '--plan', planFile, '--yes', '--timeout', '120s'], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1' }, forceKillAfterDelay: false });
      await new Promise<void>((resolve) => {
        let seen = '';
        run.stderr!.on('data', (d: Buffer) => {
          seen += d.toString();
          if (seen.includes('waiting for the kubelet to restart etcd')) resolve();
        });
      });
      run.kill('SIGTERM');
      const r = await run;
      assert.equal(r.exitCode, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /apply failed and was rolled back .*interrupted while waiting/);
      assert.deepEqual((await procStatus(await etcdPid(n))).uids, [0, 0, 0, 0], 'etcd runs as root again');
      await waitEtcdHealthy(n, 10_000);
      assert.equal(await getKey(n), VALUE, 'the data is intact');
      assert.deepEqual(unexpectedChanges(before, await snapshotTree(n.sb.root)), [], 'the tree is back to its original state');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
