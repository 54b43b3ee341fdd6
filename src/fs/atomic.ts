// Atomic publication of a file's content, owner and mode: write a temp file in the same directory,
// fchown + fchmod it, fsync, rename over the target, fsync the directory. A reader never sees the file
// with the new name but the old owner or mode — the kubelet secret-volume race kubernetes#114461 is
// exactly that window. The temp name starts with a dot so the kubelet ignores it if it sits in the
// manifests directory (kubelet pkg/kubelet/config/file.go skips dotfiles).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { copyXattrs, setXattrs, type Xattr } from './xattr.js';

export function tempNameFor(hostPath: string): string {
  return join(dirname(hostPath), `.kubeadm-nonroot.${basename(hostPath)}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Is `name` (a base name) a temp name tempNameFor could have given `hostPath`? */
export function isTempNameFor(hostPath: string, name: string): boolean {
  const prefix = `.kubeadm-nonroot.${basename(hostPath)}.`;
  return name.startsWith(prefix) && /^[0-9a-f]{8}\.tmp$/.test(name.slice(prefix.length));
}

interface Publish {
  uid: number;
  gid: number;
  mode: number;
  /** Give the new inode these extended attributes instead of those of the file it replaces (a restore of saved ones). */
  xattrs?: readonly Xattr[];
}

/**
 * Write `content` to `hostPath` atomically with the given owner and mode, keeping the extended
 * attributes (SELinux label, ACLs, user.*) of the file it replaces (src/fs/xattr.ts). `temp` lets the
 * caller journal the temp name first.
 */
export async function publishFile(hostPath: string, content: Buffer | string, want: Publish, temp = tempNameFor(hostPath)): Promise<void> {
  const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(content);
    // Before the owner and mode: an access ACL sets the group bits, which the fchmod below then sets
    // to the wanted mode (the ACL mask follows them, as chmod(1) does on a file with an ACL).
    if (want.xattrs) await setXattrs(temp, want.xattrs);
    else if (await exists(hostPath)) await copyXattrs(hostPath, temp);
    await fh.chown(want.uid, want.gid);
    await fh.chmod(want.mode); // after chown: chown clears setuid/setgid bits
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(temp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(temp, hostPath);
  await syncDir(dirname(hostPath));
}

async function exists(hostPath: string): Promise<boolean> {
  return lstat(hostPath).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw e;
    },
  );
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Append a line and fsync it: durable when this resolves (a journal intent, before its change starts). */
export async function appendDurable(hostPath: string, line: string): Promise<void> {
  await append(hostPath, line, true);
}

/**
 * Append a line without fsync: in the kernel when this resolves (a killed process loses nothing), on
 * disk only with the next fsync of the file (appendDurable) — a power failure may lose it.
 */
export async function appendLine(hostPath: string, line: string): Promise<void> {
  await append(hostPath, line, false);
}

/**
 * Append one whole line, or nothing: on a full disk write(2) may store part of the line and report a
 * short count (no error), and a later append would then follow a torn line in the middle of the file,
 * which no reader can tell from corruption. So a short or failed write (or fsync) is cut back to the
 * size before it and reported as ENOSPC/the error: the record was not written, and the caller does not
 * make the change it announces.
 */
async function append(hostPath: string, line: string, sync: boolean): Promise<void> {
  const fh = await open(hostPath, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    const { size } = await fh.stat();
    const data = Buffer.from(line);
    try {
      const { bytesWritten } = await fh.write(data, 0, data.length);
      if (bytesWritten !== data.length) throw Object.assign(new Error(`ENOSPC: no space left on device, wrote ${bytesWritten} of ${data.length} bytes to ${hostPath}`), { code: 'ENOSPC' });
      if (sync) await fh.sync();
    } catch (e) {
      await fh.truncate(size).catch(() => undefined);
      throw e;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Write a backup file so that it is complete on disk before the journal says the change it protects
 * may start: temp file, fsync, rename, directory fsync. Never overwrites (an earlier run's copy of the
 * same file is the true original): returns false when `hostPath` exists already.
 */
export async function writeDurable(hostPath: string, content: Buffer | string, mode = 0o600): Promise<boolean> {
  try {
    await stat(hostPath);
    return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const temp = tempNameFor(hostPath);
  const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(temp, { force: true }); // a full disk leaves no partial copy behind
    throw e;
  }
  await fh.close();
  await rename(temp, hostPath);
  await syncDir(dirname(hostPath));
  return true;
}
