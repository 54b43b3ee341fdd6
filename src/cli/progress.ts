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
      return `${e.status === 'done' ? '✔' : e.status === 'running' ? '…' : '–'} ${e.title}${e.status === 'skipped' ? ' (already so)' : ''}`;
    case 'gate':
      if (e.status === 'unconfirmed') return `? ${e.component}: restored, health unconfirmed: ${e.detail}`;
      return `${e.status === 'healthy' ? '✔' : e.status === 'skipped' ? '–' : '…'} ${e.component}: ${e.elapsedMs !== undefined && e.elapsedMs > 0 ? `${formatElapsed(e.elapsedMs)}: ` : ''}${e.detail}`;
    case 'rollback':
      return `${e.status === 'undone' ? '↶' : e.status === 'running' ? '…' : '✖'} undo: ${e.title}${e.detail ? ` — ${e.detail}` : ''}`;
    case 'warn':
      return `! ${e.message}`;
  }
}

/** Events that say what is going on NOW (a step or undo running, a gate waiting): shown, then replaced. */
export function isLive(e: ApplyEvent): boolean {
  return ((e.type === 'step' || e.type === 'rollback') && e.status === 'running') || (e.type === 'gate' && e.status === 'waiting');
}

/** 75000 → "1m15s", 4200 → "4s". */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * For plain line output (no terminal to redraw): every finished step is a line; what is going on now
 * is a line only every `everyMs`. A waiting gate polls twice a second: its first observation is printed,
 * then at most one line per `everyMs` (the latest observation). A running step or undo (a recursive
 * chown of a large data dir) is printed only once it has run `everyMs`, then again every `everyMs`.
 */
export function throttleWaiting(print: (e: ApplyEvent) => void, everyMs = 5_000, now: () => number = Date.now): (e: ApplyEvent) => void {
  let lastGate: { component: string; at: number } | null = null;
  let running: { since: number; timer: NodeJS.Timeout } | null = null;
  const stopRunning = () => {
    if (running) clearInterval(running.timer);
    running = null;
  };
  return (e) => {
    if (e.type === 'gate' && e.status === 'waiting' && e.elapsedMs !== undefined && e.elapsedMs > 0) {
      if (lastGate && lastGate.component === e.component && e.elapsedMs - lastGate.at < everyMs) return;
      lastGate = { component: e.component, at: e.elapsedMs };
      print(e);
      return;
    }
    if (e.type === 'gate') lastGate = null;
    stopRunning();
    if ((e.type === 'step' || e.type === 'rollback') && e.status === 'running') {
      const since = now();
      const timer = setInterval(() => print({ ...e, title: `${e.title} (running for ${formatElapsed(now() - since)})` }), everyMs);
      timer.unref();
      running = { since, timer };
      return;
    }
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
  // Finished steps stay as lines below the title; what is going on now (a running chown, a waiting
  // gate with its elapsed time) is the title's one line, redrawn in place.
  const show = (task: { output: string; title: string }) => (e: ApplyEvent) => {
    if (isLive(e)) task.title = `${title}: ${describe(e)}`;
    else {
      task.title = title;
      task.output = describe(e);
    }
  };
  const list = new Listr(
    [{ title, task: async (_ctx: unknown, task: { output: string; title: string }) => { value = await fn(show(task)); task.title = title; }, rendererOptions: { persistentOutput: true, outputBar: Infinity } }],
    { registerSignalListeners: false, exitOnError: true, rendererOptions: { logger }, fallbackRendererOptions: { logger } },
  );
  await list.run();
  return value!;
}
