// File-system operations of apply and rollback, all on host paths under --root.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, constants, fstatSync, openSync, readFileSync, readSync, type Stats } from 'node:fs';
import { chmod, chown, lstat, mkdir, rmdir } from 'node:fs/promises';
import { isUnsafeEntry, relPathBytes, type RelPath, type TreeException } from '../discover/fs.js';
import { runProgram } from '../exec.js';

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

/** The kernel refuses a hard link to a file the linker does not own (fs.protected_hardlinks = 1). */
function hardlinksProtected(): boolean {
  try {
    return readFileSync('/proc/sys/fs/protected_hardlinks', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

export interface ChownTreeOptions {
  /** Change only entries owned by exactly this owner now (coreutils' --from: checked on the open inode). */
  from?: [number, number];
  /**
   * Skip device nodes and hard-linked non-directories, tested by find on each entry just before the
   * chown (slower than chown -R). Forced when the kernel does not protect hard links.
   */
  skipUnsafe: boolean;
}

/**
 * chown a whole tree (its top included) without following any symbolic link, even one swapped in for a
 * directory while it runs: both GNU chown -R -P and find -execdir walk with directory descriptors (fts)
 * and change each entry relative to its directory's descriptor (fchownat with AT_SYMLINK_NOFOLLOW), so
 * a component renaming its entries can redirect the walk only inside its own tree. Ownership only: modes
 * below the top are left as they are (the kernel clears setuid/setgid bits; the census records them).
 */
export async function chownTree(hostPath: string, uid: number, gid: number, o: ChownTreeOptions): Promise<void> {
  const from = o.from ? [`--from=${o.from[0]}:${o.from[1]}`] : [];
  const owner = `${uid}:${gid}`;
  const [cmd, args] =
    o.skipUnsafe || !hardlinksProtected()
      ? ['find', ['-P', hostPath, '(', '-type', 'b', '-o', '-type', 'c', '-o', '(', '!', '-type', 'd', '-links', '+1', ')', ')', '-printf', '', '-o', '-execdir', 'chown', '-h', ...from, '--', owner, '{}', '+']]
      : ['chown', ['-R', '-h', '-P', ...from, '--', owner, hostPath]];
  const r = await runProgram(cmd, args);
  // An entry removed while the walk runs (etcd compacting its WAL) has nothing left to change.
  const errors = r.stderr.split('\n').filter((l) => l !== '' && !/No such file or directory$/.test(l));
  if (r.exitCode !== 0 && (errors.length > 0 || r.stderr === '')) {
    throw new Error(`chown -R ${owner} ${hostPath} failed: ${errors[0] ?? `${cmd} exited ${r.exitCode ?? r.signal}`}`);
  }
}

/** A recorded exception (see TreeException in discover/fs.ts), as rollback reads it from the owners file. */
export interface SavedException {
  path: RelPath;
  uid: number;
  gid: number;
  mode: number;
  /** sha256 of a setuid/setgid file's content when apply took its bits away. */
  sha256?: string;
}

/** Old owners files (before 0.2) list [path, uid, gid] tuples. */
export function savedException(e: SavedException | [string, number, number]): SavedException {
  return Array.isArray(e) ? { path: e[0], uid: e[1], gid: e[2], mode: -1 } : e;
}

const O_PATH = 0o10000000; // Linux: a descriptor naming the inode without opening it (open(2))
const viaFd = (fd: number, name?: Buffer): Buffer => Buffer.concat([Buffer.from(`/proc/self/fd/${fd}`), ...(name ? [Buffer.from('/'), name] : [])]);

/**
 * Act on one entry of a component-writable tree without following any link: every directory on the way
 * is opened with O_NOFOLLOW relative to the previous one's descriptor (/proc/self/fd/N/name, which the
 * kernel resolves from the descriptor, not from a path a component can rename), and the entry itself
 * is pinned with O_PATH|O_NOFOLLOW before it is looked at or changed. `act` gets that pinned descriptor.
 * Returns why nothing was done, or null.
 */
export function atEntry<T>(top: string, rel: RelPath, act: (fd: number, st: Stats) => T): { skipped: string } | { result: T } {
  const segs = splitRel(relPathBytes(rel));
  const fds: number[] = [];
  try {
    fds.push(openSync(top, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW));
    for (const seg of segs.slice(0, -1)) {
      try {
        fds.push(openSync(viaFd(fds[fds.length - 1]!, seg), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return { skipped: 'gone' };
        if (code === 'ENOTDIR' || code === 'ELOOP') return { skipped: 'a directory on its path is no longer a directory (a link?)' };
        throw e;
      }
    }
    let fd: number;
    try {
      fd = openSync(viaFd(fds[fds.length - 1]!, segs[segs.length - 1]), O_PATH | constants.O_NOFOLLOW);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { skipped: 'gone' };
      throw e;
    }
    fds.push(fd);
    return { result: act(fd, fstatSync(fd)) };
  } finally {
    for (const fd of fds.reverse()) closeSync(fd);
  }
}

function splitRel(bytes: Buffer): Buffer[] {
  const segs: Buffer[] = [];
  for (let at = 0; at <= bytes.length; ) {
    let end = bytes.indexOf(0x2f, at);
    if (end < 0) end = bytes.length;
    const seg = bytes.subarray(at, end);
    const text = seg.toString('latin1');
    if (text === '..' || text === '') throw new Error(`recorded path ${bytes.toString('utf8')} is not a plain relative path`);
    if (text !== '.') segs.push(seg);
    at = end + 1;
  }
  if (segs.length === 0) throw new Error('recorded path is empty');
  return segs;
}

function unsafeReason(st: Stats): string | null {
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device node';
  if (!st.isDirectory() && st.nlink > 1) return `has ${st.nlink} hard links`;
  return null;
}

/** sha256 of a pinned regular file's content (reopened through its O_PATH descriptor: the same inode). */
export function pinnedSha256(fd: number): string {
  const h = createHash('sha256');
  const rfd = openSync(viaFd(fd), constants.O_RDONLY | constants.O_NONBLOCK); // the magic link itself is followed: to the pinned inode
  try {
    const buf = Buffer.alloc(1 << 16);
    for (let n = readSync(rfd, buf); n > 0; n = readSync(rfd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(rfd);
  }
  return h.digest('hex');
}

/** The content hashes of the setuid/setgid regular files among `exceptions` (apply records them). */
export function hashSpecialFiles(top: string, exceptions: TreeException[]): SavedException[] {
  return exceptions.map((e) => {
    const saved: SavedException = { path: e.path, uid: e.uid, gid: e.gid, mode: e.mode };
    if (e.type !== 'f' || (e.mode & 0o6000) === 0 || isUnsafeEntry(e)) return saved;
    const r = atEntry(top, e.path, (fd, st) => (st.isFile() && st.nlink === 1 ? pinnedSha256(fd) : null));
    if ('result' in r && r.result) saved.sha256 = r.result;
    return saved;
  });
}

/**
 * Put back the owners (and the setuid/setgid bits) of the recorded exceptions, each on the pinned entry
 * (atEntry). Never acts on a device node or a hard-linked file, and sets setuid/setgid bits again only
 * on a file whose content is still what apply saw (the component owned it meanwhile and could have
 * written a program of its own into it). Returns one line per entry left alone.
 */
export function applyExceptions(top: string, exceptions: Array<SavedException | [string, number, number]>): string[] {
  const left: string[] = [];
  for (const raw of exceptions) {
    const e = savedException(raw);
    const name = typeof e.path === 'string' ? e.path : relPathBytes(e.path).toString('utf8');
    const r = atEntry(top, e.path, (fd, st) => {
      const unsafe = unsafeReason(st);
      if (unsafe) return st.uid === e.uid && st.gid === e.gid ? null : `${name}: ${unsafe}; its owner was not restored`;
      chownSync(viaFd(fd), e.uid, e.gid);
      if (e.mode < 0 || st.isSymbolicLink() || (e.mode & 0o6000) === 0) return null;
      if (st.isFile() && e.sha256 !== pinnedSha256(fd)) return `${name}: content changed since apply; its setuid/setgid bits were not restored`;
      chmodSync(viaFd(fd), e.mode);
      return null;
    });
    if ('skipped' in r) {
      if (r.skipped !== 'gone') left.push(`${name}: ${r.skipped}; its owner was not restored`);
    } else if (r.result) left.push(r.result);
  }
  return left;
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
