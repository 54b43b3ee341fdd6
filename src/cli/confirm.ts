// Ask before changing a control plane. Without a terminal there is nobody to ask: refuse unless --yes.
import { createInterface } from 'node:readline/promises';
import { RefusedError } from '../errors.js';

export async function confirm(question: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) throw new RefusedError('no terminal to ask for confirmation on; review the plan, then run again with --yes');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** "5m", "300s", "1h", "90" (seconds) → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new RefusedError(`invalid duration "${text}" (examples: 90s, 5m, 1h)`);
  const n = Number(m[1]);
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']);
}
