// Crash safety: an apply SIGKILLed right after ANY durable journal record can be (a) rolled back to the
// original tree exactly, or (b) continued by the next apply to exactly the tree a clean apply gives,
// which a later rollback still takes back to the original; a rollback killed after any of its records
// is finished by the next rollback. The kill comes from test/support/apply-child.ts through the
// runner's afterRecord hook; everything after the kill is the real CLI.
//
// Two cases: v1.29-audit-encryption with /var/log/kubernetes removed (the most steps: 9 account
// changes, a recursive chown, a create-directory with a created parent, 4 manifests) and the
// apiserver-only v1.17 KMS case (few steps, no etcd). The small case gets (a) and (b) at every kill
// point and a rollback kill after every rollback record; the big one alternates (a) and (b) over its
// kill points and kills its rollback at every third record, so that the file stays within ~2 minutes
// while every record index of both is covered.
//
// Kills INSIDE a step, independent of how the step is implemented: (1) at the start of every rename(2)
// of the run (the child wraps Node's rename: the instant between a temp file's fchown/fchmod/fsync and
// its rename over the target, in every atomic publish — keys, manifests, the tool's own files); (2) at
// many time offsets into the recursive re-owning of a large etcd data dir (12,000 entries, a few of
// them owned by others, a symlink pointing out of the tree), SIGKILLed by this process from outside,
// with at least one kill landing while the tree is part re-owned. After each: rollback restores the
// original exactly, and a new apply converges to the clean result, which rollback still undoes.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { lchown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listBackups } from '../../src/state/backups.js';
import { addSystemDirs, runCli, show, startCli, startNode, type CliResult } from '../../scripts/lib/cli-run.js';
import { isToolState, mapLimit, NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree, type Entry } from '../support/tree.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '../support/apply-child.js');
const BACKUPS = 'var/lib/kubeadm-nonroot/backups';
const LOCK = 'run/kubeadm-nonroot.lock';
const PARALLEL = 2;
/**
 * How long one run (CLI or child) may take before the test gives up on it. Not the 60 s default: on a
 * loaded machine (load average 20-30 on 2 cores, observed) a rollback of the 12,000-entry data dir, or
 * a child apply of the nine-account case, took longer, and the harness's SIGKILL then read as "did not
 * converge" — or, for a child that was to kill itself, as the planned kill at the wrong record. A run
 * the timeout ends is reported as such (CliResult.timedOut).
 */
const RUN = { timeoutMs: 15 * 60_000 };
const run = promisify(execFile);

async function copyTree(from: string, to: string): Promise<void> {
  await run('cp', ['-a', '--', from, to]); // keeps owners, modes and times
}

/** The journal lines of the only (or latest) run under root, parsed. */
async function journalOf(root: string): Promise<Array<{ t: string; step?: string }>> {
  const ids = (await readdir(path.join(root, BACKUPS))).sort();
  const text = await readFile(path.join(root, BACKUPS, ids[ids.length - 1]!, 'journal.jsonl'), 'utf8');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { t: string; step?: string });
}

/** A process's state letter from /proc/PID/stat (R, S, D, T stopped, Z zombie), or null when it is gone. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + RUN.timeoutMs; !done(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
  }
}

const describeRecord = (r: { t: string; step?: string } | undefined) => (r ? `${r.t}${r.step ? ` ${r.step}` : ''}` : 'none');

async function killAt(root: string, mode: 'apply' | 'rollback', n: number): Promise<CliResult> {
  const r = await startNode(CHILD, [root, mode, String(n)], RUN).done;
  assert.ok(!r.timedOut, `the ${mode} child outlived the test's timeout before record ${n}\n${show(r)}`);
  assert.equal(r.signal, 'SIGKILL', `the ${mode} child was to be killed after record ${n}\n${show(r)}`);
  return r;
}

/**
 * After a kill, in `a`: (rollback) rollback restores the original tree exactly; (resume, on a copy when
 * both) a new apply converges to the clean result, and a rollback after it restores the original.
 * `killedAtRecord`: the kill came after a journal record (the run had begun), so the messages about
 * taking over the lock and continuing the run are expected too. Returns the failures.
 */
