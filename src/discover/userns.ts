// Discovery for the user-namespace mode (docs/user-namespaces.md): the kubelet's feature gates (its
// config file and its flag files), the kernel release and unprivileged port start (through --proc), the
// filesystem of every hostPath the pods mount (statfs(2) under --root), and the container runtime's
// advertised support (the Node object's status.runtimeHandlers, k8s >= 1.30: from a file the operator
// gives, else asked with kubectl and root's admin.conf on the live node). Only reads. Planning judges
// them (src/plan/userns.ts); anything that cannot be read is recorded as such, never guessed.
import { readFileSync, statfsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { runProgram } from '../exec.js';
import { readRootOwned } from '../fs/root-owned.js';
import { lastFlag, parseFlags } from '../model/flags.js';
import type { NodeState } from '../model/node.js';
import { parseFeatureGatesFlag, type FeatureGateSource, type FilesystemFact, type RuntimeFact, type UserNamespaceFacts } from '../model/userns.js';
import { hostPath, normalizeNodePath, resolveUnderRoot } from '../paths.js';
import { firstError, parseYaml } from '../yaml/go-yaml.js';
import { readNodeText } from './fs.js';

/** kubeadm writes the KubeletConfiguration here (cmd/kubeadm/app/constants: KubeletConfigurationFileName). */
export const KUBELET_CONFIG = '/var/lib/kubelet/config.yaml';
/** kubeadm's KUBELET_KUBEADM_ARGS (kubeadm-flags.env), then the operator's KUBELET_EXTRA_ARGS: the order the kubelet's systemd drop-in passes them. */
export const KUBELET_FLAG_FILES = [
  { path: '/var/lib/kubelet/kubeadm-flags.env', variable: 'KUBELET_KUBEADM_ARGS' },
  { path: '/etc/default/kubelet', variable: 'KUBELET_EXTRA_ARGS' },
] as const;
/** The kubelet's root dir: every pod's /etc/hosts and termination log are bind-mounted from below it. */
export const KUBELET_DIR = '/var/lib/kubelet';
const ADMIN_CONF = '/etc/kubernetes/admin.conf';

export interface UserNamespaceDiscoverOptions {
  root: string;
  /** The procfs to read the kernel's facts from (--proc). */
  proc: string;
  /** A saved `kubectl get node NAME -o json` (--node-status): the runtime's support is read from it instead of asked. */
  nodeStatus?: string;
}

export async function discoverUserNamespaces(node: NodeState, opts: UserNamespaceDiscoverOptions): Promise<UserNamespaceFacts> {
  return {
    kubeletConfig: readKubeletConfig(opts.root),
    kubeletFlags: KUBELET_FLAG_FILES.map((f) => readFlagFile(opts.root, f.path, f.variable)),
    kernelRelease: readProcLine(opts.proc, 'sys/kernel/osrelease'),
    unprivilegedPortStart: readPortStart(opts.proc),
    proc: opts.proc,
    filesystems: filesystemsOf(node, opts.root),
    runtime: await readRuntime(opts),
  };
}

function readKubeletConfig(root: string): FeatureGateSource {
  const text = readNodeText(root, KUBELET_CONFIG);
  if (text === null) return { path: KUBELET_CONFIG, gates: null };
  const doc = parseYaml(text);
  const error = firstError(doc);
  if (error !== null) return { path: KUBELET_CONFIG, gates: null, unreadable: `invalid YAML: ${error}` };
  const raw = (doc.toJS() as { featureGates?: unknown } | null)?.featureGates;
  if (raw === undefined || raw === null) return { path: KUBELET_CONFIG, gates: {} };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { path: KUBELET_CONFIG, gates: null, unreadable: 'featureGates is not a mapping of gate name to true or false' };
  const gates: Record<string, boolean> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value !== 'boolean') return { path: KUBELET_CONFIG, gates: null, unreadable: `featureGates.${name} is ${JSON.stringify(value)}, not true or false` };
    gates[name] = value;
  }
  return { path: KUBELET_CONFIG, gates };
}

/**
 * The --feature-gates of one kubelet flag file (`VARIABLE="--flag=value …"`, as kubeadm writes
 * kubeadm-flags.env: cmd/kubeadm/app/phases/kubelet/flags.go). Words are split on blanks, as systemd
 * splits an unquoted $VARIABLE; every occurrence is merged in order, later names winning.
 */
function readFlagFile(root: string, nodePath: string, variable: string): FeatureGateSource {
  const words = flagWords(root, nodePath, variable);
  if (words === null) return { path: nodePath, gates: null };
  const gates: Record<string, boolean> = {};
  for (const f of parseFlags(['kubelet', ...words]).filter((x) => x.name === '--feature-gates')) {
    const parsed = parseFeatureGatesFlag(f.value ?? '');
    if (typeof parsed === 'string') return { path: nodePath, gates: null, unreadable: `${variable} --feature-gates: ${parsed}` };
    Object.assign(gates, parsed);
  }
  return { path: nodePath, gates };
}

