// File-system operations of apply and rollback on the node under --root. Single entries go through
// src/fs/handles.ts (descriptors, never paths); trees through chown/find started INSIDE the tree's
// top, held open (below).
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, constants, fstatSync, openSync, readFileSync, readSync, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { isUnsafeEntry, relPathBytes, type RelPath, type TreeException } from '../discover/fs.js';
import { runProgram } from '../exec.js';
import { O_PATH, openDirEntry, setOwnerModeFd, viaFd, type EntryState } from '../fs/handles.js';

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

/** The kernel refuses a hard link to a file the linker does not own (fs.protected_hardlinks = 1). */
function hardlinksProtected(): boolean {
  try {
    return readFileSync('/proc/sys/fs/protected_hardlinks', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

interface ChownTreeOptions {
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
 * directory while it runs. The top is the directory `topFd` holds: the walker is started with its
 * working directory there (/proc/self/fd/N, resolved by the kernel to the held inode) and walks ".",
 * so no name on the way to the tree, not even the top's own, is looked up again. Inside, both GNU
 * chown -R -P and find -P walk with directory descriptors (gnulib fts with FTS_PHYSICAL|FTS_CWDFD:
 * each directory opened O_NOFOLLOW relative to its parent's descriptor, its dev/ino checked against
 * the stat fts read, lib/fts.c fts_safe_changedir) and change each entry relative to that descriptor
 * (coreutils src/chown-core.c change_file_owner: fchownat(fts_cwd_fd, name, AT_SYMLINK_NOFOLLOW) for
 * -h; with --from, restricted_chown opens the entry O_NOFOLLOW and checks its owner on the open inode
 * before fchown). An entry renamed under the walk is changed as what it is then (a link: the link
 * itself), a directory swapped for a link is not entered. Ownership only: modes below the top are left
 * as they are (the kernel clears setuid/setgid bits; the census records them).
 */
export async function chownTreeAt(topFd: number, shownPath: string, uid: number, gid: number, o: ChownTreeOptions): Promise<void> {
  const from = o.from ? [`--from=${o.from[0]}:${o.from[1]}`] : [];
  const owner = `${uid}:${gid}`;
  const [cmd, args] =
    o.skipUnsafe || !hardlinksProtected()
      ? ['find', ['-P', '.', '(', '-type', 'b', '-o', '-type', 'c', '-o', '(', '!', '-type', 'd', '-links', '+1', ')', ')', '-printf', '', '-o', '-execdir', 'chown', '-h', ...from, '--', owner, '{}', '+']]
      : ['chown', ['-R', '-h', '-P', ...from, '--', owner, '.']];
  const r = await runProgram(cmd, args, {}, viaFd(topFd).toString());
  // An entry removed while the walk runs (etcd compacting its WAL) has nothing left to change.
  const errors = r.stderr.split('\n').filter((l) => l !== '' && !/No such file or directory$/.test(l));
  if (r.exitCode !== 0 && (errors.length > 0 || r.stderr === '')) {
    throw new Error(`chown -R ${owner} ${shownPath} failed: ${errors[0] ?? `${cmd} exited ${r.exitCode ?? r.signal}`}`);
  }
}

/**
 * Hold the directory `nodePath` names under `root` (reached by descriptors, never followed) while
 * `act` works on it. Throws when it is missing or not a directory.
 */
export async function withTreeTop<T>(root: string, nodePath: string, act: (topFd: number, before: EntryState) => Promise<T> | T): Promise<T> {
  const top = openDirEntry(root, nodePath);
  if (!top) throw new Error(`${nodePath} is missing`);
  try {
    return await act(top.fd, top.before);
  } finally {
    closeSync(top.fd);
  }
}

/** chown the tree `nodePath` names, then set `want` on its top: everything through the one held top. */
export async function chownTree(root: string, nodePath: string, want: OwnerMode | null, owner: [number, number], o: ChownTreeOptions): Promise<void> {
  await withTreeTop(root, nodePath, async (fd) => {
    await chownTreeAt(fd, nodePath, owner[0], owner[1], o);
    if (want) setOwnerModeFd(fd, want);
  });
}

/** A recorded exception (see TreeException in discover/fs.ts), as rollback reads it from the owners file. */
interface SavedException {
  path: RelPath;
  uid: number;
  gid: number;
  mode: number;
  /** sha256 of a setuid/setgid file's content when apply took its bits away. */
  sha256?: string;
}

/** Old owners files (before 0.2) list [path, uid, gid] tuples. */
function savedException(e: SavedException | [string, number, number]): SavedException {
  return Array.isArray(e) ? { path: e[0], uid: e[1], gid: e[2], mode: -1 } : e;
}

/**
 * Act on one entry of a component-writable tree without following any link: every directory on the way
 * is opened with O_NOFOLLOW relative to the previous one's descriptor (/proc/self/fd/N/name, which the
 * kernel resolves from the descriptor, not from a path a component can rename), and the entry itself
 * is pinned with O_PATH|O_NOFOLLOW before it is looked at or changed. `act` gets that pinned descriptor.
 * Returns why nothing was done, or null.
 */
function atEntry<T>(topFd: number, rel: RelPath, act: (fd: number, st: Stats) => T): { skipped: string } | { result: T } {
  const segs = splitRel(relPathBytes(rel));
  const fds: number[] = [];
  try {
    fds.push(openSync(viaFd(topFd), constants.O_RDONLY | constants.O_DIRECTORY));
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
function pinnedSha256(fd: number): string {
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
export function hashSpecialFiles(topFd: number, exceptions: TreeException[]): SavedException[] {
  return exceptions.map((e) => {
    const saved: SavedException = { path: e.path, uid: e.uid, gid: e.gid, mode: e.mode };
    if (e.type !== 'f' || (e.mode & 0o6000) === 0 || isUnsafeEntry(e)) return saved;
    const r = atEntry(topFd, e.path, (fd, st) => (st.isFile() && st.nlink === 1 ? pinnedSha256(fd) : null));
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
export function applyExceptions(topFd: number, exceptions: Array<SavedException | [string, number, number]>): string[] {
  const left: string[] = [];
  for (const raw of exceptions) {
    const e = savedException(raw);
    const name = typeof e.path === 'string' ? e.path : relPathBytes(e.path).toString('utf8');
    const r = atEntry(topFd, e.path, (fd, st) => {
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