async function convergesFrom(a: string, what: string, o: { rollback: boolean; resume: boolean; killedAtRecord: boolean }, t: { original: Map<string, Entry>; migrated: Map<string, Entry>; fresh: () => string }): Promise<string[]> {
  const failures: string[] = [];
  let b: string | null = null;
  if (o.resume && o.rollback) {
    b = t.fresh();
    await copyTree(a, b);
  } else if (o.resume) b = a;

  // (a) roll back from the killed state.
  const rb = o.rollback ? await runCli(['rollback', '--root', a, '--yes', '--no-wait'], RUN) : null;
  if (rb && rb.code !== 0) failures.push(`${what}: rollback failed\n${show(rb)}`);
  else if (rb) {
    if (o.killedAtRecord && !/taking over a stale lock/.test(rb.stderr)) failures.push(`${what}: rollback did not report taking over the stale lock\n${show(rb)}`);
    const d = diffSnapshots(t.original, await snapshotTree(a), { ignore: isToolState });
    if (d.length) failures.push(`${what}: rollback left differences:\n  ${d.join('\n  ')}`);
    const statuses = (await listBackups(a)).map((x) => x.status);
    if (o.killedAtRecord && statuses.join() !== 'rolled-back') failures.push(`${what}: backups after rollback: ${statuses.join()}`);
    if (existsSync(path.join(a, LOCK))) failures.push(`${what}: rollback left the lock behind`);
  }

  // (b) continue the killed run with a new apply, then roll the whole thing back.
  if (b) {
    const ap = await runCli(['apply', '--root', b, '--yes', '--no-wait'], RUN);
    if (ap.code !== 0) failures.push(`${what}: continuing apply failed\n${show(ap)}`);
    else {
      if (o.killedAtRecord && !/did not finish; it will be continued/.test(ap.stderr)) failures.push(`${what}: apply did not say it continues the unfinished run\n${show(ap)}`);
      const d = diffSnapshots(t.migrated, await snapshotTree(b), { ignore: isToolState });
      if (d.length) failures.push(`${what}: continued apply differs from a clean apply:\n  ${d.join('\n  ')}`);
      const rb2 = await runCli(['rollback', '--root', b, '--yes', '--no-wait'], RUN);
      const d2 = rb2.code === 0 ? diffSnapshots(t.original, await snapshotTree(b), { ignore: isToolState }) : [];
      if (rb2.code !== 0) failures.push(`${what}: rollback after the continued apply failed\n${show(rb2)}`);
      else if (d2.length) failures.push(`${what}: rollback after the continued apply left differences:\n  ${d2.join('\n  ')}`);
    }
    if (b !== a) await rm(b, { recursive: true, force: true });
  }
  return failures;
}

interface Case {
  name: string;
  fixture: string;
  /** Edit the pristine sandbox before anything is recorded. */
  prepare?: (root: string) => Promise<void>;
  /** Which apply kill points get (a) "rollback restores the original" and (b) "apply continues"; every point gets at least one. */
  rollbackAt: (n: number) => boolean;
  resumeAt: (n: number) => boolean;
  /** Which rollback records to kill after (1 = rollback-begin, k + 1 = the kth undo). */
  rollbackKillAt: (m: number, last: number) => boolean;
  /** Which renames of the apply to kill at (1..count). */
  renameKillAt: (k: number, count: number) => boolean;
}

const CASES: Case[] = [
  {
    name: 'v1.29-audit-encryption without its audit log dir',
    fixture: 'v1.29-audit-encryption',
    prepare: (root) => rm(path.join(root, 'var/log/kubernetes'), { recursive: true }),
    rollbackAt: (n) => n % 2 === 1,
    resumeAt: (n) => n % 2 === 0,
    rollbackKillAt: (m, last) => m % 3 === 1 || m === last,
    renameKillAt: (k, count) => k % 4 === 2 || k === count,
  },
  {
    name: 'v1.17-kms-encryption-apiserver-only',
    fixture: 'v1.17-kms-encryption-apiserver-only',
    rollbackAt: () => true,
    resumeAt: () => true,
    rollbackKillAt: () => true,
    renameKillAt: () => true,
  },
];

