// Snapshots of a directory tree (type, owner, mode, content hash, symlink target, times) and a readable
// diff between two of them. Used to prove "apply then rollback restores the tree exactly" and "a second
// apply changes nothing, not even mtimes". lstat-based: symlinks are recorded, never followed.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

export interface Entry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  uid: number;
  gid: number;
  /** Permission bits including setuid/setgid/sticky (st_mode & 0o7777). */
  mode: number;
  /** Files only: hex sha256 of the content. */
  sha256?: string;
  /** Symlinks only: the link text as stored (readlink). */
  target?: string;
  mtimeMs: number;
  /** Inode change time: moves on chown/chmod even to the same values, so it exposes no-op rewrites. */
  ctimeMs: number;
}

export interface SnapshotOptions {
  /** Record these directories (relative paths) themselves but not what is below them. */
  prune?: (rel: string) => boolean;
}

/** Every entry below `root`, keyed by its path relative to root ("." is root itself), POSIX separators. */
export async function snapshotTree(root: string, options: SnapshotOptions = {}): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  async function visit(rel: string): Promise<void> {
    const abs = rel === '.' ? root : path.join(root, rel);
    const st = await lstat(abs);
    const base = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
    if (st.isSymbolicLink()) {
      out.set(rel, { type: 'symlink', ...base, target: await readlink(abs) });
    } else if (st.isFile()) {
      out.set(rel, { type: 'file', ...base, sha256: createHash('sha256').update(await readFile(abs)).digest('hex') });
    } else if (st.isDirectory()) {
      out.set(rel, { type: 'dir', ...base });
      if (options.prune?.(rel)) return;
      const names = (await readdir(abs)).sort();
      for (const name of names) await visit(rel === '.' ? name : `${rel}/${name}`);
    } else {
      out.set(rel, { type: 'other', ...base });
    }
  }
  await visit('.');
  return out;
}

export interface DiffOptions {
  /** Ignore mtime differences (default true). Pass false to assert that nothing was even rewritten. */
  ignoreMtime?: boolean;
  /** Ignore ctime differences (default true). Pass false to also catch chown/chmod to the same values. */
  ignoreCtime?: boolean;
  /** Skip these relative paths entirely (e.g. a lock file or backup dir the tool is expected to leave). */
  ignore?: (rel: string) => boolean;
}

const octal = (mode: number): string => '0' + mode.toString(8).padStart(3, '0');

function describe(e: Entry): string {
  const what = e.type === 'symlink' ? `symlink -> ${e.target}` : e.type;
  return `${what} ${octal(e.mode)} ${e.uid}:${e.gid}`;
}

/**
 * Human-readable differences from `a` to `b`, one line each, sorted by path; empty when identical.
 * Lines: "+ rel (type mode uid:gid)", "- rel (…)", "rel: mode 0600 -> 0640", "rel: owner 0:0 -> 100:100",
 * "rel: content changed", "rel: type file -> dir", "rel: target x -> y", "rel: mtime changed", "rel: ctime changed".
 */
export function diffSnapshots(a: Map<string, Entry>, b: Map<string, Entry>, options: DiffOptions = {}): string[] {
  const { ignoreMtime = true, ignoreCtime = true, ignore } = options;
  const lines: string[] = [];
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const rel of paths) {
    if (ignore?.(rel)) continue;
    const x = a.get(rel);
    const y = b.get(rel);
    if (!x && y) {
      lines.push(`+ ${rel} (${describe(y)})`);
      continue;
    }
    if (x && !y) {
      lines.push(`- ${rel} (${describe(x)})`);
      continue;
    }
    if (!x || !y) continue;
    if (x.type !== y.type) {
      lines.push(`${rel}: type ${x.type} -> ${y.type}`);
      continue;
    }
    if (x.mode !== y.mode) lines.push(`${rel}: mode ${octal(x.mode)} -> ${octal(y.mode)}`);
    if (x.uid !== y.uid || x.gid !== y.gid) lines.push(`${rel}: owner ${x.uid}:${x.gid} -> ${y.uid}:${y.gid}`);
    if (x.sha256 !== y.sha256) lines.push(`${rel}: content changed`);
    if (x.target !== y.target) lines.push(`${rel}: target ${x.target} -> ${y.target}`);
    if (!ignoreMtime && x.mtimeMs !== y.mtimeMs) lines.push(`${rel}: mtime changed`);
    if (!ignoreCtime && x.ctimeMs !== y.ctimeMs) lines.push(`${rel}: ctime changed`);
  }
  return lines;
}
