// Free space, checked before any change: a write that fails with ENOSPC halfway through a run is
// rolled back, but the rollback needs room too (shadow-utils rewrites the account databases to undo an
// account, the account files and manifests are published through temp files). So apply refuses (exit
// 2) unless every filesystem it writes on has room for what the run AND its rollback write there, with
// a margin: the backups, the journal and a reserve for the rollback's journal (the state dir), the
// account databases shadow-utils rewrites (/etc), the temp copies of manifests. Owners and modes change
// in place (src/fs/handles.ts) and need no room. statfs(2) counts blocks and inodes; what it reports free for unprivileged users
// (f_bavail) is used, so the blocks reserved for root stay a margin.
import { lstat, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RefusedError } from '../errors.js';
import { confinedHostPath, safeHostPath } from '../paths.js';
import type { Plan } from '../plan/types.js';
import { BACKUPS_DIR } from '../state/locations.js';
import { ACCOUNT_FILES } from './account-files.js';

/**
 * Room kept for a rollback in each run's backup dir: a file of zeros, written before the first change
 * and deleted when a rollback of the run starts, so that the rollback's journal records (and, on one
 * filesystem, its temp files) find room even when the run failed because the disk filled up.
 */
export const ROLLBACK_RESERVE_BYTES = 64 * 1024;
export const ROLLBACK_RESERVE_FILE = 'rollback-reserve';
/** Per filesystem, on top of what the run is expected to write (directory blocks, lock files, estimates). */
const MARGIN_BYTES = 64 * 1024;
const MARGIN_INODES = 16;
/** A journal line (intent with its undo, done, undone) is well under this. */
const JOURNAL_BYTES_PER_STEP = 2048;
/** One entry of a data dir's saved owners (path, owner, mode as JSON). */
const OWNER_RECORD_BYTES = 256;

interface SpaceNeed {
  /** Host path of the directory written to (it may not exist yet). */
  dir: string;
  bytes: number;
  inodes: number;
  /** What is written there, for the message. */
  what: string;
}

async function sizeOf(hostPath: string): Promise<number> {
  return (await lstat(hostPath).catch(() => null))?.size ?? 0;
}

/** A file of `size` bytes takes whole blocks; one more covers an indirect block or a partial page. */
const blocksFor = (size: number, block: number) => (Math.ceil(size / block) + 1) * block;

/** What an apply or revert of `plan` writes, where (host dirs under `root`), and how much. */
async function spaceNeeds(plan: Plan, root: string, block = 4096): Promise<SpaceNeed[]> {
  const needs: SpaceNeed[] = [];
  const steps = plan.accounts.length + plan.files.length + plan.manifests.length + 1;
  let stateBytes = blocksFor(JSON.stringify(plan, null, 2).length + 1, block) + blocksFor(steps * JOURNAL_BYTES_PER_STEP, block) + ROLLBACK_RESERVE_BYTES;
  let stateInodes = 6;
  const accountsChange = plan.accounts.some((a) => a.action !== 'reuse-user' && a.action !== 'reuse-group');
  if (accountsChange) {
    const sizes = await Promise.all(ACCOUNT_FILES.flatMap((p) => [p, `${p}-`]).map((p) => sizeOf(safeHostPath(root, p))));
    const live = sizes.filter((_, i) => i % 2 === 0);
    // Saved copies of all eight files; shadow-utils writes FILE+ and a new FILE- next to each database it
    // changes, and the rollback publishes each saved copy through a temp file. New lines: ~200 bytes an account.
    stateBytes += sizes.reduce((n, s) => n + blocksFor(s, block), 0);
    stateInodes += sizes.length + 1;
    const growth = plan.accounts.length * 4 * 200;
    needs.push({ dir: safeHostPath(root, '/etc'), bytes: live.reduce((n, s) => n + 2 * blocksFor(s + growth, block), 0) + Math.max(...sizes.map((s) => blocksFor(s, block))), inodes: 12, what: 'the account databases shadow-utils rewrites (passwd, group, shadow, gshadow and their "+" and "-" copies)' });
  }
  for (const m of plan.manifests) {
    const before = await sizeOf(safeHostPath(root, m.path));
    stateBytes += blocksFor(before, block);
    stateInodes += 1;
    needs.push({ dir: dirname(safeHostPath(root, m.path)), bytes: blocksFor(Buffer.byteLength(m.after), block) + Math.max(0, Buffer.byteLength(m.after) - before), inodes: 1, what: `the new ${m.path} (written next to it first)` });
  }
  for (const f of plan.files) {
    if (f.action === 'set-owner-recursive' && f.tree) {
      const top = f.tree.owners[0];
      const others = f.tree.owners.filter((o) => o !== top).reduce((n, o) => n + o.count, 0);
      if (others) {
        stateBytes += blocksFor(others * OWNER_RECORD_BYTES, block);
        stateInodes += 1;
      }
    } else if (f.action === 'create-directory') {
      needs.push({ dir: dirname(safeHostPath(root, f.path)), bytes: 2 * block, inodes: 2, what: `the new directory ${f.path}` });
    }
  }
  needs.push({ dir: confinedHostPath(root, BACKUPS_DIR), bytes: stateBytes, inodes: stateInodes, what: `the run's backups and journal (${BACKUPS_DIR})` });
  return needs;
}

/** The nearest existing directory at or above `dir`: where its filesystem is measured. */
async function existingAncestor(dir: string): Promise<string> {
  for (let d = dir; ; d = dirname(d)) {
    if (await stat(d).then((s) => s.isDirectory(), () => false)) return d;
    if (dirname(d) === d) return d;
  }
}

interface Filesystem {
  at: string;
  bytes: number;
  inodes: number;
  what: string[];
}

const kib = (n: number) => `${Math.ceil(n / 1024)} KiB`;

/**
 * Refuse (exit 2, before any change) when a filesystem the run writes on lacks the room the run and its
 * rollback need there. Needs on one filesystem (same st_dev) add up.
 */
export async function checkFreeSpace(plan: Plan, root: string): Promise<void> {
  const byDevice = new Map<number, Filesystem>();
  for (const n of await spaceNeeds(plan, root)) {
    const at = await existingAncestor(n.dir);
    const dev = (await stat(at)).dev;
    const fs = byDevice.get(dev) ?? { at, bytes: MARGIN_BYTES, inodes: MARGIN_INODES, what: [] };
    fs.bytes += n.bytes;
    fs.inodes += n.inodes;
    fs.what.push(n.what);
    byDevice.set(dev, fs);
  }
  const short: string[] = [];
  for (const fs of byDevice.values()) {
    const s = await statfs(fs.at);
    const freeBytes = s.bavail * s.bsize;
    // Filesystems without inode accounting (btrfs, some FUSE) report 0 files in all: only bytes count there.
    const inodesShort = s.files > 0 && s.ffree < fs.inodes;
    if (freeBytes >= fs.bytes && !inodesShort) continue;
    const need = inodesShort ? `${fs.inodes} free inodes (${s.ffree} free)` : `about ${kib(fs.bytes)} (${kib(freeBytes)} free)`;
    short.push(`the filesystem of ${fs.at} needs ${need} for ${fs.what.slice(0, 3).join('; ')}${fs.what.length > 3 ? ` and ${fs.what.length - 3} more` : ''}, with room for a rollback`);
  }
  if (short.length) throw new RefusedError(`not enough free space; nothing was changed: ${short.join('; ')}. Free some space there and run again`);
}
