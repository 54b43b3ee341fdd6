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
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listBackups } from '../../src/apply/backups.js';
import { addSystemDirs, isToolState, mapLimit, NEEDS_ROOT, runCli, show, startNode, type CliResult } from '../support/cli.js';
import { buildSandbox } from '../support/sandbox.js';
import { diffSnapshots, snapshotTree, type Entry } from '../support/tree.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '../support/apply-child.js');
const BACKUPS = 'var/lib/kubeadm-nonroot/backups';
const LOCK = 'run/kubeadm-nonroot.lock';
const PARALLEL = 2;
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

const describeRecord = (r: { t: string; step?: string } | undefined) => (r ? `${r.t}${r.step ? ` ${r.step}` : ''}` : 'none');

async function killAt(root: string, mode: 'apply' | 'rollback', n: number): Promise<CliResult> {
  const r = await startNode(CHILD, [root, mode, String(n)]).done;
  assert.equal(r.signal, 'SIGKILL', `the ${mode} child was to be killed after record ${n}\n${show(r)}`);
  return r;
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
}

const CASES: Case[] = [
  {
    name: 'v1.29-audit-encryption without its audit log dir',
    fixture: 'v1.29-audit-encryption',
    prepare: (root) => rm(path.join(root, 'var/log/kubernetes'), { recursive: true }),
    rollbackAt: (n) => n % 2 === 1,
    resumeAt: (n) => n % 2 === 0,
    rollbackKillAt: (m, last) => m % 3 === 1 || m === last,
  },
  {
    name: 'v1.17-kms-encryption-apiserver-only',
    fixture: 'v1.17-kms-encryption-apiserver-only',
    rollbackAt: () => true,
    resumeAt: () => true,
    rollbackKillAt: () => true,
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
      const r = await runCli(['apply', '--root', reference, '--yes', '--no-wait']);
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
          let b: string | null = null;
          if (c.resumeAt(n) && c.rollbackAt(n)) {
            b = fresh();
            await copyTree(a, b);
          } else if (c.resumeAt(n)) b = a;

          // (a) roll back from the killed state.
          const rb = c.rollbackAt(n) ? await runCli(['rollback', '--root', a, '--yes', '--no-wait']) : null;
          if (rb && rb.code !== 0) failures.push(`${what}: rollback failed\n${show(rb)}`);
          else if (rb) {
            if (!/taking over a stale lock/.test(rb.stderr)) failures.push(`${what}: rollback did not report taking over the stale lock\n${show(rb)}`);
            const d = diffSnapshots(original, await snapshotTree(a), { ignore: isToolState });
            if (d.length) failures.push(`${what}: rollback left differences:\n  ${d.join('\n  ')}`);
            const statuses = (await listBackups(a)).map((x) => x.status);
            if (statuses.join() !== 'rolled-back') failures.push(`${what}: backups after rollback: ${statuses.join()}`);
            if (existsSync(path.join(a, LOCK))) failures.push(`${what}: rollback left the lock behind`);
          }

          // (b) continue the killed run with a new apply, then roll the whole thing back.
          if (b) {
            const ap = await runCli(['apply', '--root', b, '--yes', '--no-wait']);
            if (ap.code !== 0) failures.push(`${what}: continuing apply failed\n${show(ap)}`);
            else {
              if (!/did not finish; it will be continued/.test(ap.stderr)) failures.push(`${what}: apply did not say it continues the unfinished run\n${show(ap)}`);
              const d = diffSnapshots(migrated, await snapshotTree(b), { ignore: isToolState });
              if (d.length) failures.push(`${what}: continued apply differs from a clean apply:\n  ${d.join('\n  ')}`);
              const rb2 = await runCli(['rollback', '--root', b, '--yes', '--no-wait']);
              const d2 = rb2.code === 0 ? diffSnapshots(original, await snapshotTree(b), { ignore: isToolState }) : [];
              if (rb2.code !== 0) failures.push(`${what}: rollback after the continued apply failed\n${show(rb2)}`);
              else if (d2.length) failures.push(`${what}: rollback after the continued apply left differences:\n  ${d2.join('\n  ')}`);
            }
            if (b !== a) await rm(b, { recursive: true, force: true });
          }
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
          const again = await runCli(['rollback', '--root', dir, '--yes', '--no-wait']);
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
        const r = await runCli(['apply', '--root', dir, '--yes', '--no-wait']);
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
          const r = await runCli(['rollback', '--root', dir, '--yes', '--no-wait']);
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
