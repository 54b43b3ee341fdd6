// The test doubles' OWN small reading of a static pod — deliberately not src/model/pod.ts (parsePod)
// or src/model/access.ts (mapToHost): a stand-in that shared the tool's reading would agree with the
// tool's mistakes. It reads what the kubelet and the runtime use to start the first container, from
// the YAML (1.1, as the kubelet's sigs.k8s.io/yaml decoder reads it) with the `yaml` library:
//   - argv: container command + args (a static pod of the control plane always sets command);
//   - hostPath mounts: each volumeMount whose volume is a hostPath volume, as (mountPath → host path);
//   - the pod's and the container's securityContext, as written;
//   - the exec commands of its probes and lifecycle hooks.
// On top of it, the files a component opens (namedPaths, componentReads): every absolute path its argv,
// exec probes and hooks name, and the files named INSIDE the kubeconfigs among them (a webhook's
// client-key, a kubeconfig's certificate-authority): the independent reading the kernel access proof
// and the corpus test check the tool against.
// A container path maps to the host through the LONGEST mountPath that equals it or is a parent of it
// (the runtime mounts nested paths over their parents), as the INDEX tables of the fixtures do.
import path from 'node:path';
import { parse, type ScalarTag } from 'yaml';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export interface PodReading {
  name: string;
  argv: string[];
  /** mountPath (normalised, no trailing slash) → host path (normalised). */
  hostMounts: Array<{ mountPath: string; hostPath: string }>;
  /** The pod's hostPath volumes: host path (trailing slash removed) and hostPath.type ("" when unset). */
  hostPathVolumes: Array<{ path: string; type: string }>;
  podSecurityContext: Obj;
  containerSecurityContext: Obj;
  /** Exec commands of the first container's probes and lifecycle hooks, with where they come from. */
  execCommands: Array<{ via: string; argv: string[] }>;
}

/**
 * The kubelet's decoder (sigs.k8s.io/yaml over go-yaml v2) resolves a plain integer by deleting every
 * `_` and calling strconv.ParseInt(plain, 0, 64) (gopkg.in/yaml.v2 resolve.go), and Go's base 0
 * takes the 0o/0O, 0x/0X and 0b/0B prefixes too: `0o17` is 15 (`kubectl patch --local` reads it so).
 * YAML 1.1 as the `yaml` library has it knows only lower-case 0x and 0b, and 0-prefixed octal.
 */
const GO_PREFIXED_INT: ScalarTag = {
  tag: 'tag:yaml.org,2002:int',
  default: true,
  test: /^[-+]?0(?:[oO][0-7_]+|[xX][0-9a-fA-F_]+|[bB][01_]+)$/,
  resolve: (text: string) => {
    const plain = text.replace(/_/g, '');
    const negative = plain.startsWith('-');
    const digits = plain.replace(/^[-+]/, '');
    const value = Number(digits.slice(0, 2).toLowerCase() + digits.slice(2));
    return negative ? -value : value;
  },
};

export function readPod(text: string): PodReading {
  const doc = obj(parse(text, { version: '1.1', customTags: [GO_PREFIXED_INT] }));
  const spec = obj(doc.spec);
  const container = obj(list(spec.containers)[0]);
  const volumes = new Map(list(spec.volumes).map((v) => [String(obj(v).name), obj(obj(v).hostPath).path] as const));
  const hostMounts = list(container.volumeMounts).flatMap((m) => {
    const host = volumes.get(String(obj(m).name));
    const mountPath = obj(m).mountPath;
    return typeof host === 'string' && typeof mountPath === 'string' ? [{ mountPath: path.posix.normalize(mountPath.trim()).replace(/(.)\/$/, '$1'), hostPath: path.posix.normalize(host.trim()).replace(/(.)\/$/, '$1') }] : [];
  });
  const hostPathVolumes = list(spec.volumes).flatMap((v) => {
    const hostPath = obj(obj(v).hostPath);
    return typeof hostPath.path === 'string' ? [{ path: hostPath.path.trim().replace(/(.)\/+$/, '$1'), type: typeof hostPath.type === 'string' ? hostPath.type : '' }] : [];
  });
  return {
    name: String(obj(doc.metadata).name ?? ''),
    hostPathVolumes,
    argv: [...list(container.command), ...list(container.args)].map(String),
    hostMounts,
    podSecurityContext: obj(spec.securityContext),
    containerSecurityContext: obj(container.securityContext),
    execCommands: [
      ...['livenessProbe', 'readinessProbe', 'startupProbe'].map((k) => ({ via: k, cmd: obj(obj(container[k]).exec).command })),
      ...['postStart', 'preStop'].map((k) => ({ via: k, cmd: obj(obj(obj(container.lifecycle)[k]).exec).command })),
    ].flatMap(({ via, cmd }) => (Array.isArray(cmd) ? [{ via, argv: cmd.map(String) }] : [])),
  };
}

/** The host path behind a container path, or null when no hostPath mount carries it (inside the image). */
export function hostPathOf(pod: PodReading, containerPath: string): string | null {
  const p = path.posix.normalize(containerPath);
  let best: { mountPath: string; hostPath: string } | null = null;
  for (const m of pod.hostMounts) {
    if ((p === m.mountPath || p.startsWith(m.mountPath === '/' ? '/' : `${m.mountPath}/`)) && (!best || m.mountPath.length > best.mountPath.length)) best = m;
  }
  return best ? path.posix.join(best.hostPath, p.slice(best.mountPath.length)) : null;
}

// ---- the files a component opens ----

