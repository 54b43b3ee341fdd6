// The node's migration record, for the consent rule of `plan`/`apply` (no new grant without consent).
// Interim reader: src/state/record.ts (readRecord: validated, root-owned only) replaces it when the
// record is wired into every command. Trusted only as a regular root-owned file no one else can write,
// opened without following a link: a record a component could write would decide what it is granted.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { RefusedError } from '../errors.js';
import { confinedHostPath } from '../paths.js';
import { STATE_DIR } from '../state/locations.js';
import type { MigrationRecord } from '../state/record.types.js';

export function loadRecord(root: string): MigrationRecord | null {
  const path = confinedHostPath(root, `${STATE_DIR}/record.json`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new RefusedError(`${path}: cannot open the migration record (${(e as NodeJS.ErrnoException).code}); move it away to start without one`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0) throw new RefusedError(`${path}: the migration record must be a regular file owned by root that no one else can write; move it away to start without one`);
    return JSON.parse(readFileSync(fd, 'utf8')) as MigrationRecord;
  } catch (e) {
    if (e instanceof RefusedError) throw e;
    throw new RefusedError(`${path}: the migration record is not valid JSON (${(e as Error).message}); move it away to start without one`);
  } finally {
    closeSync(fd);
  }
}