/** The words of `VARIABLE=` in a flag file; null when the file does not exist, [] without the variable. */
function flagWords(root: string, nodePath: string, variable: string): string[] | null {
  const text = readNodeText(root, nodePath);
  if (text === null) return null;
  const line = text.split('\n').map((l) => l.trim()).find((l) => l.startsWith(`${variable}=`));
  if (line === undefined) return [];
  return line.slice(variable.length + 1).replace(/^(["'])(.*)\1$/, '$2').split(/\s+/).filter(Boolean);
}

function readProcLine(proc: string, rel: string): string | null {
  try {
    return readFileSync(path.join(proc, rel), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function readPortStart(proc: string): number | null {
  const text = readProcLine(proc, 'sys/net/ipv4/ip_unprivileged_port_start');
  return text !== null && /^\d+$/.test(text) ? Number(text) : null;
}

/** Every hostPath volume of the kubeadm components' manifests, and the kubelet's dir, with its filesystem. */
function filesystemsOf(node: NodeState, root: string): FilesystemFact[] {
  const wanted = new Map<string, string>([[KUBELET_DIR, 'the kubelet (its pods directory)']]);
  for (const m of node.manifests) {
    if (!m.parsed.ok) continue;
    for (const v of m.parsed.pod.volumes) {
      if (!v.path.startsWith('/')) continue;
      const p = normalizeNodePath(v.path);
      if (!wanted.has(p)) wanted.set(p, `${m.fileName} volume ${v.name}`);
    }
  }
  return [...wanted.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, usedBy]) => statfsOf(root, p, usedBy));
}

/** statfs of the path, or of its nearest existing parent (a DirectoryOrCreate volume the kubelet has not made yet). */
function statfsOf(root: string, nodePath: string, usedBy: string): FilesystemFact {
  let candidate = resolveUnderRoot(root, nodePath);
  for (;;) {
    try {
      // f_type is a long; >>> 0 keeps btrfs's 0x9123683e positive whatever the platform's width.
      return { path: nodePath, usedBy, statted: candidate, magic: statfsSync(hostPath(root, candidate)).type >>> 0 };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || candidate === '/') return { path: nodePath, usedBy, statted: candidate, magic: null };
      candidate = path.posix.dirname(candidate);
    }
  }
}

async function readRuntime(opts: UserNamespaceDiscoverOptions): Promise<RuntimeFact> {
  if (opts.nodeStatus !== undefined) return runtimeFromText(readNodeStatusFile(opts.nodeStatus), opts.nodeStatus);
  if (path.resolve(opts.root) !== '/') {
    return { known: false, source: '--node-status', reason: `the API server of a node under --root ${opts.root} is not asked` };
  }
  return askApiServer(hostnameOverride(opts.root) ?? hostname().toLowerCase());
}

function readNodeStatusFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    return `{"unreadable": ${JSON.stringify((e as NodeJS.ErrnoException).code ?? String(e))}}`;
  }
}

/** The runtime handlers a Node object (JSON or YAML: `kubectl get node NAME -o json`) states. */
export function runtimeFromText(text: string, source: string): RuntimeFact {
  const doc = parseYaml(text);
  const error = firstError(doc);
  if (error !== null) return { known: false, source, reason: `not a Node object: ${error}` };
  const obj = doc.toJS() as { kind?: unknown; unreadable?: unknown; status?: { runtimeHandlers?: unknown } } | null;
  if (typeof obj?.unreadable === 'string') return { known: false, source, reason: `cannot read it (${obj.unreadable})` };
  if (obj?.kind !== 'Node') return { known: false, source, reason: `not a Node object (kind ${JSON.stringify(obj?.kind)})` };
  const list = obj.status?.runtimeHandlers;
  if (list === undefined || list === null) return { known: true, source, handlers: null };
  if (!Array.isArray(list)) return { known: false, source, reason: 'status.runtimeHandlers is not a list' };
  return {
    known: true,
    source,
    handlers: list.map((h: { name?: unknown; features?: { userNamespaces?: unknown } }) => ({ name: typeof h?.name === 'string' ? h.name : '', userNamespaces: h?.features?.userNamespaces === true })),
  };
}

/**
 * Ask the API server for this node's object with root's admin.conf, only when root alone can write it
 * (kubectl runs a kubeconfig's exec: plugins: the tool never runs one a component could have written).
 * The node's name is the kubelet's --hostname-override, else the host name lowercased, as the kubelet
 * names itself (pkg/util/node GetHostname).
 */
async function askApiServer(name: string): Promise<RuntimeFact> {
  const source = `kubectl --kubeconfig ${ADMIN_CONF}`;
  try {
    if (readRootOwned(ADMIN_CONF, "root's admin kubeconfig", 'restore it with kubeadm init phase kubeconfig admin') === null) {
      return { known: false, source, reason: `${ADMIN_CONF} does not exist` };
    }
  } catch (e) {
    return { known: false, source, reason: (e as Error).message };
  }
  try {
    const r = await runProgram('kubectl', ['--kubeconfig', ADMIN_CONF, '--request-timeout=10s', 'get', 'node', name, '-o', 'json']);
    if (r.exitCode !== 0) return { known: false, source, reason: `kubectl get node ${name} failed: ${r.stderr.trim().split('\n')[0] ?? `exit ${String(r.exitCode)}`}` };
    return runtimeFromText(r.stdout.toString('utf8'), `${source} get node ${name}`);
  } catch (e) {
    return { known: false, source, reason: (e as Error).message };
  }
}

/** The kubelet's --hostname-override from its flag files (the last one given wins), or null. */
function hostnameOverride(root: string): string | null {
  let name: string | null = null;
  for (const f of KUBELET_FLAG_FILES) name = lastFlag(parseFlags(['kubelet', ...(flagWords(root, f.path, f.variable) ?? [])]), '--hostname-override') ?? name;
  return name?.toLowerCase() || null;
}
