// Read-only file facts under --root: stat a node path, census a directory tree, read a file's text.
// Everything goes through src/paths.ts so no symlink or ".." leads outside the root.
//
// Single stats and small reads are synchronous: discovery stats a few hundred paths one after another
// (each path's parents first), and a synchronous lstat costs microseconds where a promise through
// libuv's 4-thread pool costs tens of them plus scheduling (plan spent ~30 ms of its ~250 ms on that;
// bench/results.md). Only the tree census, which can reach 100,000 entries, stays asynchronous.
import { spawn } from 'node:child_process';
import { lstat as lstatCallback, lstatSync, readdir as readdirCallback, readdirSync, readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { FileStat, FileType, TreeSummary } from '../model/node.js';
import { hostPath, normalizeNodePath, resolveUnderRoot } from '../paths.js';

/** Most in-flight fs calls at once. libuv runs them on a 4-thread pool; a few more keep it busy. */
export const FS_CONCURRENCY = 16;

function fileType(st: Stats): FileType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isSocket()) return 'socket';
  return 'other';
}

export function toFileStat(st: Stats): FileStat {
  return { type: fileType(st), uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, size: st.size };
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * lstat of a node path after resolving symlinks in its parent directories (inside the root): a symlink
 * as the last component is reported as 'symlink', not followed. null when it does not exist.
 */
export function statNode(root: string, nodePath: string): FileStat | null {
  const normal = normalizeNodePath(nodePath);
  let target = '/';
  if (normal !== '/') {
    const parent = resolveUnderRoot(root, path.posix.dirname(normal));
    target = path.posix.join(parent, path.posix.basename(normal));
  }
  try {
    return toFileStat(lstatSync(hostPath(root, target)));
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

/** Like statNode but follows a final symlink too (inside the root), as open(2) would. */
export function statNodeFollow(root: string, nodePath: string): FileStat | null {
  return statNode(root, resolveUnderRoot(root, nodePath));
}

/** Text of a node file (symlinks followed inside the root); null when it does not exist. */
export function readNodeText(root: string, nodePath: string): string | null {
  const resolved = resolveUnderRoot(root, nodePath);
  try {
    return readFileSync(hostPath(root, resolved), 'utf8');
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

/** `/a/b/c` → [`/`, `/a`, `/a/b`]: every directory the kernel walks through to reach the path. */
export function parentsOf(nodePath: string): string[] {
  const parts = normalizeNodePath(nodePath).split('/').filter((s) => s !== '');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) out.push('/' + parts.slice(0, i).join('/'));
  return out;
}

/** Callback lstat: in Node 20 it costs about a third less per call than fs/promises' lstat. */
function lstatCb(p: string): Promise<Stats> {
  return new Promise((resolve, reject) => lstatCallback(p, (e, st) => (e ? reject(e) : resolve(st))));
}

/** Entry names of a directory; [] when it vanished or is not a directory any more. */
function listDir(dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => readdirCallback(dir, (e, names) => (e ? (isMissing(e) ? resolve([]) : reject(e)) : resolve(names))));
}

/**
 * Ownership census of everything below a directory (not the directory itself). The directory path is
 * resolved inside the root first (a symlinked /var/lib/etcd is followed), but nothing below it is:
 * symlinks inside the tree are counted as entries and never followed, as `chown -R` (without -L) does.
 * An entry that disappears while we walk (etcd compacting its WAL) is simply not counted.
 *
 * Speed: a small tree (a fresh etcd has a few files) is walked synchronously, which costs less than
 * starting a process; a larger one is counted by GNU find, and without find by the concurrent walk.
 */
export async function treeSummary(root: string, nodePath: string): Promise<TreeSummary> {
  const top = hostPath(root, resolveUnderRoot(root, nodePath));
  return smallTreeCensus(top) ?? (await findCensus(top)) ?? walkCensus(top);
}

/** Trees up to this many entries are walked synchronously (~5 µs an entry; spawning find costs ~5 ms). */
export const SMALL_TREE = 1000;

/** The census of a tree of at most `limit` entries, walked synchronously; null when it has more. */
export function smallTreeCensus(top: string, limit = SMALL_TREE): TreeSummary | null {
  const counts = new Map<string, { uid: number; gid: number; count: number }>();
  let entries = 0;
  let setid = 0;
  const pending = listDirSync(top).map((name) => path.join(top, name));
  for (let p = pending.pop(); p !== undefined; p = pending.pop()) {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (e) {
      if (isMissing(e)) continue;
      throw e;
    }
    if (++entries > limit) return null;
    countOwner(counts, st);
    if (isSetid(st)) setid += 1;
    if (st.isDirectory()) for (const name of listDirSync(p)) pending.push(path.join(p, name));
  }
  return withSetid({ entries, owners: sortOwners(counts) }, setid);
}

/** A setuid/setgid non-directory (a setgid directory only passes its group on to new entries). */
function isSetid(st: Stats): boolean {
  return (st.mode & 0o6000) !== 0 && !st.isDirectory();
}

function withSetid(summary: TreeSummary, setid: number): TreeSummary {
  return setid > 0 ? { ...summary, setid } : summary;
}

function countOwner(counts: Map<string, { uid: number; gid: number; count: number }>, st: Stats): void {
  const key = `${st.uid}:${st.gid}`;
  const owner = counts.get(key);
  if (owner) owner.count += 1;
  else counts.set(key, { uid: st.uid, gid: st.gid, count: 1 });
}

function sortOwners(counts: Map<string, { uid: number; gid: number; count: number }>): TreeSummary['owners'] {
  return [...counts.values()].sort((a, b) => b.count - a.count || a.uid - b.uid || a.gid - b.gid);
}

function listDirSync(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
}

/**
 * The census with GNU find (fts in C, one lstat per entry, no symlink followed): 0.13 s for 100,000
 * files where the JavaScript walk below takes 0.6-0.7 s on the same VM — the walk is most of what apply
 * adds to a large data dir's chown -R (bench/results.md). null when find is missing or fails, so the
 * portable walk takes over.
 */
export function findCensus(top: string): Promise<TreeSummary | null> {
  return new Promise((resolve) => {
    // One "uid:gid" line per entry, and an extra "S" line after each setuid/setgid non-directory.
    const child = spawn('find', [top, '-mindepth', '1', '-printf', '%U:%G\n', '(', '-perm', '/6000', '!', '-type', 'd', '-printf', 'S\n', ')'], { stdio: ['ignore', 'pipe', 'ignore'], env: { LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    const counts = new Map<string, number>();
    let setid = 0;
    let rest = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        if (l === 'S') setid += 1;
        else counts.set(l, (counts.get(l) ?? 0) + 1);
      }
    });
    child.on('error', () => resolve(null));
    child.on('close', (code) => {
      if (code !== 0 || rest !== '') return resolve(null);
      let entries = 0;
      const owners = [...counts].map(([k, count]) => {
        entries += count;
        const [uid, gid] = k.split(':').map(Number) as [number, number];
        return { uid, gid, count };
      });
      owners.sort((a, b) => b.count - a.count || a.uid - b.uid || a.gid - b.gid);
      resolve(withSetid({ entries, owners }, setid));
    });
  });
}

/**
 * The portable census: a bounded-concurrency lstat walk in JavaScript. FS_CONCURRENCY workers share one
 * queue of paths to lstat, so the libuv pool stays busy whether the tree is one wide directory or many
 * small ones. About 0.6 s for 100,000 files on a 2-core VM.
 */
export async function walkCensus(top: string): Promise<TreeSummary> {
  const counts = new Map<string, { uid: number; gid: number; count: number }>();
  let entries = 0;
  let setid = 0;
  const pending: string[] = (await listDir(top)).map((name) => path.join(top, name));
  let busy = 0;
  let failure: unknown = null;
  let sleepers: Array<() => void> = [];
  const wakeAll = (): void => {
    const s = sleepers;
    sleepers = [];
    for (const wake of s) wake();
  };

  const visit = async (p: string): Promise<void> => {
    let st: Stats;
    try {
      st = await lstatCb(p);
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    entries += 1;
    countOwner(counts, st);
    if (isSetid(st)) setid += 1;
    if (st.isDirectory()) {
      for (const name of await listDir(p)) pending.push(path.join(p, name));
    }
  };

  const worker = async (): Promise<void> => {
    while (failure === null) {
      const p = pending.pop();
      if (p === undefined) {
        if (busy === 0) return; // nothing queued and nobody can queue more: done
        await new Promise<void>((resolve) => sleepers.push(resolve));
        continue;
      }
      busy += 1;
      try {
        await visit(p);
      } catch (e) {
        failure ??= e;
      } finally {
        busy -= 1;
        wakeAll();
      }
    }
  };

  await Promise.all(Array.from({ length: FS_CONCURRENCY }, worker));
  if (failure !== null) throw failure;
  return withSetid({ entries, owners: sortOwners(counts) }, setid);
}
