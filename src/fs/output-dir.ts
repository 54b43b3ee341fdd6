// Files the tool writes into a directory the operator names (patches --output-dir): written only into a
// directory no one but root can change, and never through a link. A directory others can write lets
// them swap a file for a symbolic link to /etc/shadow between any check and the write; a link planted
// at the directory or at a file name in it would redirect root's write the same way.
import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';

/** Why `dir` may not receive root's files, or null: it must be a real directory, root's, writable by no one else. */
async function outputDirProblem(dir: string): Promise<string | null> {
  const st = await lstat(dir);
  if (st.isSymbolicLink()) return 'is a symbolic link; name the real directory';
  if (!st.isDirectory()) return 'is not a directory';
  if (st.uid !== 0 || (st.mode & 0o022) !== 0) return `is writable by others than root (owner uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}); use a directory only root can write (chown root: and chmod go-w it)`;
  return null;
}

/** Create `dir` if missing (0755, like mkdir -p) and check it (outputDirProblem); InputError naming it otherwise. */
export async function prepareOutputDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new InputError(`cannot create it: ${(e as NodeJS.ErrnoException).code}`, dir);
  }
  const problem = await outputDirProblem(dir);
  if (problem) throw new InputError(`${problem}; refusing to write files into it`, dir);
}

/**
 * Write `content` to `dir`/`name` (created or replaced in place) without following a link: O_NOFOLLOW
 * refuses a symbolic link at the name, O_NONBLOCK keeps a FIFO from blocking, and what was opened must
 * be a regular file with one link (a hard link would write into another file).
 */
export async function writeOutputFile(dir: string, name: string, content: string, mode: number): Promise<string> {
  const path = join(dir, name);
  let fh;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ELOOP' ? 'is a symbolic link; remove it (the tool never writes through a link)' : `cannot open it: ${code}`, path);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.nlink !== 1) throw new InputError(`is ${st.isFile() ? `a file with ${st.nlink} hard links` : 'not a regular file'}; remove it`, path);
    await fh.truncate(0);
    await fh.writeFile(content);
    await fh.chmod(mode);
  } finally {
    await fh.close();
  }
  return path;
}
