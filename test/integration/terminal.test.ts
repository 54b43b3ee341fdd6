// An operator's terminal, for real: apply and rollback on a pseudo-terminal (test/support/pty.ts) over
// a 150,000-file etcd data dir, so that the recursive chowns take long enough to be hit. A typed Ctrl-C
// makes the terminal send SIGINT to its whole foreground process group — the tool's children included
// unless they run in their own session (src/exec.ts) — and closing the master is an SSH session that
// dropped (SIGHUP, then every write fails with EIO). `| head -c 7600` closes stdout under a running
// apply (EPIPE). In every case the run ends done (0) or rolled back (1) — never 3, 4 or a signal —
// the lock is released, and the tree is exactly as before, or as after a clean apply.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listBackups } from '../../src/state/backups.js';
import { addSystemDirs, BIN, runCli, show } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT } from '../support/cli-root.js';
import { skipOrFail } from '../support/prerequisites.js';
import { CTRL_C, runOnTerminal, showTerminal, terminalPrerequisite, type TerminalResult } from '../support/pty.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';
import { snapshotTree } from '../support/tree.js';

const FIXTURE = 'v1.31-ubuntu-stacked-kube-vip';
const FILES = 150_000;
/** Where the 150,000 extra files live, relative to the root: inside etcd's data dir. */
const BULK = 'var/lib/etcd/member/bulk';
const LOCK = 'run/kubeadm-nonroot.lock';
const SKIP = NEEDS_ROOT || skipOrFail(terminalPrerequisite());

/** Step lines of the progress on a terminal (listr2 prints them as the task's output). */
const DATA_DIR_CHANGED = String.raw`✔ /var/lib/etcd: owner kubeadm-etcd:kubeadm-etcd recursively`;
const LAST_ACCOUNT_CREATED = String.raw`✔ create user kubeadm-ks `;

/** 150 directories of 1,000 empty files each, 0700/0600 as etcd makes them, in one python3 loop. */
function makeBulk(root: string): void {
  execFileSync('python3', ['-c', `
import os, sys
d = sys.argv[1]
for b in range(${FILES / 1000}):
    os.makedirs(f'{d}/{b:03d}', 0o700)
    for i in range(1000):
        os.close(os.open(f'{d}/{b:03d}/{i:04d}.wal', os.O_CREAT | os.O_WRONLY, 0o600))
`, path.join(root, BULK)]);
}

/**
 * The tree as the tests compare it: every entry but the bulk files with content hashes (snapshotTree),
 * and the bulk files as find(1) lists them — type, owner, mode, size (they are empty; hashing 150,000
 * files one by one takes minutes on a loaded machine).
 */
async function treeState(root: string): Promise<string[]> {
  const listing = await new Promise<string>((resolve, reject) =>
    execFile('find', [path.join(root, BULK), '-printf', '%P %y %U:%G %m %s\n'], { maxBuffer: 64 << 20 }, (e, out) => (e ? reject(e) : resolve(out))),
  );
  const snapshot = await snapshotTree(root, { prune: (rel) => rel === BULK });
  const described = [...snapshot].filter(([rel]) => !isToolState(rel)).map(([rel, e]) => `${rel} ${e.type} ${e.uid}:${e.gid} ${e.mode.toString(8)} ${e.sha256 ?? e.target ?? ''}`);
  return [...described, ...listing.split('\n').filter(Boolean).sort().map((l) => `${BULK}/${l}`)];
}

/** Lines of `b` not in `a` and of `a` not in `b`, for a readable assertion. */
function differences(a: string[], b: string[]): string[] {
  const inA = new Set(a);
  const inB = new Set(b);
  return [...a.filter((l) => !inB.has(l)).map((l) => `- ${l}`), ...b.filter((l) => !inA.has(l)).map((l) => `+ ${l}`)].slice(0, 20);
}

/** The status of the latest run under `root` (applied, rolled-back, unfinished, …) as its journal says. */
async function latestRunStatus(root: string): Promise<string | undefined> {
  return (await listBackups(root)).pop()?.status;
}

