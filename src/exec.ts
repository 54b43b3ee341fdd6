// Run a program to its end and collect its output. Every subprocess the tool starts (GNU find, chown,
// shadow-utils, getent) goes through here, with execa (the project's process library).
//
// The programs are looked up on a fixed system PATH, never on the caller's: the tool runs as root, and
// a root shell's PATH often lists directories an ordinary user can write to (~/.local/bin, version
// managers' shims, /usr/local/bin) before /usr/sbin. A `chown` or `useradd` planted there would run
// as root with the tool's arguments.
import { execa } from 'execa';

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
 * collation), plus `env`; `cwd` is its working directory (e.g. /proc/self/fd/N: a directory held open). Rejects only when the program cannot be started; any exit code is the
 * caller's to judge.
 */
export async function runProgram(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<RunResult> {
  const r = await execa(cmd, args, {
    ...(cwd === undefined ? {} : { cwd }),
    stdin: 'ignore',
    env: { ...process.env, LC_ALL: 'C', ...env, PATH: SYSTEM_PATH },
    extendEnv: false,
    encoding: 'buffer',
    stripFinalNewline: false,
    reject: false,
    maxBuffer: 1 << 30,
  });
  if (r.exitCode === undefined && !r.signal) throw new Error(`cannot run ${cmd}: ${(r.cause as Error | undefined)?.message ?? r.shortMessage}`);
  return {
    exitCode: r.exitCode ?? null,
    signal: (r.signal as NodeJS.Signals | undefined) ?? null,
    stdout: Buffer.from(r.stdout),
    stderr: Buffer.from(r.stderr).toString('utf8'),
  };
}
