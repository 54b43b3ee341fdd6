// The single executable (npm run build:sea) must behave exactly like `node bin/kubeadm-nonroot`.
// It builds the executable for this machine's architecture (or reuses it: build-sea keeps a stamp and
// skips the slow steps when nothing changed), then runs plan → apply → verify → rollback with it on one
// sandbox and with the node build on an identical second sandbox (same fixture, built in this process so
// both get the same cached PKI), and compares the JSON each prints:
//   - the sandbox root appears in the output (plan.root, paths in messages): replaced by "<root>";
//   - plan.createdAt and the backup id are times of the run: checked for their shape, then blanked;
//   - plan.fingerprint hashes the node state WITHOUT the root (src/plan/fingerprint.ts), so it is
//     compared as it is: identical sandboxes must give identical fingerprints whichever build reads them.
// After apply, the two sandboxes' trees (owners, modes, contents) must be the same too. Also checked:
// --version, NODE_OPTIONS being ignored, `patches` from the embedded templates, and (where qemu-user is
// installed) the cross-built arm64 executable.
// Root only (apply runs useradd --prefix and chowns); skipped with a message otherwise.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildSea, hostArch, NODE_VERSION } from '../../scripts/build-sea.js';
import { VERSION } from '../../src/version.js';
import { addSystemDirs, REPO, runCli, show, type CliResult } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';
import { skipOrFail } from '../support/prerequisites.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const SUPPORTED = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');
const SKIP = NEEDS_ROOT || skipOrFail(!SUPPORTED && `single executables are built for linux x64/arm64, not ${process.platform}-${process.arch}`);
if (SKIP) process.stderr.write(`sea.test: skipped: ${SKIP}\n`);

const FIXTURE = 'v1.32-rhel-stacked';
let exe = '';
const sandboxes: Sandbox[] = [];
const temps: string[] = [];

before(async () => {
  if (SKIP) return;
  [exe] = await buildSea([hostArch()]);
});

after(async () => {
  for (const s of sandboxes) await s.cleanup();
  for (const d of temps) await rm(d, { recursive: true, force: true });
});

/** Run the executable itself, the way cli.ts runs the node build: no stdin, no TTY, output captured. */
function runExe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runFile(exe, args, env);
}

function runFile(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', LC_ALL: 'C', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function sandbox(): Promise<Sandbox> {
  const s = await buildSandbox({ fixture: FIXTURE });
  sandboxes.push(s);
  await addSystemDirs(s.root);
  return s;
}

/** The checkout's commit as git tells it, "-dirty" when tracked files changed; "unknown" outside git. */
function headCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8' }).trim();
    return changed ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Backup ids are the apply's start time, compact (src/state/backups.ts): 20261125T020159.999Z. */
const BACKUP_ID = /^\d{8}T\d{6}\.\d{3}Z$/;

/** Parsed stdout with the root and the run's times normalised; fails on output that is not JSON. */
function normalised(r: CliResult, root: string): unknown {
  assert.ok(r.stdout.trim().startsWith('{'), `expected JSON on stdout\n${show(r)}`);
  const data = JSON.parse(r.stdout.split(root).join('<root>')) as Record<string, unknown>;
  for (const [key, shape] of [['createdAt', ISO], ['backupId', BACKUP_ID]] as const) {
    if (key in data) {
      assert.match(String(data[key]), shape, `${key} has an unexpected shape\n${show(r)}`);
      data[key] = `<${key}>`;
    }
  }
  return data;
}

test('the single executable prints its version, the embedded Node version and the commit it was built from', { skip: SKIP }, async () => {
  const r = await runExe(['--version']);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, `${VERSION} (node v${NODE_VERSION} linux-${process.arch}, commit ${headCommit()})\n`);
});

test('the single executable ignores NODE_OPTIONS: a --require preload does not run inside it', { skip: SKIP }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sea-node-options-'));
  temps.push(dir);
  const marker = path.join(dir, 'preload-ran');
  const preload = path.join(dir, 'preload.cjs');
  await writeFile(preload, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
  // Control: the same NODE_OPTIONS does run the preload in a plain node, so its absence below means something.
  await new Promise<void>((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', ''], { env: { ...process.env, NODE_OPTIONS: `--require ${preload}` }, stdio: 'ignore' });
    c.on('error', reject).on('close', () => resolve());
  });
  assert.ok(existsSync(marker), 'control failed: node did not run the NODE_OPTIONS preload');
  await rm(marker);
  const r = await runExe(['--version'], { NODE_OPTIONS: `--require ${preload}` });
  assert.equal(r.code, 0, show(r));
  assert.equal(existsSync(marker), false, 'the preload ran inside the single executable');
});