export interface Named {
  /** Host path (through the pod's hostPath volumes), node-absolute. */
  host: string;
  /** The path as the component names it, inside its container. */
  containerPath: string;
  /** Where the path is named: "flags --key-file", "livenessProbe", "flags --x-config-file → client-key". */
  via: string;
  /** A directory (or, for a log file flag, the directory of the file, or the file when only it is mounted) the component writes. */
  write: boolean;
}

/** Words of an exec command; `sh -c SCRIPT` split on blanks and quotes. */
function execWords(argv: string[]): string[] {
  const i = argv.findIndex((a, j) => j > 0 && /^-\w*c\w*$/.test(a));
  if (i === -1 || !/(^|\/)(ba)?sh$/.test(argv[0] ?? '')) return argv;
  return (argv[i + 1] ?? '').split(/[\s;&|]+/).map((w) => w.replace(/['"]/g, ''));
}

/** Absolute paths in words: values of --flag=…/VAR=… (comma lists too, `path:sni` cut) and bare /paths. */
function absolutePaths(words: string[], via: string): Array<{ path: string; via: string; flag: string }> {
  const out: Array<{ path: string; via: string; flag: string }> = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    const flag = eq === -1 ? '' : w.slice(0, eq);
    for (const v of (eq === -1 ? w : w.slice(eq + 1)).split(',')) {
      const p = v.trim().split(':')[0]!;
      if (p.startsWith('/') && !p.startsWith('//') && !/^\/(dev|proc|sys)(\/|$)/.test(p)) out.push({ path: p, via, flag });
    }
  }
  return out;
}

const WRITE_FLAGS = new Set(['--data-dir', '--wal-dir', '--audit-log-path', '--cert-dir', '--log-dir', '--log-file']);
/** Flags whose absolute-looking value is not a file: an etcd key prefix, API group paths. */
const NOT_FILES = new Set(['--etcd-prefix', '--runtime-config']);

/**
 * Every absolute path the component's argv (`flag` its flag), exec probes and lifecycle hooks (`via` the
 * probe, `flag` the command's flag or "") name, as container paths; `write` for the flags that write.
 */
export function pathRefs(pod: PodReading): Array<{ path: string; via: string; flag: string; write: boolean }> {
  const refs = absolutePaths(pod.argv.slice(1), 'flags').filter((r) => !NOT_FILES.has(r.flag));
  for (const e of pod.execCommands) refs.push(...absolutePaths(execWords(e.argv).slice(1), e.via));
  return refs.map((r) => ({ ...r, write: WRITE_FLAGS.has(r.flag) }));
}

/** Every host path the component's argv, exec probes and lifecycle hooks name (image paths left out). */
export function namedPaths(pod: PodReading): Named[] {
  const out: Named[] = [];
  for (const r of pathRefs(pod)) {
    const write = r.write;
    // A written log file: the component creates files in its directory — unless only the file itself is
    // mounted (a File hostPath volume), when it writes just that file.
    const logDir = write && /\.\w+$/.test(r.path) && r.flag !== '--data-dir' ? path.posix.dirname(r.path) : null;
    const target = logDir !== null && hostPathOf(pod, logDir) !== null ? logDir : r.path;
    const host = hostPathOf(pod, target);
    if (host !== null) out.push({ host, containerPath: target, via: `${r.via} ${r.flag}`.trim(), write });
  }
  return out;
}

/**
 * The files a kubeconfig names (container paths), or [] when the text is not a kubeconfig (judged by
 * content: `kind: Config`, or clusters/users lists). Relative paths are relative to the kubeconfig's own
 * directory, as client-go resolves them (tools/clientcmd/loader.go, ResolveLocalPaths).
 */
export function kubeconfigFiles(text: string, kubeconfigPath: string): Array<{ key: string; path: string }> {
  let doc: Obj;
  try {
    doc = obj(parse(text, { version: '1.1' }));
  } catch {
    return [];
  }
  if (doc.kind !== 'Config' && !Array.isArray(doc.clusters) && !Array.isArray(doc.users)) return [];
  const out: Array<{ key: string; path: string }> = [];
  const add = (key: string, v: unknown) => {
    if (typeof v === 'string' && v.trim() !== '') out.push({ key, path: path.posix.resolve(path.posix.dirname(kubeconfigPath), v.trim()) });
  };
  for (const c of list(doc.clusters)) add('certificate-authority', obj(obj(c).cluster)['certificate-authority']);
  for (const u of list(doc.users)) {
    const user = obj(obj(u).user);
    for (const key of ['client-certificate', 'client-key', 'tokenFile']) add(key, user[key]);
  }
  return out;
}

/**
 * `direct` plus the files named inside every file of it that is a kubeconfig (one level: a kubeconfig
 * names no kubeconfig). `readNode` gives a node file's text, or null.
 */
export async function withKubeconfigFiles(pod: PodReading, direct: readonly Named[], readNode: (nodePath: string) => Promise<string | null>): Promise<Named[]> {
  const out = [...direct];
  for (const n of direct) {
    if (n.write) continue;
    const text = await readNode(n.host);
    if (text === null) continue;
    // The paths inside are container paths, as the component resolves them.
    for (const ref of kubeconfigFiles(text, n.containerPath)) {
      const host = hostPathOf(pod, ref.path);
      if (host !== null) out.push({ host, containerPath: ref.path, via: `${n.via} → ${ref.key}`, write: false });
    }
  }
  return out;
}

/** What the component opens: namedPaths and the files named inside the kubeconfigs among them. */
export function componentReads(pod: PodReading, readNode: (nodePath: string) => Promise<string | null>): Promise<Named[]> {
  return withKubeconfigFiles(pod, namedPaths(pod), readNode);
}
