// Where command output goes: data formats on stdout only, human text on stdout, notes on stderr.
import { closeSync } from 'node:fs';
import { renderData } from '../render/data.js';
import { makeStyle, wantColor, type Style } from '../render/style.js';
import type { Plan } from '../plan/types.js';
import type { GlobalOptions } from './options.js';

/**
 * A reader that went away (`| head` closed the pipe: EPIPE; the terminal hung up: EIO) must never end
 * a run: Node emits a write error as an 'error' event on process.stdout/stderr, and an unhandled one
 * ends the process — with exit 1 mid-apply (the run unfinished, the lock left), or, after a hang-up,
 * with SIGABRT/SIGSEGV as Node fails to report the error on the dead terminal too. Install once, before
 * anything is written: a stream that failed is no longer written to; the run finishes or rolls back
 * and its exit code still says how it ended.
 */
export function survivePeerGone(streams: ReadonlyArray<NodeJS.WriteStream> = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      // Nobody reads this stream any more. Later writes to a destroyed stream are dropped (their
      // errors also arrive here).
      if (e.code === 'EIO') terminalHungUp();
    });
  }
  process.on('exit', () => {
    if (hungUp) closeStdio();
  });
}

let hungUp = false;

/** The controlling terminal is gone (SIGHUP, or a write failed with EIO). */
export function terminalHungUp(): void {
  hungUp = true;
}

// At exit Node restores the terminal modes it saved at startup on every stdio descriptor still open on
// the same file, and aborts the process when that fails with anything but EPERM (node::ResetStdio in
// src/node.cc); on a hung-up terminal tcsetattr(3) fails with EIO, so a run that had rolled back
// completely died with SIGABRT instead of its exit code. A descriptor closed by the program is skipped
// there (EBADF): close them, as nothing can be written to a terminal that is gone anyway.
function closeStdio(): void {
  for (const fd of [0, 1, 2]) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

export function style(opts: GlobalOptions, stream: { isTTY?: boolean } = process.stdout): Style {
  return makeStyle(wantColor(opts.color, stream));
}

/** Print `value` as JSON/YAML, or `human()` as text. */
export async function emit(opts: GlobalOptions, value: unknown, human: () => string): Promise<void> {
  if (opts.output === 'text') {
    process.stdout.write(human());
    return;
  }
  process.stdout.write(renderData(value, opts.output));
}

export function note(message: string): void {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
}

/**
 * The reason for exit 2 on a blocked plan, on stderr whatever stdout carries (text, or JSON for a
 * script): the number of problems and the first one, naming its path.
 */
export function noteBlocked(plan: Pick<Plan, 'problems'>): void {
  const first = plan.problems[0];
  if (!first) return;
  const where = first.path && !first.message.includes(first.path) ? `${first.path}: ` : '';
  note(`kubeadm-nonroot: ${plan.problems.length} blocking problem(s), nothing changed; first: ${where}${first.message}${first.fix ? ` (fix: ${first.fix})` : ''}`);
}
