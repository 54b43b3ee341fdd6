// Reading a file the tool decides from (its migration record, the node's default config): only when
// root owns it and no one else can write it, since whoever can write it would decide what the tool, as
// root, does next. Opened without following a link and checked on the open handle (no race between
// the check and the read).
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

/** The text of `path`, or null when it does not exist; InputError (exit 2) naming `what` and `fix` otherwise. */
export function readRootOwned(path: string, what: string, fix: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new InputError(`${what} is a symbolic link, which is not followed; ${fix}`, path);
    if (code === 'EACCES') throw new InputError(`cannot read ${what}: permission denied; run as root (sudo), since the tool works from it`, path);
    throw new InputError(`cannot read ${what} (${code ?? String(e)})`, path);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError(`${what} is not a regular file; ${fix}`, path);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
      throw new InputError(`${what} is owned by uid ${st.uid} with mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}; only a file owned by root that no one else can write is trusted: check who changed it, then chown 0:0 and chmod go-w it if its content is right`, path);
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
