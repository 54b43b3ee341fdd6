// The one way scripts run a command and wait for it: execa (a dependency of the CLI already), with the
// failure message every script wants — the command, how it ended, and the tail of what it printed.
import { execa, execaSync } from 'execa';

export interface RunOptions {
  cwd?: string;
  /** Added to the environment (or the whole environment with `extendEnv: false`). */
  env?: NodeJS.ProcessEnv;
  /** false: the child gets `env` only, not this process's environment. */
  extendEnv?: boolean;
  /** Each line the command writes on stderr, as it comes (e.g. `go build -v` names packages there). */
  onStderrLine?: (line: string) => void;
  /** What to add to the error when the command cannot be started (e.g. how to install it). */
  missingHint?: string;
}

export interface RunResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as the command wrote them. */
  all: string;
}

const TAIL_CHARS = 8000;

function failureMessage(cmd: string, args: readonly string[], r: { exitCode?: number; signal?: string; stdout: string; stderr: string; code?: string }, hint?: string): string {
  if (r.code === 'ENOENT') return `${cmd}: not found${hint ? ` (${hint})` : ''}`;
  const how = r.signal ?? `exit ${r.exitCode ?? '?'}`;
  // `go mod download -json` reports its error in the JSON on stdout, not on stderr.
  const said = (r.stderr.trim() || r.stdout.trim()).slice(-TAIL_CHARS);
  return `${cmd} ${args.join(' ')} failed (${how}):\n${said}`;
}

/** Runs `cmd args` to the end; rejects with failureMessage when it does not exit 0. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await tryRun(cmd, args, opts);
  if (r.exitCode !== 0) throw new Error(r.failure);
  return r;
}

/** Runs `cmd args` to the end and returns how it ended, whatever that was. */
export async function tryRun(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult & { failure: string }> {
  const onLine = opts.onStderrLine;
  const r = await execa(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: opts.extendEnv ?? true,
    stdin: 'ignore',
    stderr: onLine ? [function* (line: unknown) { onLine(String(line)); yield line; }] : 'pipe',
    all: true,
    reject: false,
    stripFinalNewline: false,
  });
  const stdout = String(r.stdout ?? '');
  const stderr = String(r.stderr ?? '');
  const all = String(r.all ?? '');
  const failure = r.exitCode === 0 ? '' : failureMessage(cmd, args, { ...r, stdout, stderr }, opts.missingHint);
  return { exitCode: r.exitCode, stdout, stderr, all, failure };
}

/** run() for the few synchronous callers. */
export function runSync(cmd: string, args: readonly string[], opts: Omit<RunOptions, 'onStderrLine'> = {}): RunResult {
  const r = execaSync(cmd, args, { cwd: opts.cwd, env: opts.env, extendEnv: opts.extendEnv ?? true, stdin: 'ignore', all: true, reject: false, stripFinalNewline: false });
  const res = { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), all: String(r.all ?? '') };
  if (r.exitCode !== 0) throw new Error(failureMessage(cmd, args, { ...r, ...res }, opts.missingHint));
  return res;
}
