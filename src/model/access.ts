// Which host files and directories a control-plane component reads or writes, derived from ITS
// MANIFEST (never from a list of kubeadm's default files), so custom certificate dirs, extra volumes
// and hand edits are covered. Sources: kubeadm's mount layout (cmd/kubeadm/app/phases/controlplane/
// volumes.go, phases/etcd/local.go); test/fixtures/manifests/INDEX.md is the per-case reference. Rules:
//
// 1. A flag references files when its NAME is path-like (ends in -file, -cafile, -certfile,
//    -keyfile, -dir, -path, kubeconfig, -config, -certificate, -certificate-authority, -key, -cert,
//    contains "filepath", or is --config / --tls-sni-cert-key, or is one of the write flags in
//    rule 3) AND its value, or an element of its comma-separated list value, is an ABSOLUTE path.
//    The name test rejects booleans (--client-cert-auth=true, --encryption-provider-config-
//    automatic-reload=true), the value test rejects URLs (--service-account-issuer=https://…),
//    names, CIDRs and "-" (stdout). --etcd-prefix (/registry: an etcd key prefix) and
//    --runtime-config (API groups) are never paths. --tls-sni-cert-key is `cert,key[:domains]`
//    (k8s.io/apiserver NamedCertKey.Set): the part after the first ":" is a domain list. Repeated
//    flags (v1beta4 extraArgs lists) and list values (several --service-account-key-file) each
//    yield their own access.
// 2. The container path is mapped to the host through the LONGEST matching volumeMount, on path
//    segment boundaries (/etc/kubernetes/pki does not cover /etc/kubernetes/pkix); a mount of a
//    single file (hostPath type File/FileOrCreate/Socket/CharDevice/BlockDevice) covers only that
//    exact path; trailing slashes are ignored (v1.17 KMS fixture: `mountPath: /var/run/k8s-kms-plugin/`).
//    Host path = volume's hostPath + the rest of the container path: they differ in real clusters
//    (restored etcd data at /var/lib/etcd-old-copy, audit logs mounted elsewhere). A path under
//    no mount, or whose longest mount is not a hostPath volume (emptyDir, configMap…), is not a host
//    file: it is reported as unmapped.
// 3. Writes: etcd --data-dir and --wal-dir; --cert-dir (kcm/scheduler/apiserver write
//    self-signed serving certs there); klog --log-dir. These target the directory itself. Log FILE
//    flags -- kube-apiserver --audit-log-path, klog --log-file, etcd --log-outputs -- target the
//    DIRECTORY holding the file, because the process creates and rotates files there (audit
//    rotation: --audit-log-maxbackup); if the log file itself is a single-file mount the target is
//    that file. Everything else is a read: target 'dir' when the flag name ends in -dir
//    (--flex-volume-plugin-dir), else 'file'.
// 4. Secret (needs owner-only or group-only permissions) vs public (kubeadm leaves it 0644):
//    - secret: private keys by flag (names ending -key-file / -keyfile / -key, e.g. --tls-private-
//      key-file, --service-account-signing-key-file, --service-account-private-key-file,
//      --cluster-signing-key-file, --etcd-keyfile, --kubelet-client-key, etcd --key-file/--peer-key-file)
//      and by file name (*.key, *-key.pem as Kubespray names etcd client keys, *.kubeconfig);
//      the key half of --tls-sni-cert-key; kubeconfigs (any flag containing "kubeconfig": they hold
//      client keys/tokens); --encryption-provider-config (holds the data-encryption keys);
//      webhook configs (--authentication-token-webhook-config-file, --authorization-webhook-config-
//      file, --audit-webhook-config-file: kubeconfig format with credentials); token files
//      (--token-auth-file, --basic-auth-file); --cloud-config (cloud provider credentials).
//    - public: --service-account-key-file (the public verification keys, sa.pub — unless the file
//      is named *.key, which a private key passed there would be), certificates and CA bundles,
//      policies (--audit-policy-file), --admission-control-config-file (an AdmissionConfiguration:
//      plugin settings that point at kubeconfig files by path, no credentials of its own),
//      --config component configs, structured authn/authz configs, tracing/egress configs, dirs.
//    - write targets are never secret: they are directories whose permissions the caller decides.
// 5. Exec probes and lifecycle hooks (startup/liveness/readiness probe, postStart/preStop exec) run
//    inside the container as its user (CRI ExecSync), so the files they name are reads of the
//    component too: `etcdctl --key=/etc/kubernetes/pki/etcd/healthcheck-client.key` in kubeadm's etcd
//    probe up to v1.15 (cmd/kubeadm/app/phases/etcd/local.go). The command is not one of the
//    component's binaries, so its flags cannot be judged by name: EVERY absolute path it names is a
//    read — a `--flag=/path` or `--flag /path`, a `VAR=/path` assignment, a bare `/path` argument —
//    except the program itself and the kernel's /dev, /proc, /sys. A `sh -c SCRIPT` (or -ec…) is
//    split into shell words first. Secrecy follows rule 4 with the command's flag or variable name.
// 6. One FileAccess per (hostPath, access, flag), sorted by hostPath then flag; callers group by
//    hostPath (one file is often read through several flags).
import { posix } from 'node:path';
import type { Component } from './components.js';
import type { FileAccess, UnmappedPath } from './access.types.js';
import type { ContainerInfo, ExecCommand, Flag, PodInfo } from './pod.types.js';
import { lastFlag } from './flags.js';

