// Run a program to its end and collect its output. Every subprocess the tool starts (GNU find, chown,
// shadow-utils, getent) goes through here, with execa (the project's process library).
//
// The programs are looked up on a fixed system PATH, never on the caller's: the tool runs as root, and
// a root shell's PATH often lists directories an ordinary user can write to (~/.local/bin, version
// managers' shims, /usr/local/bin) before /usr/sbin. A `chown` or `useradd` planted there would run
// as root with the tool's arguments.
//
// Every child runs in its own session (`detached: true`, setsid(2)): a terminal's Ctrl-C sends SIGINT
// to its whole foreground process group, and a hang-up SIGHUP, so a child in the tool's group would be
// ended mid-change — a `chown -R` of an undo "failed: chown exited SIGINT" and the rollback was left
// incomplete. In their own session only the tool receives the terminal's signals and decides (undos are
// never interrupted; see src/cli/signals.ts). execa's `cleanup` does not apply to detached children, so
// the tool kills them itself: when it exits, and when a signal nobody handles is about to end it. A
// SIGKILL (the OOM killer, a `kill -9`) leaves them running: each carries its run's mark in its
// environment, and the run that takes over the dead run's lock waits for them (src/state/leftovers.ts).
import { execa, type ResultPromise } from 'execa';
import { ownRunMark, RUN_MARK_VAR } from './state/leftovers.js';

/** Where the tool looks for the programs it runs (see above). */
export const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunResult {
  /** null when the program was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Run `cmd` (looked up on SYSTEM_PATH) with `args`, stdin closed, and wait for it. The child's
 * environment is the tool's own with PATH=SYSTEM_PATH and LC_ALL=C (messages in English, bytewise
 * collation), plus `env`, plus the run's mark (RUN_MARK_VAR); `cwd` is its working directory (e.g. /proc/self/fd/N: a directory held open). Rejects only when the program cannot be started; any exit code is the
 * caller's to judge.
 */
export async function runProgram(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<RunResult> {
  const child = execa(cmd, args, {
    ...(cwd === undefined ? {} : { cwd }),
    detached: true,
    stdin: 'ignore',
    env: { ...process.env, LC_ALL: 'C', ...env, PATH: SYSTEM_PATH, [RUN_MARK_VAR]: ownRunMark() },
    extendEnv: false,
    encoding: 'buffer',
    stripFinalNewline: false,
    reject: false,
    maxBuffer: 1 << 30,
  });
  const r = await running(child);
  if (r.exitCode === undefined && !r.signal) throw new Error(`cannot run ${cmd}: ${(r.cause as Error | undefined)?.message ?? r.shortMessage}`);
  return {
    exitCode: r.exitCode ?? null,
    signal: (r.signal as NodeJS.Signals | undefined) ?? null,
    stdout: Buffer.from(r.stdout),
    stderr: Buffer.from(r.stderr).toString('utf8'),
  };
}

/** The children running now, each the leader of its own process group. */
const live = new Set<number>();
const ENDING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Await `child`, keeping it in `live` meanwhile. */
async function running<T>(child: ResultPromise & Promise<T>): Promise<T> {
  const pid = child.pid;
  if (pid === undefined) return child;
  if (live.size === 0) watchForEnd();
  live.add(pid);
  try {
    return await child;
  } finally {
    live.delete(pid);
    if (live.size === 0) unwatchForEnd();
  }
}

/** SIGKILL every running child's process group (each child leads its own). */
function killChildren(): void {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

// A signal with no other listener would end the tool (Node's default action) and leave the detached
// children running: kill them, then end by that same signal as if unhandled. When another listener
// exists (src/cli/signals.ts during a run), that listener decides and the children keep running.
function endBySignal(sig: NodeJS.Signals): void {
  if (process.listenerCount(sig) > 1) return;
  killChildren();
  unwatchForEnd();
  process.kill(process.pid, sig);
}

function watchForEnd(): void {
  process.on('exit', killChildren);
  for (const s of ENDING_SIGNALS) process.on(s, endBySignal);
}

function unwatchForEnd(): void {
  process.off('exit', killChildren);
  for (const s of ENDING_SIGNALS) process.off(s, endBySignal);
}
