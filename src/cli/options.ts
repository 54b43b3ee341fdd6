// Global options shared by every command, validated outside commander so they can be tested alone.
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import type { OutputFormat } from '../render/data.js';

export interface GlobalOptions {
  /** Host path of the node's root. */
  root: string;
  config: string | null;
  output: OutputFormat;
  verbose: boolean;
  color: boolean;
}

export function parseGlobalOptions(raw: Record<string, unknown>): GlobalOptions {
  const output = String(raw.output ?? 'text');
  if (output !== 'text' && output !== 'json' && output !== 'yaml') {
    throw new InputError(`--output must be text, json or yaml, not "${output}"`);
  }
  return {
    root: resolve(String(raw.root ?? '/')),
    config: typeof raw.config === 'string' ? resolve(raw.config) : null,
    output,
    verbose: raw.verbose === true,
    color: raw.color !== false,
  };
}

/** A duration option ("5m", "300s", "1h", "90" seconds, as --timeout takes it) → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InputError(`invalid duration "${text}" (examples: 90s, 5m, 1h)`);
  const n = Number(m[1]);
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']);
}
