// Files under --root reached through descriptors, never by path: every owner, mode, mkdir and rmdir the
// tool does on the node goes through here. The tool runs as root to contain a compromised component,
// and a component can rename anything in a directory it can write: a path checked with lstat and then
// used by chown(2) can be a symbolic link by the time chown runs (a TOCTOU race; issue: a swapped
// `--wal-dir` re-owned /etc/kubernetes/manifests). So:
//
// - The walk starts at a descriptor of the --root directory and opens each directory component
//   relative to the previous one with O_DIRECTORY|O_NOFOLLOW. Node has no openat(2); the standard
//   substitute is /proc/self/fd/<dirfd>/<name>: the kernel resolves the /proc magic link to the very
//   directory the descriptor holds (proc_fd_link, nd_jump_link in fs/namei.c), not by its path, and
//   O_NOFOLLOW applies to <name>. A component that renames the directory afterwards moves the inode
//   the walk holds; it cannot redirect the walk.
// - The last component is pinned with O_PATH|O_NOFOLLOW (open(2): a symbolic link is opened as itself,
//   a device or FIFO is not opened at all), its type read with fstat(2), and only a regular file or a
//   directory is then reopened through its own descriptor and changed with fchown(2)/fchmod(2).
// - A symbolic link on the way is followed only when nobody but root can have put it there: the link is
//   root's and its directory is root's and writable by root alone (the same trust the kernel's
//   fs.protected_symlinks gives links in sticky directories, tightened). It is resolved as inside
//   chroot(root): an absolute target restarts at the root descriptor, ".." stops there. Anything else
//   (a link a component could plant or swap) is refused. ".." in a node path is refused outright.
//
// Checked on Linux 6.x: a link opened with O_DIRECTORY|O_NOFOLLOW fails with ENOTDIR (not ELOOP), a
// process whose cwd is /proc/self/fd/<n> stays in that directory after it is renamed and replaced by a
// link, and fchown on an O_PATH descriptor fails with EBADF (hence the reopen).
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync, rmdirSync, type Stats } from 'node:fs';
import { InputError } from '../errors.js';

/** Linux open(2) O_PATH (not exported by Node's fs.constants). */
export const O_PATH = 0o10000000;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** Linux gives up after 40 links in one lookup (MAXSYMLINKS, fs/namei.c); so does the walk. */
const MAX_LINK_HOPS = 40;

/** The path the kernel resolves to what `fd` holds, or to `name` inside the directory `fd` holds. */
export function viaFd(fd: number, name?: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from(`/proc/self/fd/${fd}`), ...(name === undefined ? [] : [Buffer.from('/'), Buffer.from(name)])]);
}

/** A path component a component swapped, or a path that leaves the root: refused, nothing done. */
export class UnsafePathError extends InputError {}

type EntryType = 'file' | 'dir' | 'other';

export interface OwnerMode {
  uid: number;
  gid: number;
  mode: number;
}

export interface EntryState extends OwnerMode {
  type: EntryType;
}

function entryType(st: Stats): EntryType {
  return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
}

function describeType(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return st.isDirectory() ? 'a directory' : 'a regular file';
}

/** The names of an absolute node path; ".." is refused (nothing may climb, even back into the root). */
function nodeComponents(nodePath: string): string[] {
  if (!nodePath.startsWith('/')) throw new InputError(`path "${nodePath}" is not absolute; node paths must start with "/"`);
  const names = nodePath.split('/').filter((s) => s !== '' && s !== '.');
  if (names.includes('..')) throw new UnsafePathError(`path "${nodePath}" has a ".." component; write it without ".."`);
  return names;
}

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

/** A link only root can have made or swapped: root's, in a directory only root can write. */
function trustedLink(dir: Stats, link: Stats): boolean {
  return link.uid === 0 && dir.uid === 0 && (dir.mode & 0o022) === 0;
}

/**
 * Descriptor of the directory `nodeDir` names under `root`, reached as described above; null when a
 * component does not exist. The caller closes it.
 */
