// Node paths vs host paths. The tool works on a node mounted at --root (a sandbox dir in tests, "/" in
// production). Every path in the model is a NODE path ("/etc/kubernetes/pki/sa.key"); every file the tool
// reads or writes is reached through hostPath()/resolveUnderRoot() so nothing can escape --root, not
// through ".." and not through a symlink with an absolute target.
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { InputError } from './errors.js';

/** Linux gives up after 40 symlinks in one lookup (MAXSYMLINKS, fs/namei.c) and returns ELOOP; so do we. */
const MAX_SYMLINK_HOPS = 40;

/**
 * Lexically normalise an absolute node path: collapse "//", "." and "..", drop a trailing slash.
 * A ".." that would climb above "/" is rejected (path.posix.normalize would silently clamp it, which
 * hides a manifest or config that points outside the node).
 */
export function normalizeNodePath(nodePath: string): string {
  if (!path.posix.isAbsolute(nodePath)) {
    throw new InputError(`path "${nodePath}" is not absolute; node paths must start with "/"`);
  }
  const parts: string[] = [];
  for (const seg of nodePath.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) {
        throw new InputError(`path "${nodePath}" climbs above "/" with ".."; write it without ".."`);
      }
      parts.pop();
      continue;
    }
    parts.push(seg);
  }
  return '/' + parts.join('/');
}

/** Host path of a node path: join(root, nodePath) after normalising; never outside root. */
export function hostPath(root: string, nodePath: string): string {
  const normal = normalizeNodePath(nodePath);
  const top = path.resolve(root);
  return normal === '/' ? top : top === '/' ? normal : top + normal;
}

/** Node path of a host path under root; InputError when the host path is not inside root. */
export function nodePathOf(root: string, host: string): string {
  const rel = path.relative(path.resolve(root), path.resolve(host));
  if (rel === '') return '/';
  if (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) {
    throw new InputError(`${host} is not inside the root ${root}`);
  }
  return '/' + rel.split(path.sep).join('/');
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Resolve every symlink in nodePath the way the kernel would inside `chroot(root)`: an absolute link
 * target starts again at root, and ".." in a link target stops at root (as ".." at "/" does). Returns the
 * resolved NODE path. Components that do not exist are appended as written (like `realpath -m`), so
 * callers can ask about paths that are about to be created.
 */
export function resolveUnderRoot(root: string, nodePath: string): string {
  const resolved: string[] = [];
  let pending = normalizeNodePath(nodePath).split('/').filter((s) => s !== '');
  let hops = 0;
  while (pending.length > 0) {
    const seg = pending.shift()!;
    if (seg === '.') continue;
    if (seg === '..') {
      resolved.pop();
      continue;
    }
    const candidate = '/' + [...resolved, seg].join('/');
    let isLink = false;
    try {
      isLink = lstatSync(hostPath(root, candidate)).isSymbolicLink();
    } catch (e) {
      if (!isMissing(e)) throw e;
      // Nothing exists from here on: keep the rest lexically (".." in it can only drop what we add).
      resolved.push(seg);
      for (const rest of pending) {
        if (rest === '.') continue;
        if (rest === '..') resolved.pop();
        else resolved.push(rest);
      }
      break;
    }
    if (!isLink) {
      resolved.push(seg);
      continue;
    }
    hops += 1;
    if (hops > MAX_SYMLINK_HOPS) {
      throw new InputError(
        `${nodePath}: too many levels of symbolic links (more than ${MAX_SYMLINK_HOPS}) under ${root}; fix the symlink loop`,
      );
    }
    const target = readlinkSync(hostPath(root, candidate));
    if (target.startsWith('/')) resolved.length = 0;
    pending = [...target.split('/').filter((s) => s !== ''), ...pending];
  }
  return '/' + resolved.join('/');
}

/**
 * The host path apply and rollback change: the parent directories resolved inside the root (so an
 * absolute symlink such as /etc/kubernetes/pki -> /srv/pki means ROOT/srv/pki, never the host's
 * /srv/pki), and the last component itself not followed — refused when it is a symbolic link, since
 * chown and rename would act on whatever it points to.
 */
export function safeHostPath(root: string, nodePath: string): string {
  const normal = normalizeNodePath(nodePath);
  if (normal === '/') return path.resolve(root);
  const parent = resolveUnderRoot(root, path.posix.dirname(normal));
  const host = hostPath(root, path.posix.join(parent, path.posix.basename(normal)));
  try {
    if (lstatSync(host).isSymbolicLink()) {
      throw new InputError('is a symbolic link; refusing to change it or what it points to (point the manifest at the real path)', nodePath);
    }
  } catch (e) {
    if (!isMissing(e)) throw e;
  }
  return host;
}

/** The host path the KERNEL reaches for `host` (symlinks followed as on the host), for the part that exists. */
function hostRealpath(host: string): string {
  const rest: string[] = [];
  for (let p = host; ; p = path.dirname(p)) {
    try {
      return path.join(realpathSync.native(p), ...rest.reverse());
    } catch (e) {
      if (!isMissing(e) || p === path.dirname(p)) throw e;
      rest.push(path.basename(p));
    }
  }
}

/**
 * The host path of a directory the tool itself writes, or that tools it runs write (the state dir,
 * backups, lock dir; /etc for shadow-utils' --prefix), resolved with the chroot rule (resolveUnderRoot)
 * — and refused (InputError, exit 2) when the host's own resolution of the same path goes elsewhere:
 * a symbolic link there with an absolute target or enough ".." leads a plain open(2) or a tool that
 * does not know about --root (shadow-utils) out of the root, onto the host's files.
 */
export function confinedHostPath(root: string, nodePath: string): string {
  const inside = hostPath(root, resolveUnderRoot(root, nodePath));
  if (path.resolve(root) === '/') return inside;
  const kernel = hostRealpath(hostPath(root, nodePath));
  const rule = hostRealpath(inside);
  if (kernel !== rule) {
    throw new InputError(
      `${nodePath} under the root is, or passes through, a symbolic link that leads outside the root (to ${kernel}); the tool and shadow-utils would write there. Replace the link with a real directory inside the root (or point --root at the real node)`,
      hostPath(root, nodePath),
    );
  }
  return inside;
}
