// File-system operations of apply and rollback, all on host paths under --root.
import { execa } from 'execa';
import { chmod, chown, lchown, lstat, mkdir, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface OwnerMode {
  uid: number;
  gid: number;
  mode: number;
}

export async function ownerModeOf(hostPath: string): Promise<(OwnerMode & { type: 'file' | 'dir' | 'other' }) | null> {
  try {
    const s = await lstat(hostPath);
    return { uid: s.uid, gid: s.gid, mode: s.mode & 0o7777, type: s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other' };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export function sameOwnerMode(a: OwnerMode | null, b: OwnerMode): boolean {
  return a !== null && a.uid === b.uid && a.gid === b.gid && (a.mode & 0o7777) === (b.mode & 0o7777);
}

/** Directories change in place (a directory cannot be swapped atomically with its content). */
export async function setDirOwnerMode(hostPath: string, want: OwnerMode): Promise<void> {
  await chown(hostPath, want.uid, want.gid);
  await chmod(hostPath, want.mode);
}

/**
 * chown a whole tree without following symlinks. coreutils' chown -R is the fastest correct walker
 * there is (fts, no per-file round trip into JS); -h changes symlinks themselves, --no-dereference is
 * the default for -R (-P). Ownership only: modes below the top are left as they are.
 */
export async function chownTree(hostPath: string, uid: number, gid: number): Promise<void> {
  const r = await execa('chown', ['-R', '-h', '-P', `${uid}:${gid}`, '--', hostPath], { reject: false, stdin: 'ignore', env: { LC_ALL: 'C' } });
  if (r.exitCode !== 0) throw new Error(`chown -R ${uid}:${gid} ${hostPath} failed: ${r.stderr.trim().split('\n')[0]}`);
}

/** Walk a tree and list every entry whose owner differs from `dflt`: the compact record rollback needs. */
export async function ownerExceptions(hostPath: string, dflt: [number, number]): Promise<Array<[string, number, number]>> {
  const out: Array<[string, number, number]> = [];
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(join(hostPath, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const s = await lstat(join(hostPath, r));
      if (s.uid !== dflt[0] || s.gid !== dflt[1]) out.push([r, s.uid, s.gid]);
      if (e.isDirectory()) await walk(r);
    }
  }
  await walk('');
  return out;
}

export async function applyExceptions(hostPath: string, exceptions: Array<[string, number, number]>): Promise<void> {
  for (const [rel, uid, gid] of exceptions) {
    try {
      await lchown(join(hostPath, rel), uid, gid);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // removed since: nothing to restore
    }
  }
}

/** mkdir -p that reports which directories it created (so rollback removes exactly those). */
export async function mkdirs(hostPaths: string[], mode = 0o755): Promise<void> {
  for (const p of hostPaths) {
    try {
      await mkdir(p, { mode });
      await chmod(p, mode); // mkdir's mode is filtered by the umask
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

export async function rmdirIfEmpty(hostPath: string): Promise<boolean> {
  try {
    await rmdir(hostPath);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw e;
  }
}
