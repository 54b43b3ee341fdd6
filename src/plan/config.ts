// Parse and validate the optional config file (-c FILE). Pure: takes the text, returns a Config.
import { firstError, parseYaml } from '../yaml/go-yaml.js';
import { InputError } from '../errors.js';
import { COMPONENTS, isComponent, type Component } from '../model/components.js';
import type { AccountOverride, Config } from '../model/config.js';
import { ACCOUNT_NAME_RE } from '../model/account-names.js';

export const DEFAULT_MANIFESTS_DIR = '/etc/kubernetes/manifests';

export function defaultConfig(): Config {
  return { manifestsDir: DEFAULT_MANIFESTS_DIR, components: [...COMPONENTS], accounts: {}, saKeyReaders: {} };
}

const NAME_RE = ACCOUNT_NAME_RE;

function readYaml(text: string, path: string): unknown {
  const doc = parseYaml(text);
  const error = firstError(doc);
  if (error !== null) throw new InputError(`invalid YAML: ${error}`, path);
  return doc.toJS() as unknown;
}

export function parseConfig(text: string, path: string): Config {
  const raw = (readYaml(text, path) ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError('config must be a YAML mapping', path);
  const known = new Set(['apiVersion', 'kind', 'manifestsDir', 'components', 'accounts', 'saKeyReaders']);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw new InputError(`unknown key "${key}" (known: ${[...known].join(', ')})`, path);
  }
  const config = defaultConfig();
  if (raw.manifestsDir !== undefined) {
    if (typeof raw.manifestsDir !== 'string' || !raw.manifestsDir.startsWith('/')) {
      throw new InputError('manifestsDir must be an absolute node path', path);
    }
    config.manifestsDir = raw.manifestsDir.replace(/\/+$/, '') || '/';
  }
  if (raw.components !== undefined) {
    if (!Array.isArray(raw.components) || raw.components.length === 0) {
      throw new InputError(`components must be a non-empty list of: ${COMPONENTS.join(', ')}`, path);
    }
    for (const c of raw.components) {
      if (typeof c !== 'string' || !isComponent(c)) {
        throw new InputError(`unknown component "${String(c)}" (known: ${COMPONENTS.join(', ')})`, path);
      }
    }
    config.components = COMPONENTS.filter((c) => (raw.components as string[]).includes(c));
  }
  if (raw.accounts !== undefined) {
    if (typeof raw.accounts !== 'object' || raw.accounts === null || Array.isArray(raw.accounts)) {
      throw new InputError('accounts must be a mapping of component name to {user, group, uid, gid}', path);
    }
    for (const [component, value] of Object.entries(raw.accounts as Record<string, unknown>)) {
      if (!isComponent(component)) {
        throw new InputError(`accounts: unknown component "${component}" (known: ${COMPONENTS.join(', ')})`, path);
      }
      config.accounts[component as Component] = parseAccount(value, `accounts.${component}`, path);
    }
  }
  if (raw.saKeyReaders !== undefined) {
    const o = parseAccount(raw.saKeyReaders, 'saKeyReaders', path, ['group', 'gid']);
    config.saKeyReaders = { group: o.group, gid: o.gid };
  }
  const names = new Set<string>();
  for (const c of COMPONENTS) {
    const user = config.accounts[c]?.user;
    if (user && names.has(user)) throw new InputError(`accounts: user name "${user}" is used twice`, path);
    if (user) names.add(user);
  }
  return config;
}

function parseAccount(value: unknown, where: string, path: string, allowed = ['user', 'group', 'uid', 'gid']): AccountOverride {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`${where} must be a mapping with keys ${allowed.join(', ')}`, path);
  }
  const out: AccountOverride = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!allowed.includes(k)) throw new InputError(`${where}: unknown key "${k}" (known: ${allowed.join(', ')})`, path);
    if (k === 'user' || k === 'group') {
      if (typeof v !== 'string' || !NAME_RE.test(v)) {
        throw new InputError(`${where}.${k}: "${String(v)}" is not a valid account name (lower case, digits, _ and -, at most 32 characters)`, path);
      }
      out[k] = v;
    } else {
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 2 ** 31 - 2) {
        throw new InputError(`${where}.${k}: must be a positive integer ID (0 is root and never allowed)`, path);
      }
      out[k as 'uid' | 'gid'] = v;
    }
  }
  return out;
}
