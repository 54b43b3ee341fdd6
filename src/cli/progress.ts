// Progress of apply/rollback on stderr: listr2 on a terminal, plain lines otherwise, nothing for -o
// json/yaml (stdout then carries only the result). listr2 is told not to install signal handlers:
// SIGINT must reach our rollback, not end the process (listr2's registerSignalListeners option).
import type { ApplyEvent } from '../apply/run.js';
import type { GlobalOptions } from './options.js';

export function describe(e: ApplyEvent): string {
  switch (e.type) {
    case 'begin':
      return `${e.resumed ? 'continuing' : 'starting'} run ${e.backupId}`;
    case 'step':
      return `${e.status === 'done' ? '✔' : '–'} ${e.title}${e.status === 'skipped' ? ' (already so)' : ''}`;
    case 'gate':
      if (e.status === 'unconfirmed') return `? ${e.component}: restored, health unconfirmed: ${e.detail}`;
      return `${e.status === 'healthy' ? '✔' : e.status === 'skipped' ? '–' : '…'} ${e.component}: ${e.elapsedMs !== undefined && e.elapsedMs > 0 ? `${formatElapsed(e.elapsedMs)}: ` : ''}${e.detail}`;
    case 'rollback':
      return `${e.status === 'undone' ? '↶' : '✖'} undo: ${e.title}${e.detail ? ` — ${e.detail}` : ''}`;
    case 'warn':
      return `! ${e.message}`;
  }
}

/** 75000 → "1m15s", 4200 → "4s". */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * For plain line output (no terminal to redraw): a waiting gate polls twice a second, so print its
 * line when the observation changes, or every `everyMs` while it stays the same.
 */
export function throttleWaiting(print: (e: ApplyEvent) => void, everyMs = 10_000): (e: ApplyEvent) => void {
  let last: { component: string; detail: string; at: number } | null = null;
  return (e) => {
    if (e.type === 'gate' && e.status === 'waiting' && e.elapsedMs !== undefined && e.elapsedMs > 0) {
      if (last && last.component === e.component && last.detail === e.detail && e.elapsedMs - last.at < everyMs) return;
      last = { component: e.component, detail: e.detail, at: e.elapsedMs };
    } else if (e.type === 'gate') last = null;
    print(e);
  };
}

export async function withProgress<T>(title: string, opts: GlobalOptions, fn: (emit: (e: ApplyEvent) => void) => Promise<T>): Promise<T> {
  if (opts.output !== 'text') return fn(() => undefined);
  // A terminal that reports no width (script(1), some CI shells) would make listr2 wrap every character.
  if (!process.stderr.isTTY || (process.stderr.columns ?? 0) < 40) return fn(throttleWaiting((e) => process.stderr.write(describe(e) + '\n')));
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const processOutput = new ProcessOutput(process.stderr, process.stderr);
  const logger = new ListrLogger({ processOutput });
  let value: T;
  const list = new Listr(
    [{ title, task: async (_ctx: unknown, task: { output: string }) => { value = await fn((e) => (task.output = describe(e))); }, rendererOptions: { persistentOutput: true, outputBar: Infinity } }],
    { registerSignalListeners: false, exitOnError: true, rendererOptions: { logger }, fallbackRendererOptions: { logger } },
  );
  await list.run();
  return value!;
}