for (const c of CASES) {
  describe(`crash safety: ${c.name}`, { skip: NEEDS_ROOT }, () => {
    let work = '';
    let pristine = '';
    let reference = '';
    let original: Map<string, Entry>;
    let migrated: Map<string, Entry>;
    /** Records a clean apply writes; the hook runs after every one but the final commit. */
    let applyRecords: Array<{ t: string; step?: string }> = [];
    let seq = 0;
    const fresh = () => path.join(work, `n${++seq}`);
    const converges = (a: string, what: string, o: { rollback: boolean; resume: boolean; killedAtRecord: boolean }) => convergesFrom(a, what, o, { original, migrated, fresh });

    before(async () => {
      if (NEEDS_ROOT) return;
      work = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-crash-'));
      pristine = path.join(work, 'pristine');
      await buildSandbox({ fixture: c.fixture, dir: pristine });
      await addSystemDirs(pristine);
      await c.prepare?.(pristine);
      original = await snapshotTree(pristine);
      reference = path.join(work, 'reference');
      await copyTree(pristine, reference);
      const r = await runCli(['apply', '--root', reference, '--yes', '--no-wait'], RUN);
      assert.equal(r.code, 0, show(r));
      migrated = await snapshotTree(reference);
      applyRecords = await journalOf(reference);
    });

    after(async () => {
      if (work) await rm(work, { recursive: true, force: true });
    });

    it(`${c.fixture}: the reference apply journals begin, an intent and a done per step, then commit`, () => {
      const kinds = applyRecords.map((r) => r.t);
      assert.equal(kinds[0], 'begin');
      assert.equal(kinds[kinds.length - 1], 'commit');
      const intents = kinds.filter((k) => k === 'intent').length;
      assert.ok(intents >= 8, `a case with several steps (got ${intents})`);
      assert.equal(kinds.length, 2 + 2 * intents);
      // The create-directory step is what the edited v1.29 case is for.
      if (c.prepare) assert.ok(applyRecords.some((r) => r.step?.endsWith(':mkdir//var/log/kubernetes/audit')), 'a create-directory step');
    });

    it(`${c.fixture}: killed after each apply record: rollback restores the original tree; apply continues to the clean result, which rollback still undoes`, async () => {
      const points = Array.from({ length: applyRecords.length - 1 }, (_, i) => i + 1);
      assert.deepEqual(points.filter((n) => !c.rollbackAt(n) && !c.resumeAt(n)), [], 'every kill point is checked');
      const failures: string[] = [];
      await mapLimit(points, PARALLEL, async (n) => {
        const what = `killed after record ${n}/${applyRecords.length} (${describeRecord(applyRecords[n - 1])})`;
        const a = fresh();
        await copyTree(pristine, a);
        try {
          await killAt(a, 'apply', n);
          const killed = await journalOf(a);
          assert.equal(killed.length, n, `${what}: the journal holds exactly the records before the kill`);
          assert.ok(existsSync(path.join(a, LOCK)), `${what}: a killed run leaves its lock`);
          failures.push(...(await converges(a, what, { rollback: c.rollbackAt(n), resume: c.resumeAt(n), killedAtRecord: true })));
        } finally {
          await rm(a, { recursive: true, force: true });
        }
      });
      assert.deepEqual(failures, []);
    });

    it(`${c.fixture}: killed inside an atomic publish (between fchown/fsync of the temp file and its rename), at every rename: rollback and a new apply both converge`, async () => {
      const clean = fresh();
      await copyTree(pristine, clean);
      const counted = await startNode(CHILD, [clean, 'apply-rename', '0'], RUN).done;
      await rm(clean, { recursive: true, force: true });
      assert.equal(counted.code, 0, show(counted));
      const renames = (JSON.parse(counted.stdout) as { renames: number }).renames;
      assert.ok(renames >= 5, `the run publishes files atomically (${renames} renames)`);
      const points = Array.from({ length: renames }, (_, i) => i + 1).filter((k) => c.renameKillAt(k, renames));
      const failures: string[] = [];
      await mapLimit(points, PARALLEL, async (k) => {
        const what = `killed at rename ${k}/${renames}`;
        const a = fresh();
        await copyTree(pristine, a);
        try {
          const r = await startNode(CHILD, [a, 'apply-rename', String(k)], RUN).done;
          assert.ok(!r.timedOut, `${what}: the child outlived the test's timeout\n${show(r)}`);
          assert.equal(r.signal, 'SIGKILL', `${what}\n${show(r)}`);
          failures.push(...(await converges(a, what, { rollback: true, resume: true, killedAtRecord: false })));
        } finally {
          await rm(a, { recursive: true, force: true });
        }
      });
      assert.deepEqual(failures, []);
    });

    it(`${c.fixture}: a rollback killed after its records (sampled) is finished by the next rollback`, async () => {
      const steps = applyRecords.filter((r) => r.t === 'intent').length;
      // rollback-begin, then one "undone" per step; the final rollback-done has no hook after it.
      const points = Array.from({ length: 1 + steps }, (_, i) => i + 1).filter((m) => c.rollbackKillAt(m, 1 + steps));
      const failures: string[] = [];
      await mapLimit(points, PARALLEL, async (m) => {
        const what = `rollback killed after its record ${m}/${steps + 2}`;
        const dir = fresh();
        await copyTree(reference, dir);
        try {
          await killAt(dir, 'rollback', m);
          const statuses = (await listBackups(dir)).map((x) => x.status);
          assert.deepEqual(statuses, ['rollback-unfinished'], what);
          const again = await runCli(['rollback', '--root', dir, '--yes', '--no-wait'], RUN);
          if (again.code !== 0) failures.push(`${what}: second rollback failed\n${show(again)}`);
          else {
            if (!/did not finish; completing it/.test(again.stderr)) failures.push(`${what}: the second rollback did not say it completes the first\n${show(again)}`);
            const d = diffSnapshots(original, await snapshotTree(dir), { ignore: isToolState });
            if (d.length) failures.push(`${what}: differences after the second rollback:\n  ${d.join('\n  ')}`);
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
      assert.deepEqual(failures, []);
    });

    it(`${c.fixture}: an apply refuses to start over a rollback that did not finish`, async () => {
      const dir = fresh();
      await copyTree(reference, dir);
      try {
        await killAt(dir, 'rollback', 3);
        const before = await snapshotTree(dir);
        const r = await runCli(['apply', '--root', dir, '--yes', '--no-wait'], RUN);
        assert.equal(r.code, 2, show(r));
        assert.match(r.stderr, /a rollback of run \S+ did not finish; complete it first with: kubeadm-nonroot rollback --root /);
        assert.deepEqual(diffSnapshots(before, await snapshotTree(dir), { ignore: isToolState }), []);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it(`${c.fixture}: killed during the apply and again during its rollback: a third run restores the original`, async () => {
      const total = applyRecords.length;
      // Kill points spread over the run: early in the accounts, in the files, in the manifests.
      const pairs: Array<[number, number]> = [
        [Math.floor(total / 4), 2],
        [Math.floor(total / 2), 1],
        [total - 2, 4],
      ];
      const failures: string[] = [];
      await mapLimit(pairs, PARALLEL, async ([n, m]) => {
        const what = `apply killed after record ${n}, its rollback after record ${m}`;
        const dir = fresh();
        await copyTree(pristine, dir);
        try {
          await killAt(dir, 'apply', n);
          await killAt(dir, 'rollback', m);
          const r = await runCli(['rollback', '--root', dir, '--yes', '--no-wait'], RUN);
          if (r.code !== 0) failures.push(`${what}: rollback failed\n${show(r)}`);
          else {
            const d = diffSnapshots(original, await snapshotTree(dir), { ignore: isToolState });
            if (d.length) failures.push(`${what}: differences:\n  ${d.join('\n  ')}`);
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
      assert.deepEqual(failures, []);
    });
  });
}

describe('crash safety: killed while a large data dir is re-owned', { skip: NEEDS_ROOT }, () => {
  const FIXTURE = 'v1.32-rhel-stacked';
  const DATA = 'var/lib/etcd';
  const FILES = 12_000;
  const DIRS = 120;
  /** Files owned by uid 1234 before the run (every 20th directory's f0). */
  const EXCEPTIONS = 6;
  let work = '';
  let pristine = '';
  let original: Map<string, Entry>;
  let migrated: Map<string, Entry>;
  let treeIntent = 0;
  let seq = 0;
  const fresh = () => path.join(work, `n${++seq}`);

  /** How many entries below the data dir are owned by uid 0 / by someone else. */
  async function owners(root: string): Promise<{ root: number; other: number }> {
    const n = { root: 0, other: 0 };
    async function walk(dir: string): Promise<void> {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if ((await lstat(p)).uid === 0) n.root++;
        else n.other++;
        if (e.isDirectory()) await walk(p);
      }
    }
    await walk(path.join(root, DATA));
    return n;
  }

  before(async () => {
    if (NEEDS_ROOT) return;
    work = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-crash-tree-'));
    pristine = path.join(work, 'pristine');
    await buildSandbox({ fixture: FIXTURE, dir: pristine });
    await addSystemDirs(pristine);
    // 12,000 small files in 120 directories; a few owned by another user (exceptions rollback must
    // restore); a symlink pointing OUT of the tree, whose target must never be re-owned.
    const member = path.join(pristine, DATA, 'member', 'snap');
    for (let d = 0; d < DIRS; d++) {
      const dir = path.join(member, `d${d}`);
      await mkdir(dir, { recursive: true });
      await Promise.all(Array.from({ length: FILES / DIRS }, (_, f) => writeFile(path.join(dir, `f${f}`), 'x')));
      if (d % (DIRS / EXCEPTIONS) === 0) await lchown(path.join(dir, 'f0'), 1234, 1234);
    }
    await symlink('/etc/kubernetes/admin.conf', path.join(pristine, DATA, 'member', 'escape'));
    original = await snapshotTree(pristine);
    const reference = path.join(work, 'reference');
    await copyTree(pristine, reference);
    const r = await runCli(['apply', '--root', reference, '--yes', '--no-wait'], RUN);
    assert.equal(r.code, 0, show(r));
    migrated = await snapshotTree(reference);
    const records = await journalOf(reference);
    treeIntent = records.findIndex((x) => x.t === 'intent' && /:tree\//.test(x.step ?? '')) + 1;
    assert.ok(treeIntent > 0, 'the apply re-owns the data dir in a tree step');
    await rm(reference, { recursive: true, force: true });
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('a program the killed run started outlives it (here stopped): rollback, and a new apply, wait for it to end and converge', async () => {
    // SIGKILL ends the tool, not the programs it started: the chown of the tree step runs in its own
    // session (src/exec.ts) and goes on re-owning the data dir after the tool is gone. On a loaded machine
    // it can still be running when the next run starts; a next run that does not wait for it finishes
    // before it, and the chown then hands the rest of the tree to kubeadm-etcd again. Here the program is
    // stopped (SIGSTOP) the moment the killed run starts it, and continued (SIGCONT) only once the next
    // run has said that it waits for it — or has ended without waiting: then the tree is checked after
    // the program ended too.
    const sequences: Array<{ name: string; runs: string[][]; want: () => Map<string, Entry> }> = [
      { name: 'rollback', runs: [['rollback']], want: () => original },
      { name: 'apply, then rollback', runs: [['apply'], ['rollback']], want: () => original },
    ];
    const failures: string[] = [];
    for (const seq of sequences) {
      const a = fresh();
      await copyTree(pristine, a);
      let orphan = 0;
      try {
        const killed = await startNode(CHILD, [a, 'apply-orphan', String(treeIntent)], RUN).done;
        assert.equal(killed.signal, 'SIGKILL', show(killed));
        orphan = Number(/^orphan (\d+)$/m.exec(killed.stdout)?.[1] ?? 0);
        assert.ok(orphan > 0, `the killed run started a program after the tree step's intent\n${show(killed)}`);
        // Seen from outside: the program stops (once the scheduler runs it: a signal is acted on then), and
        // works in the data dir (its working directory).
        await until(() => procState(orphan) === 'T', `pid ${orphan} to stop`);
        assert.equal(await readlink(`/proc/${orphan}/cwd`), path.join(a, DATA), `pid ${orphan} works in the data dir`);
        const what = `${seq.name} after a kill that left pid ${orphan} running`;
        const cont = () => procState(orphan) === 'T' && process.kill(orphan, 'SIGCONT');
        const results: CliResult[] = [];
        for (const args of seq.runs) {
          const started = startCli([...args, '--root', a, '--yes', '--no-wait'], RUN);
          let err = '';
          started.child.stderr!.on('data', (d: string) => {
            err += d;
            if (new RegExp(`\\bpid ${orphan}\\b`).test(err)) cont();
          });
          const r = await started.done;
          results.push(r);
          if (r.code !== 0) failures.push(`${what}: ${args[0]} failed\n${show(r)}`);
        }
        const waited = results.some((r) => new RegExp(`\\bpid ${orphan}\\b`).test(r.stderr));
        cont();
        await until(() => procState(orphan) === null || procState(orphan) === 'Z', `pid ${orphan} to end`);
        orphan = 0; // ended: its PID may be someone else's from now on
        const d = diffSnapshots(seq.want(), await snapshotTree(a), { ignore: isToolState });
        if (d.length) failures.push(`${what}: ${waited ? '' : 'no run waited for it; '}differences once it ended:\n  ${d.slice(0, 10).join('\n  ')}${d.length > 10 ? `\n  … ${d.length - 10} more` : ''}`);
      } finally {
        if (orphan && procState(orphan) !== null) process.kill(orphan, 'SIGKILL');
        await rm(a, { recursive: true, force: true });
      }
    }
    assert.deepEqual(failures, []);
  });

  it('SIGKILL at many instants while the tree is re-owned: some land mid-tree; rollback restores the original and a new apply converges', { timeout: 15 * 60_000 }, async () => {
    // Offsets after the tree step's intent is durable; the kill comes from this process, so it does not
    // depend on how (or in which process) the step walks the tree.
    const offsets = [0, 3, 8, 15, 30, 60, 120, 250];
    const failures: string[] = [];
    const landings: string[] = [];
    let midTree = 0;
    await mapLimit(offsets, PARALLEL, async (ms, i) => {
      const a = fresh();
      await copyTree(pristine, a);
      try {
        const child = spawn(process.execPath, [CHILD, a, 'apply-announce'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
        let out = '';
        let err = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
        let code: number | null = null;
        const exited = new Promise<NodeJS.Signals | null>((resolve) =>
          child.on('close', (c, sig) => {
            code = c;
            resolve(sig);
          }),
        );
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.includes(`record ${treeIntent}\n`) && !child.killed) {
            if (ms === 0) child.kill('SIGKILL');
            else setTimeout(() => child.kill('SIGKILL'), ms);
          }
        });
        const sig = await exited;
        const journal = await journalOf(a);
        const last = journal[journal.length - 1]!;
        const inside = sig === 'SIGKILL' && last.t === 'intent' && /:tree\//.test(last.step ?? '');
        const o = await owners(a);
        const what = `killed ${ms} ms into the tree step (${sig ?? 'not killed'}; last record ${describeRecord(last)}; ${o.other} of ${o.root + o.other} entries re-owned)`;
        landings.push(what);
        // A late offset can miss on a fast machine: the apply finished first. That is not a crash, but
        // it must then be a clean, complete apply (exit 0), and it is still rolled back below.
        if (sig !== 'SIGKILL' && code !== 0) failures.push(`${what}: neither killed nor finished cleanly (exit ${code})\n${err}`);
        if (inside && o.root > 0 && o.other > EXCEPTIONS) midTree++;
        // Every kill is rolled back; every other one is also continued by a new apply (on a copy).
        failures.push(...(await convergesFrom(a, what, { rollback: true, resume: i % 2 === 1, killedAtRecord: false }, { original, migrated, fresh })));
      } finally {
        await rm(a, { recursive: true, force: true });
      }
    });
    assert.deepEqual(failures, []);
    assert.ok(midTree > 0, `no kill landed while the tree was part re-owned:\n${landings.join('\n')}`);
  });
});
