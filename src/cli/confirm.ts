// Ask before changing a control plane. Without a terminal there is nobody to ask: refuse unless --yes.
import { createInterface } from 'node:readline';
// Anything but "y"/"yes" is a no: Enter, "n", Ctrl-D (end of input) and Ctrl-C (the caller refuses,
// exit 2, nothing changed).
import type { Readable, Writable } from 'node:stream';
import { RefusedError } from '../errors.js';

export async function confirm(question: string, yes: boolean, io: { input: Readable & { isTTY?: boolean }; output: Writable } = { input: process.stdin, output: process.stderr }): Promise<boolean> {
  if (yes) return true;
  if (!io.input.isTTY) throw new RefusedError('no terminal to ask for confirmation on; review the plan, then run again with --yes');
  const rl = createInterface({ input: io.input, output: io.output, terminal: true });
  try {
    return await new Promise<boolean>((resolve) => {
      // Ctrl-C in the terminal arrives here (raw mode), not as a process SIGINT; without a listener
      // readline would only pause the input, and the process would end with exit 0.
      rl.on('SIGINT', () => {
        io.output.write('^C\n');
        resolve(false);
      });
      rl.on('close', () => resolve(false));
      rl.question(`${question} [y/N] `, (answer) => resolve(/^y(es)?$/i.test(answer.trim())));
    });
  } finally {
    rl.close();
  }
}
