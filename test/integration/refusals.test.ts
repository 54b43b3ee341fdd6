// Refusals: bad input, blocking problems and unsafe situations end with exit 2, one line on stderr
// that names the offending path, and a tree that is byte-identical (content, owner, mode of every entry;
// no backup directory, no lock left). Plus the lock: a live holder refuses a second run, a dead one's
// lock is taken over with a warning, and two applies started together never both change the node.
// Sandboxes are v1.31-ubuntu-stacked-kube-vip (the plain stacked case), edited per test; the expected
// problem codes were checked by hand against the edited input (see each test).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { acquireLock } from '../../src/state/lock.js';
import { addSystemDirs, runCli, show, startCli, type CliResult } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree, type Entry } from '../support/tree.js';

const FIXTURE = 'v1.31-ubuntu-stacked-kube-vip';
const MANIFESTS = '/etc/kubernetes/manifests';
const LOCK = '/run/kubeadm-nonroot.lock';
/** Above the kernel's pid_max limit (2^22): never a live process. */
const DEAD_PID = 4_194_305;
const run = promisify(execFile);

let work = '';
let pristine = '';
let seq = 0;

/** A fresh copy of the pristine sandbox (cp -a is much cheaper than building one). */
async function sandbox(): Promise<Sandbox> {
  const root = path.join(work, `s${++seq}`);
  await run('cp', ['-a', '--', pristine, root]);
  return { root, manifestsDir: path.join(root, MANIFESTS), path: (p) => path.join(root, p), cleanup: () => rm(root, { recursive: true, force: true }) };
}

async function edit(sb: Sandbox, nodePath: string, change: (text: string) => string): Promise<void> {
  const p = sb.path(nodePath);
  const before = await readFile(p, 'utf8');
  const after = change(before);
  assert.notEqual(after, before, `the edit of ${nodePath} must change it`);
  await writeFile(p, after); // writeFile keeps the inode's owner and mode
}

