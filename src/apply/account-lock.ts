// The lock files shadow-utils takes before it writes an account database, taken the same way, so that a
// useradd, chpasswd or vipw running while rollback publishes /etc/passwd (…) is never lost: each waits
// for the other. The protocol is shadow-utils' lib/commonio.c (commonio_lock_nowait / do_lock_file),
// also what lckpwdf-era tools use: write our PID to FILE.<pid>, link() it to FILE.lock (link never
// replaces an existing file, so exactly one process wins), and make sure the link count is 2. When the
// link exists already, read the holder's PID from it: a live holder keeps it; a lock whose holder is gone
// is removed and taken once; a lock that cannot be read or holds no valid PID is NOT stale (commonio
// refuses it too) and is never taken over.
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long to wait for a live holder (lckpwdf waits 15 s). */
const ACCOUNT_LOCK_WAIT_MS = 15_000;

type Attempt = { ok: true } | { ok: false; why: string; retry: boolean };

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function linkCountIs2(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.nlink === 2;
}

async function tryLock(hostFile: string): Promise<Attempt> {
  const mine = `${hostFile}.${process.pid}`;
  const lock = `${hostFile}.lock`;
  await writeFile(mine, String(process.pid), { mode: 0o600, flag: 'w' });
  try {
    try {
      await link(mine, lock);
      return (await linkCountIs2(mine)) ? { ok: true } : { ok: false, why: `${lock}: link count is not 2`, retry: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let text: string;
    try {
      text = await readFile(lock, 'latin1');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { ok: false, why: `${lock} was just released`, retry: true };
      return { ok: false, why: `${lock} exists and cannot be read (${code}); it is not treated as stale`, retry: true };
    }
    if (!/^\s*[1-9][0-9]*\s*$/.test(text)) return { ok: false, why: `${lock} exists without a valid PID; it is not treated as stale — remove it if no account tool is running`, retry: true };
    const pid = Number(text.trim());
    if (processAlive(pid)) return { ok: false, why: `${lock} is held by pid ${pid}`, retry: true };
    // The holder is gone: remove its lock and take it, once (as commonio does).
    await unlink(lock).catch(() => undefined);
    try {
      await link(mine, lock);
    } catch {
      return { ok: false, why: `${lock} was taken by another process`, retry: true };
    }
    return (await linkCountIs2(mine)) ? { ok: true } : { ok: false, why: `${lock}: link count is not 2`, retry: true };
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

/** Take FILE.lock for each host file (in order), run `fn`, release them (newest first). */
export async function withAccountLocks<T>(hostFiles: string[], fn: () => Promise<T>, waitMs = ACCOUNT_LOCK_WAIT_MS): Promise<T> {
  const held: string[] = [];
  try {
    for (const f of hostFiles) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const a = await tryLock(f);
        if (a.ok) break;
        if (!a.retry || Date.now() >= deadline) throw new Error(`cannot lock ${f} the way shadow-utils does: ${a.why}`);
        await sleep(100);
      }
      held.push(`${f}.lock`);
    }
    return await fn();
  } finally {
    for (const l of held.reverse()) await unlink(l).catch(() => undefined);
  }
}
