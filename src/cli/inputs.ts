// Read what every command starts from: the config file and the node.
// Synchronous reads: the CLI reads one small file at a time, and node:fs/promises alone loads ~30
// internal modules (streams, readline) that `plan` otherwise never needs.
import { statSync } from 'node:fs';
import { InputError, RefusedError } from '../errors.js';
import type { Config } from '../model/config.js';
import type { NodeState } from '../model/node.js';
import type { ResolvedConfig } from '../state/config-source.js';
import type { GlobalOptions } from './options.js';

/** The config in force (-c, else the node's default config file, else the record's, else defaults) and the migration record. */
export async function loadConfig(opts: GlobalOptions): Promise<ResolvedConfig> {
  requireDir(opts.root, '--root');
  const { resolveConfig } = await import('../state/config-source.js');
  return resolveConfig(opts.root, opts.config);
}

export async function loadNode(opts: GlobalOptions, config: Config): Promise<NodeState> {
  requireDir(opts.root, '--root');
  const { discoverNode } = await import('../discover/discover.js');
  return discoverNode({ root: opts.root, manifestsDir: config.manifestsDir });
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
