// Files named INSIDE other files. A webhook kubeconfig names its client key (`client-key:`), an
// AdmissionConfiguration names a plugin config which names a kubeconfig, an EncryptionConfiguration
// names a KMS socket (`endpoint: unix:///…`). A component that can read the outer file but not the
// inner one fails to start after the migration, so the access analysis follows these references:
// every string value that is an absolute path (or a unix:// endpoint) in a followed file, and a
// kubeconfig's relative file paths. Pure: discovery reads each followed file and keeps its references
// (NodeState.configs); a relative reference is resolved here, against the directory the component
// reads the kubeconfig from.
import { posix } from 'node:path';
import { parseYamlDocuments } from '../yaml/go-yaml.js';
import type { FileAccess } from './access.types.js';
import { mapToHost } from './access.js';
import type { Component } from './components.js';
import type { PodInfo } from './pod.types.js';

/** Flags whose file is a kubeconfig or a component config that may name other files. */
function isFollowedFlag(flag: string): boolean {
  return /kubeconfig|webhook-config-file|^--admission-control-config-file$|^--authorization-config$|^--authentication-config$|^--egress-selector-config-file$|^--config$|^--tracing-config-file$|^--encryption-provider-config$/.test(flag);
}

export interface ConfigRef {
  /** The YAML key the path was found under (client-key, kubeConfigFile, endpoint, …). */
  key: string;
  /** Absolute container path; when `relative`, as written in a kubeconfig (relative to its directory). */
  path: string;
  socket: boolean;
  relative?: boolean;
}

/**
 * kubeconfig fields holding a file path; a relative one is relative to the kubeconfig's own directory
 * (client-go tools/clientcmd/loader.go, ResolveLocalPaths).
 */
const KUBECONFIG_PATH_KEYS = new Set(['certificate-authority', 'client-certificate', 'client-key', 'tokenFile']);

/**
 * Absolute paths named by string values anywhere in a YAML/JSON document (non-YAML text: none), and a
 * kubeconfig's relative paths: resolved in `dir` (the container directory the file is read from) when
 * given, else returned as written with `relative: true`.
 */
export function configRefs(text: string, dir?: string): ConfigRef[] {
  const out: ConfigRef[] = [];
  const walk = (v: unknown, key: string, base: string | null): void => {
    if (typeof v === 'string') {
      const socket = /^unix:\/\//.test(v);
      const p = socket ? v.replace(/^unix:\/\//, '') : v;
      if (p.startsWith('/') && !/\s/.test(p) && !/^\/\//.test(p)) out.push({ key, path: p, socket });
      else if (base !== null && KUBECONFIG_PATH_KEYS.has(key) && p !== '' && !/\s|^[a-z][a-z0-9+.-]*:/i.test(p)) {
        out.push(base === '' ? { key, path: p, socket: false, relative: true } : { key, path: posix.resolve(base, p), socket: false });
      }
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key, base));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k, base);
  };
  for (const d of parseYamlDocuments(text)) {
    if (d.errors.length > 0) continue;
    const js = d.toJS() as unknown;
    const kubeconfig = typeof js === 'object' && js !== null && (js as { kind?: unknown }).kind === 'Config';
    walk(js, '', kubeconfig ? (dir ?? '') : null);
  }
  return out;
}

const SECRET_KEY = /key|token|password|secret/i;
const CONFIG_LIKE = /\.(ya?ml|json|conf|kubeconfig|cfg)$/;

interface Expansion {
  accesses: FileAccess[];
  /** Host paths of followed files whose text is needed but not in `configs` yet. */
  wanted: string[];
  /** unix sockets and unmapped references, for warnings. */
  notes: Array<{ component: Component; via: string; path: string; why: 'socket' | 'not-on-host' }>;
}

/**
 * Add the files named inside followed files (up to three levels: admission config → plugin config →
 * kubeconfig → key). `configs` maps host node paths to the references in them (configRefs); missing
 * entries are reported in `wanted`.
 */
export function expandConfigAccesses(pod: PodInfo, component: Component, direct: FileAccess[], configs: Readonly<Record<string, readonly ConfigRef[]>>): Expansion {
  const accesses: FileAccess[] = [];
  const wanted = new Set<string>();
  const notes: Expansion['notes'] = [];
  const seen = new Set<string>();
  let frontier = direct.filter((a) => a.access === 'read' && a.target === 'file' && isFollowedFlag(a.flag)).map((a) => ({ hostPath: a.hostPath, containerPath: a.containerPath, via: a.flag }));
  for (let depth = 0; depth < 3 && frontier.length > 0; depth++) {
    const next: typeof frontier = [];
    for (const f of frontier) {
      if (seen.has(f.hostPath)) continue;
      seen.add(f.hostPath);
      const refs = configs[f.hostPath];
      if (refs === undefined) {
        wanted.add(f.hostPath);
        continue;
      }
      for (const r of refs) {
        const ref = r.relative ? { ...r, path: posix.resolve(posix.dirname(f.containerPath), r.path) } : r;
        const via = `${f.via} → ${ref.key || 'value'}`;
        const mapped = mapToHost(pod, ref.path);
        if (!mapped) {
          notes.push({ component, via, path: ref.path, why: 'not-on-host' });
          continue;
        }
        if (ref.socket) {
          notes.push({ component, via, path: mapped.hostPath, why: 'socket' });
          continue;
        }
        const secret = SECRET_KEY.test(ref.key) || /\.key$|-key\.pem$|\.kubeconfig$/.test(ref.path);
        accesses.push({ component, flag: via, containerPath: ref.path, hostPath: mapped.hostPath, volume: mapped.volume, access: 'read', target: 'file', secret });
        if (CONFIG_LIKE.test(ref.path)) next.push({ hostPath: mapped.hostPath, containerPath: ref.path, via });
      }
    }
    frontier = next;
  }
  return { accesses, wanted: [...wanted], notes };
}
