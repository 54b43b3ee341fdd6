// kubeadm-nonroot backups: list the runs the tool recorded on this node (listRuns, src/commands/backups.ts).
import type { Command } from 'commander';
import type { Outcome, Wrap } from './main.js';
import type { GlobalOptions } from './options.js';
import { emit } from './output.js';

export function register(program: Command, run: Wrap): void {
  program.command('backups').description('list recorded runs (backups) and their state').action(run(backupsCommand));
}

export async function backupsCommand(opts: GlobalOptions): Promise<Outcome> {
  const { listRuns } = await import('../commands/backups.js');
  const list = await listRuns(opts.root);
  await emit(opts, list, () => (list.length ? list.map((b) => `${b.id}  ${b.op.padEnd(7)} ${b.status.padEnd(20)} ${b.changes} change(s)`).join('\n') + '\n' : 'No backups.\n'));
  return 'done';
}
