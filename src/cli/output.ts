// Where command output goes: data formats on stdout only, human text on stdout, notes on stderr.
import { makeStyle, wantColor, type Style } from '../render/style.js';
import type { GlobalOptions } from './options.js';

export function style(opts: GlobalOptions, stream: { isTTY?: boolean } = process.stdout): Style {
  return makeStyle(wantColor(opts.color, stream));
}

/** Print `value` as JSON/YAML, or `human()` as text. */
export async function emit(opts: GlobalOptions, value: unknown, human: () => string): Promise<void> {
  if (opts.output === 'text') {
    process.stdout.write(human());
    return;
  }
  // Loaded only for -o json/yaml: the yaml library is the largest import after execa (cli-stack.md §3).
  const { renderData } = await import('../render/data.js');
  process.stdout.write(renderData(value, opts.output));
}

export function note(message: string): void {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
}
