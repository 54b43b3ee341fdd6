// Run a program to its end and collect its output, with node:child_process. Every subprocess the tool
// starts (GNU find, chown, shadow-utils, getent) goes through here. Not execa: loading it and its
// per-call machinery cost about 40 ms + 5 ms a call of CPU (bench/results.md), an apply makes a dozen
// calls, and the tool uses none of its extras. Its kill-the-child-on-exit has nothing to do here either:
// the tool awaits every child, and SIGINT/SIGTERM/SIGHUP never end it mid-change (src/cli/signals.ts).
import { spawn } from 'node:child_process';

export interface RunResult {
  /** null when the program was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Run `cmd` (looked up on PATH) with `args`, stdin closed, and wait for it. `env` is the child's whole
 * environment: by default the tool's own with LC_ALL=C (messages in English, bytewise collation).
 * Rejects only when the program cannot be started; any exit code is the caller's to judge.
 */
export function runProgram(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal, stdout: Buffer.concat(out), stderr }));
  });
}