const PATH_NAME_SUFFIXES = [
  '-file',
  '-cafile',
  '-certfile',
  '-keyfile',
  '-dir',
  '-path',
  'kubeconfig',
  '-config',
  '-certificate',
  '-certificate-authority',
  '-key',
  '-cert',
];
const PATH_NAMES = new Set(['--config', '--tls-sni-cert-key']);
/** Absolute-looking values that are not host paths. */
const NOT_PATH_NAMES = new Set(['--etcd-prefix', '--runtime-config']);

/** hostPath types that are a single non-directory node: such a mount covers only its own path. */
const SINGLE_NODE_TYPES = new Set(['File', 'FileOrCreate', 'Socket', 'CharDevice', 'BlockDevice']);

type WriteRule = 'dir' | 'parent';

/** Rule 3: flags whose target the component writes. */
function writeRule(component: Component, flag: string): WriteRule | null {
  switch (flag) {
    case '--data-dir':
    case '--wal-dir':
      return component === 'etcd' ? 'dir' : null;
    case '--log-outputs':
      return component === 'etcd' ? 'parent' : null;
    case '--audit-log-path':
      return component === 'kube-apiserver' ? 'parent' : null;
    case '--cert-dir':
      return component === 'etcd' ? null : 'dir';
    case '--log-dir':
      return 'dir';
    case '--log-file':
      return 'parent';
    default:
      return null;
  }
}

/** Rule 1, name half. */
function isPathFlagName(component: Component, flag: string): boolean {
  if (NOT_PATH_NAMES.has(flag)) return false;
  if (PATH_NAMES.has(flag) || writeRule(component, flag) !== null) return true;
  const bare = flag.replace(/^--/, '');
  return bare.includes('filepath') || PATH_NAME_SUFFIXES.some((s) => bare.endsWith(s));
}

/** "/x" but not "//host/x" (a network path) and not "-". */
function isAbsolutePath(v: string): boolean {
  return v.startsWith('/') && !v.startsWith('//');
}

interface PathRef {
  flag: string;
  path: string;
  /** Position in the flag's list value (0 for a plain value), for --tls-sni-cert-key's key half. */
  position: number;
}