function openDirUnder(root: string, nodeDir: string): number | null {
  const stack = [openSync(root, constants.O_RDONLY | constants.O_DIRECTORY)];
  let pending = nodeComponents(nodeDir);
  let hops = 0;
  try {
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === '.' || name === '') continue;
      if (name === '..') {
        // Only from a trusted link's target: stops at the root, as ".." at "/" does.
        if (stack.length > 1) closeSync(stack.pop()!);
        continue;
      }
      const parent = stack[stack.length - 1]!;
      try {
        stack.push(openSync(viaFd(parent, name), DIR_FLAGS));
        continue;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return null;
        if (code !== 'ENOTDIR' && code !== 'ELOOP') throw e;
      }
      const st = lstatSync(viaFd(parent, name)); // not followed: the last name of an lstat path
      if (!st.isSymbolicLink()) throw new UnsafePathError(`${name} is ${describeType(st)}, not a directory`, nodeDir);
      if (!trustedLink(fstatSync(parent), st)) {
        throw new UnsafePathError(`${name} on the way is a symbolic link that a non-root user owns or could have swapped in; refusing to follow it (replace it with the real directory)`, nodeDir);
      }
      if (++hops > MAX_LINK_HOPS) throw new InputError(`too many levels of symbolic links (more than ${MAX_LINK_HOPS}); fix the symlink loop`, nodeDir);
      const target = readlinkSync(viaFd(parent, name), 'utf8');
      if (target.startsWith('/')) while (stack.length > 1) closeSync(stack.pop()!);
      pending = [...target.split('/'), ...pending];
    }
    return stack.pop()!;
  } finally {
    for (const fd of stack) closeSync(fd);
  }
}

function splitParent(nodePath: string): { dir: string; name: string } {
  const names = nodeComponents(nodePath);
  if (names.length === 0) throw new UnsafePathError('the root itself is never changed', nodePath);
  return { dir: '/' + names.slice(0, -1).join('/'), name: names[names.length - 1]! };
}

/** Run `act` with a descriptor of the directory holding `nodePath` and its last name; null when that directory does not exist. */
function inParent<T>(root: string, nodePath: string, act: (dirFd: number, name: string) => T): T | null {
  const { dir, name } = splitParent(nodePath);
  const dirFd = openDirUnder(root, dir);
  if (dirFd === null) return null;
  try {
    return act(dirFd, name);
  } finally {
    closeSync(dirFd);
  }
}

