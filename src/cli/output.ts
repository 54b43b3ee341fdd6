// Where command output goes: data formats on stdout only, human text on stdout, notes on stderr.
import { renderData } from '../render/data.js';
import { makeStyle, wantColor, type Style } from '../render/style.js';
import type { Plan } from '../plan/types.js';
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
