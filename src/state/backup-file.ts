// Files of a backup directory named by its journal. The journal is input too (it may be copied from
// another node or root, or altered by hand), so every name read from it is checked before use.
import { isAbsolute, join } from 'node:path';
import { InputError } from '../errors.js';

/**
 * A file of the backup directory named by the journal. The journal is input too (it may be copied from
 * another node or root, or altered): only a plain relative path inside the backup directory is accepted.
 */
export function backupFile(ctx: { backupDir: string }, rel: string): string {
  const segs = rel.split('/');
  if (isAbsolute(rel) || segs.some((s) => s === '' || s === '.' || s === '..')) {
    throw new InputError(`the journal names the backup file "${rel}", which is not inside the backup directory; not using it`, ctx.backupDir);
  }
  return join(ctx.backupDir, rel);
}