/** Pin `name` in the directory `dirFd` holds (O_PATH|O_NOFOLLOW: never followed, never really opened); null when absent. */
function pinIn(dirFd: number, name: string): number | null {
  try {
    return openSync(viaFd(dirFd, name), O_PATH | constants.O_NOFOLLOW);
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

/** Owner, mode and type of `nodePath` (the last component not followed); null when it does not exist. */
export function stateUnder(root: string, nodePath: string): EntryState | null {
  return withPinned(root, nodePath, (_fd, st) => ({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, type: entryType(st) }));
}

/** Run `act` on the pinned entry `nodePath` names (O_PATH descriptor and its fstat); null when it does not exist. */
function withPinned<T>(root: string, nodePath: string, act: (pinned: number, st: Stats) => T): T | null {
  return (
    inParent(root, nodePath, (dirFd, name) => {
      const fd = pinIn(dirFd, name);
      if (fd === null) return null;
      try {
        return act(fd, fstatSync(fd));
      } finally {
        closeSync(fd);
      }
    }) ?? null
  );
}

/**
 * Reopen a pinned regular file or directory for fchown/fchmod (the /proc magic link of an O_PATH
 * descriptor leads to the pinned inode, whatever its name is now). Anything else is refused with its
 * type: only regular files and directories are ever changed. O_NONBLOCK|O_NOCTTY: nothing the open
 * could wait for or acquire.
 */
function reopen(pinned: number, st: Stats, nodePath: string): number {
  if (!st.isFile() && !st.isDirectory()) throw new UnsafePathError(`is ${describeType(st)}; only regular files and directories are ever changed`, nodePath);
  const fd = openSync(viaFd(pinned), constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (st.isDirectory() ? constants.O_DIRECTORY : 0));
  const again = fstatSync(fd);
  if (again.ino !== st.ino || again.dev !== st.dev) {
    closeSync(fd);
    throw new UnsafePathError('changed while it was being opened; run again', nodePath);
  }
  return fd;
}

/**
 * Set owner and mode on an open descriptor, in place (the same inode: a process writing to the file
 * keeps writing to it). Never wider on the way: the mode first narrows to what the old and the new mode
 * both allow, then the owner changes (which clears setuid/setgid on a file), then the final mode.
 */
export function setOwnerModeFd(fd: number, want: OwnerMode): void {
  const st = fstatSync(fd);
  const now = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
  const narrow = now.mode & want.mode & 0o777;
  if (narrow !== (now.mode & 0o7777) && (now.uid !== want.uid || now.gid !== want.gid)) fchmodSync(fd, narrow);
  if (now.uid !== want.uid || now.gid !== want.gid) fchownSync(fd, want.uid, want.gid);
  fchmodSync(fd, want.mode);
}

/**
 * Change the owner and mode of the regular file or directory `nodePath` names, in place, through its
 * descriptor. Returns what it was before, or null when it does not exist (nothing done).
 */
export function setOwnerModeUnder(root: string, nodePath: string, want: OwnerMode): EntryState | null {
  return withPinned(root, nodePath, (pinned, st) => {
    const before: EntryState = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, type: entryType(st) };
    const fd = reopen(pinned, st, nodePath);
    try {
      setOwnerModeFd(fd, want);
    } finally {
      closeSync(fd);
    }
    return before;
  });
}

/** A descriptor of the directory `nodePath` names (never followed), and its state; null when it does not exist. The caller closes it. */
export function openDirEntry(root: string, nodePath: string): { fd: number; before: EntryState } | null {
  return withPinned(root, nodePath, (pinned, st) => {
    if (!st.isDirectory()) throw new UnsafePathError(`is ${describeType(st)}, not a directory`, nodePath);
    return { fd: reopen(pinned, st, nodePath), before: { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, type: 'dir' as const } };
  });
}

/**
 * mkdir `name` in the directory `dirFd` holds and return a descriptor of the new directory, refusing a
 * name that exists (as anything) and a directory that is not the one just made (root's and empty: a
 * component that can write the parent could swap in its own between the mkdir and the open).
 */
function mkdirIn(dirFd: number, name: string, mode: number, nodePath: string): number {
  try {
    mkdirSync(viaFd(dirFd, name), mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const st = lstatSync(viaFd(dirFd, name));
    throw new UnsafePathError(`exists already (${describeType(st)}) where the tool was to create a directory; run plan again`, nodePath);
  }
  let fd: number;
  try {
    fd = openSync(viaFd(dirFd, name), DIR_FLAGS);
  } catch {
    throw new UnsafePathError('was replaced right after the tool created it; run plan again', nodePath);
  }
  const st = fstatSync(fd);
  if (st.uid !== process.geteuid?.() || st.nlink !== 2) {
    closeSync(fd);
    throw new UnsafePathError('was replaced right after the tool created it; run plan again', nodePath);
  }
  return fd;
}

/**
 * Create the directories `nodePaths` (parents first, each below the previous or an existing one) with
 * `mode`, then set `want` on the last, all through descriptors (mkdir's mode is filtered by the umask:
 * fchmod sets it exactly).
 */
export function mkdirsUnder(root: string, nodePaths: string[], mode: number, want: OwnerMode): void {
  nodePaths.forEach((p, i) => {
    const made = inParent(root, p, (dirFd, name) => {
      const fd = mkdirIn(dirFd, name, 0o700, p);
      try {
        const last = i === nodePaths.length - 1;
        setOwnerModeFd(fd, last ? want : { uid: 0, gid: 0, mode });
      } finally {
        closeSync(fd);
      }
      return true;
    });
    if (made === null) throw new UnsafePathError('its parent directory disappeared; run plan again', p);
  });
}

/** rmdir through the parent's descriptor: true when gone (or never there), false when not empty. A link is never removed. */
export function rmdirUnder(root: string, nodePath: string): boolean {
  const r = inParent(root, nodePath, (dirFd, name) => {
    try {
      rmdirSync(viaFd(dirFd, name));
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      if (code === 'ENOTDIR') throw new UnsafePathError('is no longer a directory (a link?); left alone', nodePath);
      throw e;
    }
  });
  return r ?? true;
}
