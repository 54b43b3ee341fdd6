// Read what every command starts from: the config file and the node; and the refusals before a command
// changes anything (not root, a missing --root or --proc, a program missing).
// Synchronous reads: the CLI reads one small file at a time, and node:fs/promises alone loads ~30
// internal modules (streams, readline) that `plan` otherwise never needs.
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, RefusedError } from './errors.js';
import { SYSTEM_PATH } from './exec.js';
import type { Config } from './model/config.js';
import type { NodeState } from './model/node.js';
import type { ResolvedConfig } from './state/config-source.js';

/** Where a command reads the node from: its root (host path) and -c, the config file (host path) or null. */
export interface NodeLocation {
  root: string;
  config: string | null;
}

/**
 * The config in force (-c, else the node's default config file, else the record's, else defaults) and
 * the migration record; plan and apply pass --user-namespaces, which wins over the config's mode.
 */
export async function loadConfig(opts: NodeLocation, userNamespaces?: string): Promise<ResolvedConfig> {
  requireDir(opts.root, '--root');
  const [{ resolveConfig }, { withUserNamespaceFlag }] = await Promise.all([import('./state/config-source.js'), import('./plan/config.js')]);
  try {
    const resolved = resolveConfig(opts.root, opts.config);
    return { ...resolved, config: withUserNamespaceFlag(resolved.config, userNamespaces) };
  } catch (e) {
    throw environmental(e, opts.root) ?? e;
  }
}

/**
 * The node as discovery reads it. plan and apply pass `userns` (their --proc and --node-status): when the
 * config's mode is not off, the user-namespace prerequisites are read too, so the plan judges them.
 */
export async function loadNode(opts: Pick<NodeLocation, 'root'>, config: Config, userns?: { proc: string; nodeStatus?: string }): Promise<NodeState> {
  requireDir(opts.root, '--root');
  const { discoverNode } = await import('./discover/discover.js');
  try {
    const node = await discoverNode({ root: opts.root, manifestsDir: config.manifestsDir });
    if (!userns || (config.userNamespaces ?? 'off') === 'off') return node;
    const { discoverUserNamespaces } = await import('./discover/userns.js');
    return { ...node, userNamespaces: await discoverUserNamespaces(node, { root: opts.root, ...userns }) };
  } catch (e) {
    throw environmental(e, opts.root) ?? e;
  }
}

/**
 * An error of the environment while reading the node (a file this user may not read, one that vanished)
 * as a refusal that says how to fix it: nothing was changed yet. Anything else stays what it is.
 */
export function environmental(e: unknown, root: string): InputError | null {
  const err = e as NodeJS.ErrnoException;
  const where = err?.path ?? root;
  switch (err?.code) {
    case 'EACCES':
    case 'EPERM':
      return new InputError(`cannot read it as uid ${process.geteuid?.() ?? '?'} (${err.code}); run as root (sudo), or give this user read access to --root ${root}`, where);
    case 'ENOENT':
    case 'ENOTDIR':
      return new InputError(`disappeared or is not where the node's files say (${err.code}) while it was read; check the node's files and run again`, where);
    case 'ELOOP':
      return new InputError(`too many levels of symbolic links (${err.code}); fix the link`, where);
    default:
      return null;
  }
}

/** A directory named on the command line must exist: say so in one line instead of an ENOENT from deep inside. */
export function requireDir(dir: string, option: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // ENOENT, ENOTDIR (a path through a file), EACCES: the same one-line answer
  }
  if (!isDir) throw new InputError(`${option} ${dir}: no such directory`, dir);
}

/**
 * apply, revert and rollback change owners and accounts: only root can, and a run that fails half-way
 * for lack of privilege is worse than one refused up front (exit 2, nothing changed).
 */
export function requireRoot(command: string): void {
  const uid = process.geteuid?.() ?? 0;
  if (uid !== 0) throw new RefusedError(`${command} must run as root (running as uid ${uid}): it changes file owners and creates accounts; run it with sudo. "plan" and "verify" run without root on a readable --root.`);
}

/**
 * The gates tell a restarted component from the old process by start time, which needs the kernel's
 * boot time from `<proc>/stat`: a --proc without it would fail only after every change, then roll back.
 */
export function requireProc(dir: string): void {
  requireDir(dir, '--proc');
  try {
    accessSync(join(dir, 'stat'), constants.R_OK);
  } catch {
    throw new InputError(`--proc ${dir}: no readable ${join(dir, 'stat')} (the kernel's boot time, needed to tell a restarted component from the old process); point --proc at a procfs mount such as /proc, or use --no-wait`, dir);
  }
}

/** Every program apply, revert and rollback may run: shadow-utils (passwd package on Debian), coreutils, findutils. */
export const CHANGE_PROGRAMS = ['groupadd', 'useradd', 'usermod', 'userdel', 'groupdel', 'chown', 'find'] as const;

/** The programs of `names` that are not executable in any directory of `searchPath`. */
export function missingPrograms(names: readonly string[], searchPath: string = SYSTEM_PATH): string[] {
  return names.filter((name) =>
    !searchPath.split(':').some((dir) => {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    }),
  );
}

/** Refuse before any change when a program the run may need is missing, not half-way through it. */
export function requirePrograms(names: readonly string[] = CHANGE_PROGRAMS): void {
  const missing = missingPrograms(names);
  if (missing.length) throw new RefusedError(`${missing.join(', ')} not found in ${SYSTEM_PATH}: install them (shadow-utils — the passwd package on Debian/Ubuntu —, coreutils and findutils) before changing the node; nothing was changed`);
}
