// Programs a killed run left running. The tool starts every program in its own session (src/exec.ts),
// so SIGKILL, the OOM killer or a crash of the tool ends the tool and not them: the `chown -R` of a
// large data dir goes on re-owning it after the tool is gone, for seconds on a loaded machine. The next
// run takes over the dead run's lock; if it went on at once, a rollback could finish before that chown,
// which then hands the rest of the tree to the component again — after the rollback deleted its
// account, so the files end up owned by a freed UID. So the run that takes over a stale lock first waits
// until every program the dead run started has ended (each finishes a change the dead run journaled
// before starting it: the rollback or the resumed apply that follows sees its whole effect).
//
// Which programs: every program the tool starts carries its run's mark in its environment (RUN_MARK_VAR,
// set by runProgram; find's own chown children inherit it). The mark is the tool's PID and start time,
// which the lock file records too, so the run taking over knows the dead holder's mark; a reused PID
// has another start time. Only processes whose four UIDs are all 0 count: a component cannot start a
// root process, so none can hold a run up by copying a mark into its own environment.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { listProcesses } from '../discover/processes.js';

/** The environment variable that names the run which started a program. */
export const RUN_MARK_VAR = 'KUBEADM_NONROOT_RUN';

/** Field 22 of /proc/PID/stat (proc(5): starttime, clock ticks after boot), or null when it is gone. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** A run's mark: its PID and start time (a process, not a PID that may be reused). */
export function runMark(pid: number, start: string | null): string {
  return `${pid}@${start ?? 'unknown'}`;
}

let ownMark: string | null = null;

/** This process's mark, as the programs it starts carry it. */
export function ownRunMark(): string {
  ownMark ??= runMark(process.pid, processStart(process.pid));
  return ownMark;
}

export interface Leftover {
  pid: number;
  /** Its start time: the same PID with another one is another process. */
  start: string | null;
  command: string;
}

/** Root's processes that carry `mark` in their environment. */
export async function leftoversOf(mark: string, proc = '/proc'): Promise<Leftover[]> {
  const entry = `${RUN_MARK_VAR}=${mark}`;
  const out: Leftover[] = [];
  for (const p of await listProcesses(proc)) {
    if (p.pid === process.pid || p.uids.length !== 4 || p.uids.some((u) => u !== 0)) continue;
    const environ = await readFile(`${proc}/${p.pid}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(entry)) out.push({ pid: p.pid, start: processStart(p.pid), command: p.argv.join(' ') });
  }
  return out;
}

/** Still that very process, and not a zombie (a program that ended, not yet reaped, has done its work). */
function stillRunning(l: Leftover): boolean {
  try {
    const stat = readFileSync(`/proc/${l.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] !== 'Z' && fields[0] !== 'X' && fields[19] === l.start;
  } catch {
    return false;
  }
}

/**
 * Wait until no program of the run `mark` (pid `holderPid`, ended) is running, saying once for each what
 * it is. Returns how many were waited for.
 */
export async function waitForLeftovers(mark: string, holderPid: number, say: (message: string) => void, pollMs = 200): Promise<number> {
  const seen = new Set<number>();
  for (let left = await leftoversOf(mark); left.length > 0; left = await leftoversOf(mark)) {
    for (const l of left) {
      if (seen.has(l.pid)) continue;
      seen.add(l.pid);
      say(`pid ${l.pid} (${l.command}), started by the interrupted run (pid ${holderPid}), is still running; waiting for it to end before going on: it is making a change that run journaled`);
    }
    while (left.some(stillRunning)) await sleep(pollMs);
  }
  return seen.size;
}