describe('a real terminal: Ctrl-C, hang-up and a closed pipe over a 150,000-file data dir', { skip: SKIP, concurrency: false, timeout: 30 * 60_000 }, () => {
  let sb: Sandbox;
  let original: string[];
  let applied: string[];

  before(async () => {
    sb = await buildSandbox({ fixture: FIXTURE });
    await addSystemDirs(sb.root);
    makeBulk(sb.root);
    original = await treeState(sb.root);
    // What a clean apply leaves, to compare a run that finished despite everything; then back.
    const a = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 300_000 });
    assert.equal(a.code, 0, show(a));
    applied = await treeState(sb.root);
    const r = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(differences(original, await treeState(sb.root)), []);
  });
  after(async () => {
    await sb?.cleanup();
  });

  /** The run ended 0 or 1, released its lock, and left the tree as before (1) or as a clean apply (0). */
  async function assertEndedAsDocumented(r: TerminalResult, expected: 0 | 1, want: 'original' | 'applied'): Promise<void> {
    assert.equal(r.signal, null, showTerminal(r));
    assert.equal(r.code, expected, showTerminal(r));
    assert.doesNotMatch(r.transcript, /rollback failure|Manual steps|This is a bug|exited SIGINT|exited SIGHUP/, showTerminal(r));
    assert.equal(existsSync(path.join(sb.root, LOCK)), false, 'the lock is released');
    assert.deepEqual(differences(want === 'original' ? original : applied, await treeState(sb.root)), [], showTerminal(r));
  }

  it('one Ctrl-C during apply: it stops, rolls back every change, exit 1', async () => {
    const r = await runOnTerminal(['apply', '--root', sb.root, '--yes', '--no-wait'], [{ wait: LAST_ACCOUNT_CREATED, send: CTRL_C }]);
    assert.equal(r.fired, 1, showTerminal(r));
    assert.match(r.transcript, /SIGINT: stopping the apply and rolling back every change made so far/);
    await assertEndedAsDocumented(r, 1, 'original');
    assert.equal(await latestRunStatus(sb.root), 'rolled-back');
  });

  it("Ctrl-C typed again and again during apply's automatic rollback: the undos finish, exit 1", async () => {
    // From the moment the data dir's 150,000 files changed owner, a Ctrl-C every 100 ms: the rollback's
    // recursive chown back runs under a hail of them.
    const r = await runOnTerminal(['apply', '--root', sb.root, '--yes', '--no-wait'], [{ wait: DATA_DIR_CHANGED, send: CTRL_C, sendEveryMs: 100 }]);
    assert.equal(r.fired, 1, showTerminal(r));
    // Said at most once, however many Ctrl-Cs follow. (Which notes reach the transcript at all is the
    // terminal's business: on each Ctrl-C the line discipline discards the output not yet read, unless
    // NOFLSH is set, so the outcome is judged by exit code, journal and tree, not by the text.)
    assert.ok((r.transcript.match(/the remaining undos are finishing/g) ?? []).length <= 1, showTerminal(r));
    await assertEndedAsDocumented(r, 1, 'original');
    assert.equal(await latestRunStatus(sb.root), 'rolled-back');
  });

  it('Ctrl-C typed again and again during rollback: every undo runs to its end, exit 0', async () => {
    const a = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 300_000 });
    assert.equal(a.code, 0, show(a));
    const r = await runOnTerminal(['rollback', '--root', sb.root, '--yes', '--no-wait'], [{ wait: 'Rolling back', send: CTRL_C, sendEveryMs: 100 }]);
    assert.equal(r.fired, 1, showTerminal(r));
    await assertEndedAsDocumented(r, 0, 'original');
    assert.equal(await latestRunStatus(sb.root), 'rolled-back');
  });

  it('the terminal hangs up during apply: it rolls back and exits 1, not SIGABRT', async () => {
    const r = await runOnTerminal(['apply', '--root', sb.root, '--yes', '--no-wait'], [{ wait: DATA_DIR_CHANGED, hangup: true }]);
    assert.equal(r.fired, 1, showTerminal(r));
    await assertEndedAsDocumented(r, 1, 'original');
    assert.equal(await latestRunStatus(sb.root), 'rolled-back');
  });

  it('the terminal hangs up during rollback: the rollback completes, exit 0', async () => {
    const a = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 300_000 });
    assert.equal(a.code, 0, show(a));
    const r = await runOnTerminal(['rollback', '--root', sb.root, '--yes', '--no-wait'], [{ wait: 'Rolling back', hangup: true }]);
    assert.equal(r.fired, 1, showTerminal(r));
    await assertEndedAsDocumented(r, 0, 'original');
    assert.equal(await latestRunStatus(sb.root), 'rolled-back');
  });

  it('apply --yes 2>&1 | head -c 7600: no unhandled EPIPE, the run finishes, exit 0, lock released', async () => {
    const out = await new Promise<string>((resolve) =>
      execFile('bash', ['-c', `"$0" "$1" apply --root "$2" --yes --no-wait 2>&1 | head -c 7600 >/dev/null; echo "exit \${PIPESTATUS[0]}"`, process.execPath, BIN, sb.root], { env: { ...process.env, NO_COLOR: '1' } }, (_e, stdout) => resolve(stdout)),
    );
    assert.equal(out.trim(), 'exit 0');
    assert.equal(existsSync(path.join(sb.root, LOCK)), false, 'the lock is released');
    assert.equal(await latestRunStatus(sb.root), 'applied');
    assert.deepEqual(differences(applied, await treeState(sb.root)), []);
    const r = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(differences(original, await treeState(sb.root)), []);
  });
});
