// backups as a command: the runs the tool recorded on the node, oldest first, without their host paths.
import { requireDir } from '../inputs.js';
import { listBackups, type BackupInfo } from '../state/backups.js';

export async function listRuns(root: string): Promise<Array<Omit<BackupInfo, 'dir'>>> {
  // A typo'd --root must not read as "No backups." on a node that has some.
  requireDir(root, '--root');
  return (await listBackups(root)).map(({ dir: _dir, ...b }) => b);
}