/** Rule 1, value half: the absolute paths one flag occurrence references. */
function pathRefs(flag: Flag): PathRef[] {
  if (flag.value === null) return [];
  let value = flag.value;
  if (flag.name === '--tls-sni-cert-key') {
    const colon = value.indexOf(':');
    if (colon !== -1) value = value.slice(0, colon);
  }
  return value
    .split(',')
    .map((element, position) => ({ flag: flag.name, path: element.trim(), position }))
    .filter((r) => isAbsolutePath(r.path));
}

/** Rule 4. */
export function isSecret(flag: string, path: string, position = 0): boolean {
  if (flag === '--tls-sni-cert-key') return position === 1 || privateLookingPath(path);
  if (privateLookingPath(path)) return true;
  const bare = flag.replace(/^--/, '');
  if (bare.includes('kubeconfig')) return true;
  if (bare.endsWith('webhook-config-file')) return true;
  if (SECRET_FLAGS.has(flag)) return true;
  if (flag === '--service-account-key-file') return false;
  return /(^|-)key-?file$/.test(bare) || /(^|-)key$/.test(bare);
}

const SECRET_FLAGS = new Set([
  '--encryption-provider-config',
  '--token-auth-file',
  '--basic-auth-file',
  '--cloud-config',
]);

function privateLookingPath(path: string): boolean {
  return /\.key$/.test(path) || /-key\.pem$/.test(path) || /\.kubeconfig$/.test(path);
}

