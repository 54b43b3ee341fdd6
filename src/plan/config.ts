// Parse and validate the optional config file (-c FILE). Pure: takes the text, returns a Config.
import { firstError, parseYaml } from '../yaml/go-yaml.js';
import { InputError } from '../errors.js';
import { COMPONENTS, DEFAULT_ACCOUNT, isComponent, SA_KEY_READERS_GROUP, type Component } from '../model/components.js';
import type { AccountOverride, Config } from '../model/config.js';
import { ACCOUNT_NAME_RE } from '../model/account-names.js';
import { MAX_POD_ID } from '../model/account-names.js';
import { isUserNamespaceMode, USER_NAMESPACE_CHOICES, userNamespaceMode, type UserNamespaceMode } from '../model/userns.js';

const DEFAULT_MANIFESTS_DIR = '/etc/kubernetes/manifests';

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
  const known = new Set(['apiVersion', 'kind', 'manifestsDir', 'components', 'accounts', 'saKeyReaders', 'grants', 'allowPaths', 'userNamespaces']);
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
    config.saKeyReaders = { ...(o.group !== undefined ? { group: o.group } : {}), ...(o.gid !== undefined ? { gid: o.gid } : {}) };
  }
  if (raw.grants !== undefined) config.grants = parsePaths(raw.grants, 'grants', path);
  if (raw.allowPaths !== undefined) config.allowPaths = parsePaths(raw.allowPaths, 'allowPaths', path).map((p) => p.replace(/\/+$/, '') || '/');
  if (raw.userNamespaces !== undefined) {
    const mode = parseUserNamespaceMode(raw.userNamespaces, 'userNamespaces', path);
    // off is the default: not stored, so a config saying it is the same config as one that does not.
    if (mode !== 'off') config.userNamespaces = mode;
  }
  const collision = configCollision(config);
  if (collision) throw new InputError(collision, path);
  return config;
}

/** A user-namespace mode from the config (`userNamespaces:`) or the command line (--user-namespaces). */
export function parseUserNamespaceMode(value: unknown, where: string, path?: string): UserNamespaceMode {
  if (isUserNamespaceMode(value)) return value;
  // YAML 1.1 (the kubelet's and this tool's reading) reads an unquoted `off` as the boolean false.
  if (value === false) return 'off';
  throw new InputError(`${where} must be one of ${USER_NAMESPACE_CHOICES}, not ${JSON.stringify(value)}; see docs/user-namespaces.md`, path);
}

/** The config with the mode --user-namespaces asks for (it wins over the config's), or unchanged without the flag. */
export function withUserNamespaceFlag(config: Config, flag: string | undefined): Config {
  if (flag === undefined) return config;
  const mode = parseUserNamespaceMode(flag, '--user-namespaces');
  const { userNamespaces: _, ...rest } = config;
  return mode === 'off' ? rest : { ...rest, userNamespaces: mode };
}

/** One account name or ID of the resolved config, and the config key it comes from. */
interface Claim {
  kind: 'name' | 'uid' | 'gid';
  value: string | number;
  key: string;
  /** Who the name or ID is for: a component, or the shared sa-key reader group. */
  owner: string;
}

/** Every name and pinned ID the config gives the migrated components (defaults included: kubeadm's names). */
function claims(config: Config): Claim[] {
  const out: Claim[] = [];
  for (const c of config.components) {
    const a = config.accounts[c] ?? {};
    const user = a.user ?? DEFAULT_ACCOUNT[c];
    out.push({ kind: 'name', value: user, key: a.user ? `accounts.${c}.user` : `${c}'s default user`, owner: c });
    if (a.group !== undefined && a.group !== user) out.push({ kind: 'name', value: a.group, key: `accounts.${c}.group`, owner: c });
    if (a.uid !== undefined) out.push({ kind: 'uid', value: a.uid, key: `accounts.${c}.uid`, owner: c });
    if (a.gid !== undefined) out.push({ kind: 'gid', value: a.gid, key: `accounts.${c}.gid`, owner: c });
  }
  const readers = config.saKeyReaders;
  out.push({ kind: 'name', value: readers.group ?? SA_KEY_READERS_GROUP, key: readers.group ? 'saKeyReaders.group' : 'the default saKeyReaders.group', owner: 'saKeyReaders' });
  if (readers.gid !== undefined) out.push({ kind: 'gid', value: readers.gid, key: 'saKeyReaders.gid', owner: 'saKeyReaders' });
  return out;
}

/**
 * The first collision between components' accounts, as a message naming both config keys, or null. Two
 * components never share a user, a group or a pinned ID, and no user or group is named like another
 * component's (a user's own group carries its name): each component's files stay its own. Refused
 * here, at plan time, instead of failing half-way through apply.
 */
function configCollision(config: Config): string | null {
  const all = claims(config);
  for (const [i, a] of all.entries()) {
    const b = all.slice(0, i).find((x) => x.kind === a.kind && x.value === a.value && x.owner !== a.owner);
    if (!b) continue;
    const what = a.kind === 'name' ? `the account name "${a.value}"` : `${a.kind} ${a.value}`;
    return `${a.key} and ${b.key} both give ${what} (to ${b.owner} and ${a.owner}); each component needs accounts and IDs of its own: change one of them`;
  }
  return null;
}

/** A list of absolute node paths (grants:, allowPaths:). */
function parsePaths(value: unknown, where: string, path: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !v.startsWith('/'))) {
    throw new InputError(`${where} must be a list of absolute node paths, e.g. [/etc/kubernetes/pki/etcd/ca.key]`, path);
  }
  return value as string[];
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
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > MAX_POD_ID) {
        throw new InputError(`${where}.${k}: ${String(v)} is not an ID in 1..${MAX_POD_ID} (0 is root and never allowed; above ${MAX_POD_ID} the API server rejects the pod)`, path);
      }
      out[k as 'uid' | 'gid'] = v;
    }
  }
  return out;
}

/**
 * Every difference between two configs, one line each, in the config file's terms
 * ("accounts.etcd.uid: 2001 → 2101", "components: etcd, kube-apiserver → etcd"). Empty when they mean the same.
 */
export function configDifferences(from: Config, to: Config): string[] {
  const out: string[] = [];
  const show = (v: unknown) => (v === undefined ? '(unset)' : Array.isArray(v) ? v.join(', ') : String(v));
  const compare = (key: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${key}: ${show(a)} → ${show(b)}`);
  };
  compare('manifestsDir', from.manifestsDir, to.manifestsDir);
  compare('components', from.components, to.components);
  for (const c of COMPONENTS) {
    for (const k of ['user', 'group', 'uid', 'gid'] as const) compare(`accounts.${c}.${k}`, from.accounts[c]?.[k], to.accounts[c]?.[k]);
  }
  for (const k of ['group', 'gid'] as const) compare(`saKeyReaders.${k}`, from.saKeyReaders[k], to.saKeyReaders[k]);
  compare('userNamespaces', userNamespaceMode(from), userNamespaceMode(to));
  return out;
}