/** The refusal contract: exit 2, exactly one stderr line naming `names`, nothing changed anywhere. */
function assertRefused(r: CliResult, names: string | RegExp, before: Map<string, Entry>, after: Map<string, Entry>): void {
  assert.equal(r.code, 2, show(r));
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one stderr line\n${show(r)}`);
  if (typeof names === 'string') assert.ok(lines[0]!.includes(names), `stderr names ${names}: ${lines[0]}`);
  else assert.match(lines[0]!, names);
  // No ignore list: a refusal creates no backup dir and leaves no lock.
  assert.deepEqual(diffSnapshots(before, after), []);
}

async function refuse(sb: Sandbox, args: string[], names: string | RegExp): Promise<CliResult> {
  const before = await snapshotTree(sb.root);
  const r = await runCli([...args, '--root', sb.root]);
  assertRefused(r, names, before, await snapshotTree(sb.root));
  return r;
}

/** A blocked plan: exit 2, the one stderr line, and the plan's problems (-o json) with the expected code. */
async function refuseBlocked(sb: Sandbox, code: string, nodePath: string): Promise<void> {
  const r = await refuse(sb, ['apply', '--yes', '--no-wait', '-o', 'json'], nodePath);
  const plan = JSON.parse(r.stdout) as { problems: Array<{ code: string; path?: string }> };
  assert.deepEqual(plan.problems.map((p) => [p.code, p.path]), [[code, nodePath]]);
}

before(async () => {
  if (NEEDS_ROOT) return;
  work = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-refusals-'));
  pristine = path.join(work, 'pristine');
  await buildSandbox({ fixture: FIXTURE, dir: pristine });
  await addSystemDirs(pristine);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('refusals leave the node untouched', { skip: NEEDS_ROOT, concurrency: 2 }, () => {
  it('malformed YAML in etcd.yaml: exit 2 naming the manifest', async () => {
    const sb = await sandbox();
    await edit(sb, `${MANIFESTS}/etcd.yaml`, (t) => t.replace(/^apiVersion: v1$/m, 'apiVersion: [v1'));
    await refuse(sb, ['apply', '--yes', '--no-wait'], `${MANIFESTS}/etcd.yaml`);
  });

  it('kube-apiserver.yaml holding two YAML documents: exit 2 naming it', async () => {
    const sb = await sandbox();
    await edit(sb, `${MANIFESTS}/kube-apiserver.yaml`, (t) => `${t}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: second\n`);
    await refuse(sb, ['apply', '--yes', '--no-wait'], `${MANIFESTS}/kube-apiserver.yaml`);
  });

  it('a referenced file is missing (sa.key deleted): blocked with missing-file', async () => {
    const sb = await sandbox();
    await rm(sb.path('/etc/kubernetes/pki/sa.key'));
    await refuseBlocked(sb, 'missing-file', '/etc/kubernetes/pki/sa.key');
  });

  it('the system UID range is exhausted (SYS_UID_MIN 100, SYS_UID_MAX 101): blocked with id-range-exhausted', async () => {
    const sb = await sandbox();
    // 100 (messagebus) and 101 (sshd) are taken in the sandbox passwd; four users are needed.
    await edit(sb, '/etc/login.defs', (t) => t.replace(/^#SYS_UID_MIN.*$/m, 'SYS_UID_MIN 100').replace(/^#SYS_UID_MAX.*$/m, 'SYS_UID_MAX 101'));
    await refuseBlocked(sb, 'id-range-exhausted', '/etc/login.defs');
  });

  it('kubeadm-etcd exists as a login user (/bin/bash, uid 1001): blocked with account-is-login', async () => {
    const sb = await sandbox();
    await edit(sb, '/etc/passwd', (t) => `${t}kubeadm-etcd:x:1001:1001::/home/kubeadm-etcd:/bin/bash\n`);
    await edit(sb, '/etc/group', (t) => `${t}kubeadm-etcd:x:1001:\n`);
    await refuseBlocked(sb, 'account-is-login', '/etc/passwd');
  });

  it('kube-scheduler on a port below 1024: blocked with privileged-port', async () => {
    const sb = await sandbox();
    // Only kube-apiserver keeps NET_BIND_SERVICE; the scheduler has no --secure-port flag (default 10259).
    await edit(sb, `${MANIFESTS}/kube-scheduler.yaml`, (t) => t.replace('    - --leader-elect=true\n', '    - --leader-elect=true\n    - --secure-port=259\n'));
    await refuseBlocked(sb, 'privileged-port', `${MANIFESTS}/kube-scheduler.yaml`);
  });

  it('the etcd data dir sits in a directory its user cannot traverse: blocked with parent-not-traversable', async () => {
    const sb = await sandbox();
    await chmod(sb.path('/var/lib'), 0o700); // root-only; kubeadm-etcd could not reach /var/lib/etcd
    await refuseBlocked(sb, 'parent-not-traversable', '/var/lib');
  });

  it('apply without --yes and without a terminal: exit 2, asks for --yes', async () => {
    const sb = await sandbox();
    const r = await refuse(sb, ['apply', '--no-wait'], /no terminal to ask for confirmation on.*--yes/);
    assert.match(r.stdout, /Plan: /, 'the plan is still shown for review');
  });

  it('rollback without --yes and without a terminal: exit 2 and the applied state stays', async () => {
    const sb = await sandbox();
    const a = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
    assert.equal(a.code, 0, show(a));
    await refuse(sb, ['rollback', '--no-wait'], /no terminal to ask for confirmation on/);
  });

  it('apply --plan FILE after a key changed mode: exit 2 naming the plan file', async () => {
    const sb = await sandbox();
    const planFile = path.join(work, `plan-${seq}.json`);
    const p = await runCli(['plan', '--root', sb.root, '-o', 'json']);
    assert.equal(p.code, 0, show(p));
    await writeFile(planFile, p.stdout);
    await chmod(sb.path('/etc/kubernetes/pki/apiserver.key'), 0o644);
    const r = await refuse(sb, ['apply', '--plan', planFile, '--yes', '--no-wait'], planFile);
    assert.match(r.stderr, /node changed since this plan was made/);
  });

  it('apply --plan FILE whose apiVersion is not this tool\'s: exit 2 naming the file', async () => {
    const sb = await sandbox();
    const planFile = path.join(work, `plan-${seq}.json`);
    const p = await runCli(['plan', '--root', sb.root, '-o', 'json']);
    assert.equal(p.code, 0, show(p));
    const plan = JSON.parse(p.stdout) as { apiVersion: string };
    plan.apiVersion = 'kubeadm-nonroot/v9';
    await writeFile(planFile, JSON.stringify(plan));
    const r = await refuse(sb, ['apply', '--plan', planFile, '--yes', '--no-wait'], planFile);
    assert.match(r.stderr, /apiVersion kubeadm-nonroot\/v9/);
  });

  it('apply --plan FILE with its create-user/create-group actions removed: exit 2 (not closed), tree byte-identical', async () => {
    const sb = await sandbox();
    // Named after its own sandbox: tests here run two at a time, and seq moves under us.
    const planFile = path.join(work, `plan-open-${path.basename(sb.root)}.json`);
    const p = await runCli(['plan', '--root', sb.root, '-o', 'json']);
    assert.equal(p.code, 0, show(p));
    const plan = JSON.parse(p.stdout) as { accounts: Array<{ action: string }> };
    const removed = plan.accounts.filter((a) => a.action === 'create-user' || a.action === 'create-group');
    assert.ok(removed.length > 0, 'the pristine node has none of the accounts: the plan creates them');
    plan.accounts = plan.accounts.filter((a) => !removed.includes(a));
    await writeFile(planFile, JSON.stringify(plan));
    const r = await refuse(sb, ['apply', '--plan', planFile, '--yes', '--no-wait'], planFile);
    assert.match(r.stderr, /is not closed: it uses uid \d+ \(etcd runs as it\)/);
  });

  it('an unchanged saved plan is accepted by apply --plan', async () => {
    const sb = await sandbox();
    const planFile = path.join(work, `plan-${seq}.json`);
    const p = await runCli(['plan', '--root', sb.root, '-o', 'json']);
    await writeFile(planFile, p.stdout);
    const r = await runCli(['apply', '--root', sb.root, '--plan', planFile, '--yes', '--no-wait']);
    assert.equal(r.code, 0, show(r));
    assert.equal((await snapshotTree(sb.root)).get('etc/kubernetes/pki/apiserver.key')?.mode, 0o640); // root:kubeadm-kas, read through the group
  });

  it('--dry-run prints the plan and changes nothing, not even inode times', async () => {
    const sb = await sandbox();
    const before = await snapshotTree(sb.root);
    const r = await runCli(['apply', '--root', sb.root, '--dry-run']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Plan: 9 account change\(s\), 12 file\(s\) to change, 4 manifest\(s\) to edit\./);
    assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.root), { ignoreMtime: false, ignoreCtime: false }), []);
  });

  it('an unknown --output format: exit 2 naming the option', async () => {
    const sb = await sandbox();
    await refuse(sb, ['apply', '-o', 'xml', '--yes', '--no-wait'], /--output must be text, json or yaml, not "xml"/);
  });

  it('a malformed config file (-c): exit 2 naming the config file', async () => {
    const sb = await sandbox();
    const config = path.join(work, `config-${seq}.yaml`);
    await writeFile(config, 'components: [etcd\n');
    await refuse(sb, ['apply', '-c', config, '--yes', '--no-wait'], config);
  });
});

describe('the lock', { skip: NEEDS_ROOT }, () => {
  it('a lock held by a live process refuses apply; once that process is gone the lock is taken over with a warning', async () => {
    const sb = await sandbox();
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    const exited = new Promise((r) => holder.on('exit', r));
    try {
      await writeFile(sb.path(LOCK), JSON.stringify({ pid: holder.pid, start: null, command: 'apply' }) + '\n', { mode: 0o600 });
      const before = await snapshotTree(sb.root);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assertRefused(r, LOCK, before, await snapshotTree(sb.root));
      assert.match(r.stderr, new RegExp(`pid ${holder.pid}, apply`));
    } finally {
      holder.kill('SIGKILL');
      await exited;
    }
    const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, new RegExp(`taking over a stale lock ${LOCK} left by pid ${holder.pid} \\(apply\\)`));
    assert.ok(!existsSync(sb.path(LOCK)), 'the lock is released after the run');
  });

  it('a run that judged a lock stale too late does not steal the lock another run just took over', async () => {
    const sb = await sandbox();
    const lockPath = sb.path(LOCK);
    await writeFile(lockPath, JSON.stringify({ pid: DEAD_PID, start: null, command: 'apply' }) + '\n', { mode: 0o600 });
    const winner = JSON.stringify({ pid: process.pid, start: null, command: 'winner' }) + '\n';
    // The warning is printed between judging the lock stale and moving it aside: exactly there, another
    // run (simulated synchronously) takes the stale lock over and holds a fresh one.
    const warn = () => {
      renameSync(lockPath, `${lockPath}.other`);
      unlinkSync(`${lockPath}.other`);
      writeFileSync(lockPath, winner, { flag: 'wx', mode: 0o600 });
    };
    await assert.rejects(acquireLock(sb.root, 'apply', warn), /another kubeadm-nonroot run \(pid \d+, winner\) holds .*wait for it to finish \(a lock whose process has ended is taken over by the next run by itself: never delete it by hand\)/);
    assert.equal(await readFile(lockPath, 'utf8'), winner, "the winner's lock is still in place");
    assert.deepEqual((await readdir(sb.path('/run'))).sort(), ['kubeadm-nonroot.lock'], 'nothing left aside');
  });

  it('two applies started at once: one migrates, the other is refused by the lock or finds nothing to do', async () => {
    const reference = await sandbox();
    const clean = await runCli(['apply', '--root', reference.root, '--yes', '--no-wait']);
    assert.equal(clean.code, 0, show(clean));
    const want = await snapshotTree(reference.root);
    for (let round = 1; round <= 3; round++) {
      const sb = await sandbox();
      const runs = await Promise.all([0, 1].map(() => startCli(['apply', '--root', sb.root, '--yes', '--no-wait']).done));
      const codes = runs.map((r) => r.code).sort();
      const detail = runs.map(show).join('\n');
      assert.ok(codes.every((c) => c === 0 || c === 2), `round ${round}: no run may fail (1) or fail to roll back (3)\n${detail}`);
      assert.ok(codes.includes(0), `round ${round}: one run migrates\n${detail}`);
      for (const r of runs) {
        if (r.code === 2) assert.match(r.stderr, /another kubeadm-nonroot run \(pid \d+, apply\) holds \/run\/kubeadm-nonroot\.lock/);
        if (r.code === 0 && !/Applied \(backup/.test(r.stdout)) assert.match(r.stdout, /Nothing to do/);
      }
      assert.equal(runs.filter((r) => /Applied \(backup/.test(r.stdout)).length, 1, `round ${round}: exactly one run applied\n${detail}`);
      assert.deepEqual(diffSnapshots(want, await snapshotTree(sb.root), { ignore: isToolState }), [], `round ${round}: the node ends as after one clean apply`);
      await sb.cleanup();
    }
  });
});
