// Read what every command starts from: the config file and the node.
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import type { Config } from '../model/config.js';
import type { NodeState } from '../model/node.js';
import type { GlobalOptions } from './options.js';

export async function loadConfig(opts: GlobalOptions): Promise<Config> {
  const { defaultConfig, parseConfig } = await import('../plan/config.js');
  if (!opts.config) return defaultConfig();
  let text: string;
  try {
    text = await readFile(opts.config, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read config file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, opts.config);
  }
  return parseConfig(text, opts.config);
}

export async function loadNode(opts: GlobalOptions, config: Config): Promise<NodeState> {
  const { discoverNode } = await import('../discover/discover.js');
  return discoverNode({ root: opts.root, manifestsDir: config.manifestsDir });
}
