// Which config a command runs with, in one place for every command:
//   1. -c FILE, when given;
//   2. else the node's default config file, <root>/etc/kubeadm-nonroot/config.yaml, when present (where
//      the Ansible role, templates/rollout/ansible/site.yml, copies the fleet config);
//   3. else the config of the migration record (what the node was migrated with);
//   4. else the defaults (kubeadm's names, allocated IDs, all four components).
// The record is returned too: the plan compares the config in force with it, and trusts the accounts it
// says the tool created.
import { readFileSync } from 'node:fs';
import { readRootOwned } from '../fs/root-owned.js';
import { InputError } from '../errors.js';
import type { Config } from '../model/config.js';
import { defaultConfig, parseConfig } from '../plan/config.js';
import { confinedHostPath } from '../paths.js';
import { readRecord, recordHostPath } from './record.js';
import type { MigrationRecord } from './record.types.js';

/** Node path of the default config file. */
export const DEFAULT_CONFIG_FILE = '/etc/kubeadm-nonroot/config.yaml';

export type ConfigSource = { kind: 'file'; path: string } | { kind: 'default-file'; path: string } | { kind: 'record'; path: string } | { kind: 'defaults' };

export interface ResolvedConfig {
  config: Config;
  source: ConfigSource;
  record: MigrationRecord | null;
}

export function resolveConfig(root: string, configFile: string | null): ResolvedConfig {
  const record = readRecord(root);
  if (configFile !== null) return { config: parseConfig(readConfigFile(configFile), configFile), source: { kind: 'file', path: configFile }, record };
  const defaultFile = confinedHostPath(root, DEFAULT_CONFIG_FILE);
  // It decides what the tool grants: like the record, trusted only when root owns it alone (the Ansible
  // role installs it root:root 0644).
  const text = readRootOwned(defaultFile, 'the default config file', 'put a root-owned config there or remove it');
  if (text !== null) return { config: parseConfig(text, defaultFile), source: { kind: 'default-file', path: defaultFile }, record };
  if (record) return { config: record.config, source: { kind: 'record', path: recordHostPath(root) }, record };
  return { config: defaultConfig(), source: { kind: 'defaults' }, record };
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read config file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, path);
  }
}

