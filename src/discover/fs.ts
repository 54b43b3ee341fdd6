// Read-only file facts under --root: stat a node path, census a directory tree, read a file's text.
// Everything goes through src/paths.ts so no symlink or ".." leads outside the root.
//
// Single stats and small reads are synchronous: discovery stats a few hundred paths one after another
// (each path's parents first). The one directory walker is GNU find (treeCensus below).
import { lstatSync, readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { FileStat, FileType, TreeSummary } from '../model/node.js';
import { runProgram, type RunResult } from '../exec.js';
import { hostPath, normalizeNodePath, resolveUnderRoot } from '../paths.js';

function fileType(st: Stats): FileType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isSocket()) return 'socket';
  if (st.isFIFO()) return 'fifo';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isCharacterDevice()) return 'char-device';
  return 'other';
}

function toFileStat(st: Stats): FileStat {
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

/** An entry path relative to the top of a tree: text, or base64 when its bytes are not UTF-8. */
export type RelPath = string | { b64: string };

export function relPathBytes(rel: RelPath): Buffer {
  return typeof rel === 'string' ? Buffer.from(rel, 'utf8') : Buffer.from(rel.b64, 'base64');
}

/**
 * One entry the census lists: its owner differs from the tree's common owner, or it is special —
 * setuid/setgid (chown clears those bits: rollback must set them again), a device node, or a
 * non-directory with more than one hard link (its other names may be anywhere on the file system).
 */
export interface TreeException {
  path: RelPath;
  uid: number;
  gid: number;
  /** Permission bits with setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  /** find's %y: f d l b c p s. */
  type: string;
  links: number;
}

/** What apply and rollback must never hand over or chown: the entry's other names or the device are not the tree's. */
export function isUnsafeEntry(e: Pick<TreeException, 'type' | 'links'>): boolean {
  return e.type === 'b' || e.type === 'c' || (e.type !== 'd' && e.links > 1);
}

export interface TreeCensus extends TreeSummary {
  /** The owner of the top directory: what most entries have (only the others are listed). */
  common: [number, number];
  exceptions: TreeException[];
}

/** Ownership census of a node directory (resolved inside the root; nothing below it is followed). */
export async function treeSummary(root: string, nodePath: string): Promise<TreeSummary> {
  const { common: _c, exceptions: _e, ...summary } = await treeCensus(hostPath(root, resolveUnderRoot(root, nodePath)));
  return summary;
}

/**
 * The one directory walker: GNU find -P (fts; it holds directory descriptors and never follows a
 * symbolic link, so a directory swapped for a link while it runs is seen as the link). Everything below
 * `top` (not `top` itself) is counted, but only the EXCEPTIONS are printed: entries whose owner differs
 * from top's, setuid/setgid entries, device nodes and hard-linked non-directories. A data dir of 100,000
 * files therefore costs one lstat per entry and a few bytes, not a line, per entry (bench/results.md).
 * An entry that disappears while find runs (etcd compacting its WAL) is not counted.
 */
export async function treeCensus(top: string): Promise<TreeCensus> {
  const st = lstatSync(top);
  if (!st.isDirectory()) throw new Error(`${top} is not a directory`);
  const common: [number, number] = [st.uid, st.gid];
  const [u, g] = common.map(String) as [string, string];
  const args = [
    '-P', top, '-mindepth', '1',
    '(', '!', '-uid', u, '-o', '!', '-gid', g, '-o', '-perm', '/6000', '-o', '-type', 'b', '-o', '-type', 'c', '-o', '(', '!', '-type', 'd', '-links', '+1', ')', ')',
    '-printf', '%U %G %m %y %n %P\\0', '-o', '-printf', '\\0',
  ];
  const out = await runFind(args);
  const exceptions: TreeException[] = [];
  let entries = 0;
  for (let at = 0; at < out.length; ) {
    const end = out.indexOf(0, at);
    if (end < 0) throw new Error(`find ${top}: output ends inside a record`);
    entries += 1;
    if (end > at) exceptions.push(parseException(out.subarray(at, end)));
    at = end + 1;
  }
  const owners = new Map<string, { uid: number; gid: number; count: number }>();
  const tally = (uid: number, gid: number) => {
    const key = `${uid}:${gid}`;
    const o = owners.get(key) ?? owners.set(key, { uid, gid, count: 0 }).get(key)!;
    o.count += 1;
  };
  let others = 0;
  for (const e of exceptions) {
    if (e.uid === common[0] && e.gid === common[1]) continue;
    tally(e.uid, e.gid);
    others += 1;
  }
  for (let i = others; i < entries; i++) tally(common[0], common[1]);
  const summary: TreeCensus = {
    entries,
    owners: [...owners.values()].sort((a, b) => b.count - a.count || a.uid - b.uid || a.gid - b.gid),
    common,
    exceptions,
  };
  const count = (f: (e: TreeException) => boolean) => exceptions.filter(f).length;
  const setid = count((e) => e.type !== 'd' && (e.mode & 0o6000) !== 0);
  const hardLinks = count((e) => e.type !== 'd' && e.links > 1);
  const devices = count((e) => e.type === 'b' || e.type === 'c');
  if (setid) summary.setid = setid;
  if (hardLinks) summary.hardLinks = hardLinks;
  if (devices) summary.devices = devices;
  return summary;
}

function parseException(rec: Buffer): TreeException {
  // "%U %G %m %y %n %P": five space-free fields, then the path (which may hold spaces, any byte but NUL).
  let at = 0;
  const fields: string[] = [];
  for (let i = 0; i < 5; i++) {
    const sp = rec.indexOf(0x20, at);
    fields.push(rec.toString('latin1', at, sp));
    at = sp + 1;
  }
  const raw = rec.subarray(at);
  const text = raw.toString('utf8');
  const rel: RelPath = Buffer.from(text, 'utf8').equals(raw) ? text : { b64: raw.toString('base64') };
  const [uid, gid, mode, type, links] = fields as [string, string, string, string, string];
  return { path: rel, uid: Number(uid), gid: Number(gid), mode: parseInt(mode, 8), type, links: Number(links) };
}

/** GNU find (findutils) with its stdout as bytes; a failure names find's first error line. */
async function runFind(args: string[]): Promise<Buffer> {
  let r: RunResult;
  try {
    r = await runProgram('find', args);
  } catch (e) {
    throw new Error(`${(e as Error).message} (GNU findutils is required)`);
  }
  // find exits 1 when an entry vanished under it (ENOENT while etcd compacts): what remains is exact.
  const vanished = r.stderr.split('\n').filter(Boolean).every((l) => /No such file or directory$/.test(l));
  if (r.exitCode === 0 || (r.exitCode === 1 && vanished && r.stderr !== '')) return r.stdout;
  throw new Error(`find ${args[1] ?? ''} failed (exit ${r.exitCode ?? r.signal}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
}
