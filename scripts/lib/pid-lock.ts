// The one cross-process lock of the scripts: a directory created with mkdir(2) (atomic) holding the
// holder's pid. A waiter takes a lock over only when its holder is provably gone: the pid names no
// process, or no pid was ever written and the directory is older than PID_GRACE_MS (its creator died
// between mkdir and write). An empty or half-written pid file is never read as a dead holder.
// The same proof of death lets removeLeftByDeadProcesses clear the temporaries a killed run named after
// its pid.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a lock directory may stay without a pid before its creator counts as dead. */
const PID_GRACE_MS = 10_000;

export interface PidLockOptions {
  /** Told once, when the lock is held by another live process. */
  onWait?: (holder: string) => void;
  pollMs?: number;
}

/** The holder's pid, or null while none is written yet. */
function holderOf(lock: string): number | null {
  try {
    const text = readFileSync(join(lock, 'pid'), 'utf8').trim();
    return /^[1-9]\d*$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what killed processes left in `dir`: the entries whose name carries their writer's pid
 * (`pidIn` finds it; undefined: not such an entry) when that process is gone. A live one's stay.
 */
export function removeLeftByDeadProcesses(dir: string, pidIn: (name: string) => number | undefined): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const name of names) {
    const pid = pidIn(name);
    if (pid !== undefined && !processExists(pid)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function ageMs(path: string): number | null {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * Removes a stale lock, unless it changed hands since it was judged stale: it is renamed aside first
 * (atomic), then removed only if it still holds the pid that was judged (else renamed back).
 */
function removeStale(lock: string, judged: number | null): void {
  const aside = `${lock}.stale-${process.pid}`;
  try {
    renameSync(lock, aside);
  } catch {
    return; // gone already, or replaced: look again
  }
  if (holderOf(aside) === judged) rmSync(aside, { recursive: true, force: true });
  else {
    try { renameSync(aside, lock); } catch { rmSync(aside, { recursive: true, force: true }); }
  }
}

/** Tries once; true when this process now holds `lock`. */
function tryTake(lock: string): boolean {
  try {
    mkdirSync(lock);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  writeFileSync(join(lock, 'pid'), String(process.pid));
  return true;
}

/** Runs `fn` holding the lock directory `lock` (its parent must exist), waiting for a live holder. */
export async function withPidLock<T>(lock: string, fn: () => Promise<T>, opts: PidLockOptions = {}): Promise<T> {
  let told = false;
  while (!tryTake(lock)) {
    const holder = holderOf(lock);
    const stale = holder === null ? (ageMs(lock) ?? 0) > PID_GRACE_MS : !processExists(holder);
    if (stale) {
      removeStale(lock, holder);
      continue;
    }
    if (!told) {
      opts.onWait?.(holder === null ? '(starting)' : String(holder));
      told = true;
    }
    await sleep(opts.pollMs ?? 500);
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
