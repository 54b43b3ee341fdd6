// Full filesystems: apply on a node whose filesystem has only a few KiB to ~100 KiB free ends with exit
// 2 (the preflight refuses, nothing changed — not even the tool's own state dir) or exit 1 (a write hit
// ENOSPC, everything was rolled back) — never 3 (rollback incomplete) or 4 (internal error) — and the
// tree is byte-identical to before. Real tmpfs mounts of fixed sizes inside a sandbox root: the whole
// root on one small filesystem, or only /etc, or only /var/lib (the tool's backups) on its own.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { listBackups } from '../../src/state/backups.js';
import { addSystemDirs, runCli, show, startNode } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT, withoutLockDirTimes } from '../support/cli-root.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const run = promisify(execFile);
const FIXTURE = 'v1.31-ubuntu-stacked-kube-vip';
const KiB = 1024;
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '../support/apply-child.js');

async function mountTmpfs(dir: string, bytes: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir]);
}

/** Leave about `free` bytes free on the filesystem of `dir`, with a filler file that is part of the node. */
async function fillTo(dir: string, free: number): Promise<void> {
  const s = await statfs(dir);
  const avail = s.bavail * s.bsize;
  if (avail > free) await writeFile(path.join(dir, '.filler'), Buffer.alloc(avail - free));
}

/** Move `rel`'s contents onto a fresh tmpfs of `size` bytes mounted on it (cp -a keeps owners, modes, times). */
async function onOwnTmpfs(root: string, rel: string, size: number, aside: string): Promise<string> {
  const dir = path.join(root, rel);
  await run('cp', ['-a', '--', dir, aside]);
  await mountTmpfs(dir, size);
  await run('cp', ['-a', '--', `${aside}/.`, dir]);
  return dir;
}

type Layout = 'whole root' | '/etc' | '/var/lib';

async function attempt(layout: Layout, free: number): Promise<string[]> {
  const work = await mkdtemp(path.join(tmpdir(), 'kn-diskfull-'));
  const mounts: string[] = [];
  try {
    const root = path.join(work, 'root');
    if (layout === 'whole root') {
      await mountTmpfs(root, 16 * 1024 * KiB);
      mounts.push(root);
    }
    await buildSandbox({ fixture: FIXTURE, dir: root });
    await addSystemDirs(root);
    let small = root;
    if (layout !== 'whole root') {
      small = await onOwnTmpfs(root, layout.slice(1), 4 * 1024 * KiB, path.join(work, 'aside'));
      mounts.push(small);
    }
    await fillTo(small, free);
    const before = await snapshotTree(root);
    const r = await runCli(['apply', '--root', root, '--yes', '--no-wait']);
    const what = `${layout} with ${free / KiB} KiB free: exit ${r.code}`;
    const problems: string[] = [];
    if (r.code === 0) {
      // Enough room after all: then the rollback must fit too, and restore the tree.
      const back = await runCli(['rollback', '--root', root, '--yes', '--no-wait']);
      if (back.code !== 0) problems.push(`${what}, then rollback: exit ${back.code}\n${show(back)}`);
    } else if (r.code !== 1 && r.code !== 2) problems.push(`${what}, expected 1 or 2\n${show(r)}`);
    if (r.code === 2 && !/no space|free/i.test(r.stderr)) problems.push(`${what}: the refusal does not say what space is missing\n${show(r)}`);
    // Refused: nothing at all changed; rolled back: the node is as before (the run's backups are kept).
    const d = withoutLockDirTimes(diffSnapshots(before, await snapshotTree(root), r.code === 2 ? {} : { ignore: isToolState }));
    if (d.length) problems.push(`${what}: the tree differs:\n  ${d.join('\n  ')}\n${show(r)}`);
    return problems;
  } finally {
    for (const m of mounts.reverse()) await run('umount', ['-l', m]).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The whole root on one tmpfs with room to spare (the preflight passes), filled up by "someone else"
 * right after the run's Nth journal record (test/support/apply-child.ts apply-fill): the next write
 * fails with ENOSPC, the run rolls back (its reserve gives the rollback room for its records), the
 * journal says rolled-back, and the tree is as before once the filler is gone.
 */
async function filledDuringRun(n: number): Promise<string[] | null> {
  const work = await mkdtemp(path.join(tmpdir(), 'kn-diskfull-mid-'));
  const root = path.join(work, 'root');
  try {
    await mountTmpfs(root, 16 * 1024 * KiB);
    await buildSandbox({ fixture: FIXTURE, dir: root });
    await addSystemDirs(root);
    const before = await snapshotTree(root);
    const r = await startNode(CHILD, [root, 'apply-fill', String(n), root]).done;
    await rm(path.join(root, '.filler-mid'), { force: true });
    const what = `filled after record ${n}`;
    if (r.code === 0) return null; // the run had fewer records: nothing was filled during it
    const problems: string[] = [];
    if (!/apply-child: RolledBackError: /.test(r.stderr)) problems.push(`${what}: not rolled back completely\n${show(r)}`);
    const statuses = (await listBackups(root)).map((b) => b.status);
    if (statuses.join() !== 'rolled-back') problems.push(`${what}: the journal says ${statuses.join()}, not rolled-back\n${show(r)}`);
    const d = diffSnapshots(before, await snapshotTree(root), { ignore: isToolState });
    if (d.length) problems.push(`${what}: the tree differs:\n  ${d.join('\n  ')}\n${show(r)}`);
    return problems;
  } finally {
    await run('umount', ['-l', root]).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

describe('apply on a full filesystem', { skip: NEEDS_ROOT, concurrency: 1 }, () => {
  it('the disk fills up during the run, at points in the accounts, files and manifests: rolled back (exit 1), journal rolled-back, tree as before', { timeout: 600_000 }, async () => {
    const problems: string[] = [];
    let filled = 0;
    for (const n of [1, 2, 4, 7, 11, 16, 22, 29]) {
      const p = await filledDuringRun(n);
      if (p) filled++;
      problems.push(...(p ?? []));
    }
    assert.deepEqual(problems, []);
    assert.ok(filled >= 6, `the disk filled up during the run at ${filled} of 8 points`);
  });

  for (const layout of ['whole root', '/etc', '/var/lib'] as const) {
    it(`${layout} on a small tmpfs with 4, 24, 60 and 100 KiB free: exit 2 or 1, never 3 or 4, tree as before`, { timeout: 300_000 }, async () => {
      const problems: string[] = [];
      for (const free of [4, 24, 60, 100]) problems.push(...(await attempt(layout, free * KiB)));
      assert.deepEqual(problems, []);
    });
  }
});