test('the single executable and the node build give the same plan, apply, verify and rollback on identical sandboxes', { skip: SKIP, timeout: 5 * 60_000 }, async () => {
  const a = await sandbox();
  const b = await sandbox();
  // Identical sandboxes: the node build computes one fingerprint for both (it excludes the root).
  const fpA = JSON.parse((await runCli(['plan', '--root', a.root, '-o', 'json'])).stdout).fingerprint;
  const fpB = JSON.parse((await runCli(['plan', '--root', b.root, '-o', 'json'])).stdout).fingerprint;
  assert.equal(fpA, fpB, 'the two sandboxes differ; the comparison below would mean nothing');

  const steps = [
    ['plan', '-o', 'json'],
    ['apply', '--yes', '--no-wait', '-o', 'json'],
    ['verify', '-o', 'json'],
    ['rollback', '--yes', '--no-wait', '-o', 'json'],
  ];
  for (const step of steps) {
    const sea = await runExe([...step, '--root', a.root]);
    const node = await runCli([...step, '--root', b.root]);
    assert.equal(sea.code, 0, `${step[0]} (executable)\n${show(sea)}`);
    assert.equal(node.code, 0, `${step[0]} (node)\n${show(node)}`);
    assert.deepEqual(normalised(sea, a.root), normalised(node, b.root), `${step[0]}: the executable's JSON differs from the node build's`);
    if (step[0] === 'plan') assert.equal(JSON.parse(sea.stdout).fingerprint, fpA, 'plan: the executable computed another fingerprint');
    if (step[0] === 'apply') {
      const diff = diffSnapshots(await snapshotTree(a.root), await snapshotTree(b.root), { ignore: isToolState });
      assert.deepEqual(diff, [], 'after apply, the executable left the node in another state than the node build');
    }
    if (step[0] === 'verify') assert.equal((JSON.parse(sea.stdout) as { ok: boolean }).ok, true, show(sea));
  }
});

test('the single executable writes the same kubeadm patches as the node build, from its embedded templates', { skip: SKIP }, async () => {
  const s = await sandbox();
  const dir = await mkdtemp(path.join(tmpdir(), 'sea-patches-'));
  temps.push(dir);
  // patches names only accounts that exist (it refuses otherwise): migrate the node first.
  const apply = await runCli(['apply', '--root', s.root, '--yes', '--no-wait'], { timeoutMs: 120_000 });
  assert.equal(apply.code, 0, show(apply));
  const sea = await runExe(['patches', '--root', s.root, '--output-dir', path.join(dir, 'sea')]);
  const node = await runCli(['patches', '--root', s.root, '--output-dir', path.join(dir, 'node')]);
  assert.equal(sea.code, 0, show(sea));
  assert.equal(node.code, 0, show(node));
  const names = (await readdir(path.join(dir, 'node'))).sort();
  assert.ok(names.length > 0, 'the node build wrote no patch files');
  assert.deepEqual((await readdir(path.join(dir, 'sea'))).sort(), names);
  for (const n of names) {
    assert.equal(await readFile(path.join(dir, 'sea', n), 'utf8'), await readFile(path.join(dir, 'node', n), 'utf8'), `${n} differs`);
  }
});

// The arm64 executable is cross-built (its blob made by the x64 Node of the same version, without code
// cache). Where qemu-user and an arm64 glibc are installed (Debian: qemu-user libc6-arm64-cross
// libstdc++6-arm64-cross libatomic1-arm64-cross: Node 26 links libatomic on arm64), run it; elsewhere this is skipped and only the build checks its ELF header.
const QEMU_SYSROOT = '/usr/aarch64-linux-gnu';
const QEMU = process.arch === 'x64' && existsSync(path.join(QEMU_SYSROOT, 'lib/ld-linux-aarch64.so.1')) && existsSync(path.join(QEMU_SYSROOT, 'lib/libstdc++.so.6')) && existsSync(path.join(QEMU_SYSROOT, 'lib/libatomic.so.1'))
  ? ['/usr/bin/qemu-aarch64', '/usr/local/bin/qemu-aarch64'].find((q) => existsSync(q)) : undefined;
// Only an x64 host cross-runs arm64: on an arm64 host its own executable is the one tested above, and
// this test does not exist (it is not registered, rather than skipped: nothing is missing).
const SKIP_ARM64 = SKIP || skipOrFail(!QEMU && 'qemu-aarch64 and an arm64 sysroot (qemu-user, libc6-arm64-cross, libstdc++6-arm64-cross, libatomic1-arm64-cross) are not installed');

if (process.arch === 'x64') test('the cross-built arm64 executable, run under qemu-user, prints its version and plans like the node build', { skip: SKIP_ARM64, timeout: 5 * 60_000 }, async () => {
  const [arm64] = await buildSea(['arm64']);
  const runArm = (args: string[]): Promise<CliResult> => runFile(QEMU!, ['-L', QEMU_SYSROOT, arm64!, ...args]);
  const v = await runArm(['--version']);
  assert.equal(v.code, 0, show(v));
  assert.equal(v.stdout, `${VERSION} (node v${NODE_VERSION} linux-arm64, commit ${headCommit()})\n`);
  const s = await sandbox();
  const arm = await runArm(['plan', '--root', s.root, '-o', 'json']);
  const node = await runCli(['plan', '--root', s.root, '-o', 'json']);
  assert.equal(arm.code, 0, show(arm));
  assert.equal(node.code, 0, show(node));
  assert.deepEqual(normalised(arm, s.root), normalised(node, s.root));
});
