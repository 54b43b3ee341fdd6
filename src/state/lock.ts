// One run at a time. The lock file holds the holder's PID and its process start time (so a reused PID
// is not mistaken for the holder). A lock whose holder is gone is taken over with a warning, once the
// programs that holder started have ended too (src/state/leftovers.ts).
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { confinedHostPath } from '../paths.js';
import { InputError, isOutOfSpace, RefusedError } from '../errors.js';
import { checkConfined, LOCK_FILE } from './locations.js';
import { processStart, runMark, waitForLeftovers } from './leftovers.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Lock {
  path: string;
  release(): Promise<void>;
}

export interface Holder {
  pid: number;
  start: string | null;
  command: string;
}

/** How alive() looks at a process: the real kill(2) and /proc by default, a test's stand-ins otherwise. */
export interface ProcessProbes {
  signalZero(pid: number): void;
  startOf(pid: number): string | null;
}

const realProbes: ProcessProbes = { signalZero: (pid) => process.kill(pid, 0), startOf: processStart };

function exists(pid: number, probes: ProcessProbes): boolean {
  try {
    probes.signalZero(pid);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Whether the lock's holder still runs. A start time that cannot be read is taken as "alive" (never take
 * over a live run's lock), unless the PID is gone by then: a process that ended between kill(pid, 0) and
 * the read of /proc/PID/stat is not a holder.
 */
export function alive(h: Holder, probes: ProcessProbes = realProbes): boolean {
  if (!exists(h.pid, probes)) return false;
  const start = probes.startOf(h.pid);
  if (start === null) return exists(h.pid, probes);
  return h.start === null || start === h.start;
}

export async function acquireLock(root: string, command: string, warn: (msg: string) => void): Promise<Lock> {
  // The root must exist already: a mistyped --root must not be created (bad input changes nothing).
  const rootStat = await stat(root).catch(() => null);
  if (!rootStat?.isDirectory()) throw new InputError(`--root ${root}: no such directory`, root);
  checkConfined(root);
  const path = join(confinedHostPath(root, dirname(LOCK_FILE)), basename(LOCK_FILE));
  // Every node has /run; a sandbox root may not. Create it only for the lock's lifetime, so a run
  // refused for bad input leaves the tree exactly as it was.
  const createdRunDir = await mkdir(dirname(path), { mode: 0o755 }).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
      return false;
    },
  );
  const release = async () => {
    await unlink(path).catch(() => undefined);
    if (createdRunDir) await rmdir(dirname(path)).catch(() => undefined); // only if still empty
  };
  const me: Holder = { pid: process.pid, start: processStart(process.pid), command };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        await fh.writeFile(JSON.stringify(me) + '\n');
        await fh.sync();
      } catch (e) {
        // A full /run: the lock is not taken, and no empty lock file is left to look held.
        await fh.close();
        await release();
        if (isOutOfSpace(e)) throw new RefusedError(`no space left to write ${LOCK_FILE} under ${root} (${(e as Error).message}); nothing was changed. Free some space there and run again`);
        throw e;
      }
      await fh.close();
      return { path, release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: Holder | null = null;
    let seen = '';
    try {
      seen = await readFile(path, 'utf8');
      holder = JSON.parse(seen) as Holder;
    } catch {
      holder = null; // a lock file being written right now, or garbage: treat as held once, then stale
    }
    if (holder && alive(holder)) {
      throw new RefusedError(`another kubeadm-nonroot run (pid ${holder.pid}, ${holder.command}) holds ${LOCK_FILE} under ${root}; wait for it to finish (a lock whose process has ended is taken over by the next run by itself: never delete it by hand)`);
    }
    if (!holder && attempt === 0) {
      await sleep(200);
      continue;
    }
    // Its holder is gone, but programs it started may still be changing the node (src/state/leftovers.ts):
    // wait for them while its lock still stands, so that a run interrupted while it waits leaves the
    // lock, and the wait, to the next one.
    if (holder) await waitForLeftovers(runMark(holder.pid, holder.start), holder.pid, warn);
    warn(`taking over a stale lock ${LOCK_FILE}${holder ? ` left by pid ${holder.pid} (${holder.command}), which is no longer running` : ''}`);
    // Move it aside first so two runs taking over at once cannot both succeed: only one rename wins.
    // A run that judged the same stale lock a moment later would rename the WINNER's fresh lock away
    // (rename replaces whatever is there now), so check what was moved: if it is not the stale lock we
    // read, put it back (link never overwrites) and look again, which then finds a live holder.
    const aside = `${path}.stale.${process.pid}`;
    try {
      await rename(path, aside);
      if ((await readFile(aside, 'utf8')) !== seen) await link(aside, path).catch(() => undefined);
      await unlink(aside);
    } catch {
      /* someone else took it over; retry */
    }
  }
  throw new RefusedError(`could not take ${LOCK_FILE} under ${root}; another run is taking it over`);
}
