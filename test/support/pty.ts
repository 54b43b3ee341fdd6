// Run the CLI on a real pseudo-terminal (test/support/pty-drive.py, python3's pty module): the CLI is
// the session leader and the terminal's foreground process group, as under an operator's shell, so a
// typed Ctrl-C reaches every process of that group through the terminal driver, and closing the
// master is a dropped SSH session (the kernel sends SIGHUP).
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { BIN, REPO } from '../../scripts/lib/cli-run.js';

const DRIVER = path.join(REPO, 'test/support/pty-drive.py');

/** What to do once the terminal's output matches `wait` (a Python regex), in order. */
export type TerminalStep = { wait: string; send: string; sendEveryMs?: number } | { wait: string; hangup: true };

export interface TerminalResult {
  /** Exit code; null when the CLI was ended by a signal. */
  code: number | null;
  /** The signal number that ended it, or null. */
  signal: number | null;
  /** Everything the CLI wrote to the terminal (stdout and stderr together, with listr2's redraws). */
  transcript: string;
  /** How many steps fired (a step whose pattern never appeared did not). */
  fired: number;
}

/** Why terminal tests cannot run here, or false. */
export function terminalPrerequisite(): string | false {
  return spawnSync('python3', ['-c', 'import pty, termios'], { stdio: 'ignore' }).status === 0 ? false : 'python3 with its pty module (it drives a real terminal) is not installed';
}

/** Ctrl-C as typed at a terminal. */
export const CTRL_C = '\x03';

/** kubeadm-nonroot ARGS on a fresh 160x40 pseudo-terminal, driven by `steps`, to its end. */
export function runOnTerminal(args: string[], steps: TerminalStep[], timeoutS = 300): Promise<TerminalResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      [DRIVER, JSON.stringify(steps), process.execPath, BIN, ...args],
      { env: { ...process.env, NO_COLOR: '1', LC_ALL: 'C', PTY_DRIVE_TIMEOUT_S: String(timeoutS) }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${DRIVER} failed: ${error.message}\n${stderr}`));
        const r = JSON.parse(stdout) as { status: number | null; signal: number | null; transcript: string; steps: number };
        resolve({ code: r.status, signal: r.signal, transcript: r.transcript, fired: r.steps });
      },
    );
  });
}

/** One line describing a terminal run, for assertion messages. */
export function showTerminal(r: TerminalResult): string {
  return `exit ${r.code}${r.signal !== null ? ` (signal ${r.signal})` : ''}, ${r.fired} step(s) fired\n--- terminal\n${r.transcript.slice(-4000)}`;
}
