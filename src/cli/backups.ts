// kubeadm-nonroot backups: list the runs the tool recorded on this node.
import type { Command } from 'commander';
import type { Outcome, Wrap } from './main.js';
import type { GlobalOptions } from './options.js';
import { requireDir } from '../inputs.js';
import { emit } from './output.js';

export function register(program: Command, run: Wrap): void {
  program.command('backups').description('list recorded runs (backups) and their state').action(run(backupsCommand));
}

export async function backupsCommand(opts: GlobalOptions): Promise<Outcome> {
  // A typo'd --root must not read as "No backups." on a node that has some.
  requireDir(opts.root, '--root');
  const { listBackups } = await import('../state/backups.js');
  const list = (await listBackups(opts.root)).map(({ dir: _dir, ...b }) => b);
  await emit(opts, list, () => (list.length ? list.map((b) => `${b.id}  ${b.op.padEnd(7)} ${b.status.padEnd(20)} ${b.changes} change(s)`).join('\n') + '\n' : 'No backups.\n'));
  return 'done';
}