/** Normalised for matching: no "." / ".." / "//" segments, no trailing slash (except "/"). */
function normalise(p: string): string {
  const n = posix.normalize(p.trim());
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

interface MappedPath {
  hostPath: string;
  volume: string;
  /** The mount is exactly this path (a single file or the directory itself). */
  exact: boolean;
}

/**
 * Rule 2: host path of a container path through the longest matching mount, or null when it is
 * not on a hostPath volume.
 */
export function mapToHost(pod: PodInfo, containerPath: string): MappedPath | null {
  const p = normalise(containerPath);
  const volumes = new Map(pod.volumes.map((v) => [v.name, v]));
  let best: { mountPath: string; name: string } | null = null;
  for (const m of pod.mounts) {
    if (!isAbsolutePath(m.mountPath.trim())) continue;
    const mountPath = normalise(m.mountPath);
    const vol = volumes.get(m.name);
    const singleNode = vol !== undefined && SINGLE_NODE_TYPES.has(vol.type);
    const covers =
      p === mountPath || (!singleNode && (mountPath === '/' || p.startsWith(`${mountPath}/`)));
    if (covers && (best === null || mountPath.length > best.mountPath.length)) best = { mountPath, name: m.name };
  }
  if (best === null) return null;
  const vol = volumes.get(best.name);
  if (vol === undefined) return null;
  const exact = p === best.mountPath;
  const hostPath = exact ? vol.path : posix.join(vol.path, p.slice(best.mountPath.length));
  return { hostPath, volume: vol.name, exact };
}

type Analysis = { accesses: FileAccess[]; unmapped: UnmappedPath[] };

/**
 * The pod as one of its containers sees it: that container's flags, mounts and exec commands over the
 * pod's volumes (so mapToHost resolves through that container's own mounts).
 */
function containerView(pod: PodInfo, c: ContainerInfo): PodInfo {
  return { ...pod, argv: c.argv, flags: c.flags, mounts: c.mounts, execCommands: c.execCommands, containerSecurityContext: c.securityContext };
}

/**
 * Derive every host file access of `component` from its manifest: of every container of the pod (init
 * containers, the component's, sidecars, ephemeral ones), each through its own mounts. Pure.
 */
export function analyzeAccess(pod: PodInfo, component: Component): Analysis {
  const accesses = new Map<string, FileAccess>();
  const unmapped = new Map<string, UnmappedPath>();
  const views = pod.allContainers.length > 0 ? pod.allContainers.map((c) => containerView(pod, c)) : [pod];
  for (const view of views) analyzeContainer(view, component, accesses, unmapped);
  const byHostThenFlag = (a: FileAccess, b: FileAccess): number =>
    cmp(a.hostPath, b.hostPath) || cmp(a.flag, b.flag) || cmp(a.containerPath, b.containerPath) || cmp(a.access, b.access);
  return {
    accesses: [...accesses.values()].sort(byHostThenFlag),
    unmapped: [...unmapped.values()].sort((a, b) => cmp(a.containerPath, b.containerPath) || cmp(a.flag, b.flag)),
  };
}

/** The accesses and unmapped paths of one container's view of the pod, added to the maps. */
function analyzeContainer(pod: PodInfo, component: Component, accesses: Map<string, FileAccess>, unmapped: Map<string, UnmappedPath>): void {
  const noteUnmapped = (flag: string, containerPath: string, access: 'read' | 'write' = 'read'): void => {
    unmapped.set(`${flag}\0${containerPath}`, { component, flag, containerPath, access });
  };
  const add = (a: FileAccess): void => {
    const key = `${a.hostPath}\0${a.access}\0${a.flag}`;
    if (!accesses.has(key)) accesses.set(key, a);
  };

  for (const flag of pod.flags) {
    if (!isPathFlagName(component, flag.name)) continue;
    const rule = writeRule(component, flag.name);
    for (const ref of pathRefs(flag)) {
      const mapped = mapToHost(pod, ref.path);
      const base = { component, flag: ref.flag, containerPath: ref.path };
      if (rule === null) {
        if (mapped === null) {
          noteUnmapped(ref.flag, ref.path);
          continue;
        }
        add({
          ...base,
          hostPath: mapped.hostPath,
          volume: mapped.volume,
          access: 'read',
          target: ref.flag.endsWith('-dir') ? 'dir' : 'file',
          secret: isSecret(ref.flag, ref.path, ref.position),
        });
        continue;
      }
      if (rule === 'dir' || (mapped !== null && mapped.exact)) {
        // A directory written into, or a log file that is itself a single-file mount.
        if (mapped === null) {
          noteUnmapped(ref.flag, ref.path, 'write');
          continue;
        }
        const target = rule === 'dir' ? 'dir' : 'file';
        add({ ...base, hostPath: mapped.hostPath, volume: mapped.volume, access: 'write', target, secret: false });
        continue;
      }
      // A log file: the component creates (and rotates) files in its directory.
      const dir = mapToHost(pod, posix.dirname(normalise(ref.path)));
      if (dir === null) {
        noteUnmapped(ref.flag, ref.path, 'write');
        continue;
      }
      add({ ...base, hostPath: dir.hostPath, volume: dir.volume, access: 'write', target: 'dir', secret: false });
    }
  }

  // Rule 5: what exec probes and lifecycle hooks read.
  for (const command of pod.execCommands) {
    for (const ref of commandPathRefs(command)) {
      const mapped = mapToHost(pod, ref.path);
      if (mapped === null) {
        noteUnmapped(ref.flag, ref.path);
        continue;
      }
      add({
        component,
        flag: ref.flag,
        containerPath: ref.path,
        hostPath: mapped.hostPath,
        volume: mapped.volume,
        access: 'read',
        target: 'file',
        secret: isSecret(ref.name, ref.path),
      });
    }
  }

}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh']);
/** Kernel filesystems and devices: never host files a component needs permissions on. */
const KERNEL_PATHS = ['/dev', '/proc', '/sys'];

/**
 * The words an exec command runs: its argv, or for `sh -c SCRIPT` (also -ec, -xc…) the script's
 * shell words (quotes removed; no expansion: kubeadm's probes use none).
 */
function commandWords(argv: readonly string[]): string[] {
  const shell = argv.length > 0 && SHELLS.has(posix.basename(argv[0]));
  const c = shell ? argv.findIndex((a, i) => i > 0 && /^-[a-z]*c[a-z]*$/.test(a)) : -1;
  if (c === -1 || c + 1 >= argv.length) return [...argv];
  const words: string[] = [];
  // A word is a run of unquoted non-blank characters and quoted strings; ;, &, | and newlines separate commands.
  for (const m of argv[c + 1].matchAll(/(?:[^\s'";&|]+|'[^']*'|"(?:[^"\\]|\\.)*")+|[;&|\n]+/g)) {
    words.push(m[0].replace(/'([^']*)'|"((?:[^"\\]|\\.)*)"/g, (_all, sq?: string, dq?: string) => sq ?? dq!.replace(/\\(.)/g, '$1')));
  }
  return words;
}

interface CommandRef {
  /** What FileAccess.flag says: "livenessProbe --key", "preStop ETCDCTL_KEY", "readinessProbe" (a bare path). */
  flag: string;
  /** The flag or variable, as a flag name for rule 4 ("--key", "--etcdctl-key"), "" for a bare path. */
  name: string;
  path: string;
}

/** Rule 5: every absolute path an exec probe or hook names, but the programs it runs. */
export function commandPathRefs(command: ExecCommand): CommandRef[] {
  const words = commandWords(command.argv);
  const refs: CommandRef[] = [];
  let programNext = true;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (/^[;&|\n]+$/.test(w)) {
      programNext = true;
      continue;
    }
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(w);
    if (assignment && programNext) {
      // VAR=value before the program: an environment variable of that command.
      refs.push({ flag: `${command.source} ${assignment[1]}`, name: `--${assignment[1].toLowerCase().replace(/_/g, '-')}`, path: assignment[2] });
      continue;
    }
    if (programNext) {
      programNext = false; // the program itself is in the image (or named by PATH), not a file it reads
      continue;
    }
    const flag = /^(--?[A-Za-z0-9][A-Za-z0-9-]*)=(.*)$/.exec(w);
    if (flag) {
      refs.push({ flag: `${command.source} ${flag[1]}`, name: flag[1], path: flag[2] });
    } else if (/^--?[A-Za-z]/.test(w) && i + 1 < words.length && isAbsolutePath(words[i + 1])) {
      refs.push({ flag: `${command.source} ${w}`, name: w, path: words[i + 1] });
      i++;
    } else {
      refs.push({ flag: command.source, name: '', path: w });
    }
  }
  return refs
    .map((r) => ({ ...r, path: r.path.trim() }))
    .filter((r) => isAbsolutePath(r.path) && !KERNEL_PATHS.some((k) => r.path === k || r.path.startsWith(`${k}/`)));
}

/**
 * Rule 3, implicit: a kube-apiserver given no serving certificate creates a self-signed pair in
 * --cert-dir, default /var/run/kubernetes (k8s.io/apiserver SecureServingOptions
 * MaybeDefaultWithSelfSignedCerts; kube-controller-manager and kube-scheduler keep theirs in memory).
 * Not part of analyzeAccess (no flag names it): the planner asks for it separately.
 */
export function implicitWrites(pod: PodInfo, component: Component): { accesses: FileAccess[]; unmapped: UnmappedPath[] } {
  const has = (name: string) => pod.flags.some((f) => f.name === name);
  if (component !== 'kube-apiserver' || has('--tls-cert-file') || has('--tls-private-key-file') || has('--cert-dir') || lastFlag(pod.flags, '--secure-port') === '0') {
    return { accesses: [], unmapped: [] };
  }
  const certDir = '/var/run/kubernetes';
  const mapped = mapToHost(pod, certDir);
  if (mapped === null) return { accesses: [], unmapped: [{ component, flag: '--cert-dir (default, no --tls-cert-file)', containerPath: certDir, access: 'write' }] };
  return { accesses: [{ component, flag: '--cert-dir', containerPath: certDir, hostPath: mapped.hostPath, volume: mapped.volume, access: 'write', target: 'dir', secret: false }], unmapped: [] };
}

/** Code-unit order, independent of the locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
