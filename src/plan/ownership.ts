// The ownership rules: from what each component reads and writes (the access analysis) and the
// planned identities, decide the owner, group and mode every host path must have. See
// docs/ownership.md for the rules with their reasons.
//
//  - a file a component only READS stays root's and is made readable through a group: the component's
//    own group (one reader) or a shared reader group (several, sa.key → kubeadm-sa-key-readers):
//    root:<group>, the current mode with group read added and group/other write removed (0600 → 0640,
//    0400 → 0440). So a compromised component cannot rewrite its kubeconfig, keys or configs, and what
//    a later run reads from them is root's. kubeadm's gate gave each reader its files as owner
//    (cmd/kubeadm/app/util/staticpod/utils_linux.go); a node it (or an earlier version of this tool)
//    migrated is brought back to this layout by an ordinary plan;
//  - a secret never gets a world bit; a public file never gets one either (the group does it);
//  - a public file is changed only if a reader cannot read it, or could write it, or it is not root's;
//  - system trust stores are never changed (they belong to the distribution's ca-certificates);
//  - a directory a component writes (etcd data dir, audit log dir) is owned by it, recursively, 0700 —
//    only when it is DEDICATED to that component (handoverRefusal), else a blocking problem;
//  - a secret is judged by flag AND by content (src/discover/content.ts): a private key named by a CA
//    flag is still a secret;
//  - only regular files and directories are ever granted: a device, FIFO or socket is refused by type;
//  - host credentials (shadow, sudoers, ssh keys, the kubelet's keys) and the kubeconfigs root uses
//    (admin.conf, super-admin.conf, kubelet.conf, ~/.kube) are never granted;
//  - every parent directory must be searchable by the component, else a blocking problem — the tool
//    never loosens directories it does not own.
import { posix } from 'node:path';
import type { FileAccess } from '../model/access.types.js';
import { sortComponents, type Component } from '../model/components.js';
import { describeContent, type FileStat, type NodeState, type SecretContent, type TreeSummary } from '../model/node.js';
import { normalizeNodePath } from '../paths.js';
import { GROUP_PATH, GSHADOW_PATH, PASSWD_PATH, SHADOW_PATH, TOOL_STATE_DIR } from '../model/node-paths.js';
import { can, formatMode, type ProcessIdentity } from '../model/perms.js';
import type { FileAction, Identity, Ownership, Problem } from './types.js';
import { compareText } from '../model/order.js';
import { sharedGroupKey } from './identities.js';

/** Everything the migrated components do with one host path. */
export interface PathUse {
  path: string;
  readers: Component[];
  access: 'read' | 'write';
  target: 'file' | 'dir';
  secret: boolean;
  flags: string[];
  /** Set when the file's CONTENT is a secret (whatever the flags say). */
  content?: SecretContent;
}

/** Distribution trust stores: read by components through hostPath, owned by ca-certificates, never touched. */
// Only the CA bundle directories themselves: /etc/ssl and /etc/pki also hold private keys (Kubespray
// keeps etcd client keys in /etc/ssl/etcd/ssl), and those follow the secret rules like any other key.
export const TRUST_STORES = ['/etc/ssl/certs', '/etc/pki/tls/certs', '/etc/pki/ca-trust', '/etc/pki/tls/cert.pem', '/etc/ca-certificates', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates', '/usr/share/pki/ca-trust-source', '/etc/pki/ca-trust-source'];

/**
 * Trees a component is never handed, neither one of their directories nor a directory holding them.
 * Each with the reason given in the refusal.
 */
const PROTECTED_TREES: ReadonlyArray<{ path: string; what: string }> = [
  { path: '/etc', what: 'host configuration (accounts, sudoers, ssh, systemd units, the Kubernetes PKI and kubeconfigs)' },
  { path: '/usr', what: 'system programs and libraries, run by root' },
  { path: '/bin', what: 'system programs, run by root' },
  { path: '/sbin', what: 'system programs, run by root' },
  { path: '/lib', what: 'system libraries and modules, loaded by root' },
  { path: '/boot', what: 'kernels and the boot loader' },
  { path: '/root', what: "root's home" },
  { path: '/home', what: "users' homes" },
  { path: '/proc', what: 'a kernel interface' },
  { path: '/sys', what: 'a kernel interface' },
  { path: '/dev', what: 'device nodes' },
  { path: '/run', what: 'runtime state of system services (sockets, locks)' },
  { path: '/var/run', what: 'runtime state of system services (sockets, locks)' },
  { path: '/var/spool', what: 'spools run by root (cron, at)' },
  { path: '/var/lib/kubelet', what: "the kubelet's state (its keys, pod volumes and secrets)" },
  { path: '/var/lib/containerd', what: "the container runtime's state" },
  { path: '/var/lib/docker', what: "the container runtime's state" },
  { path: '/var/lib/dockershim', what: "the container runtime's state" },
  { path: '/var/lib/cri-o', what: "the container runtime's state" },
  { path: '/var/lib/crio', what: "the container runtime's state" },
  { path: '/var/lib/containers', what: "the container runtime's state (images and containers)" },
  { path: '/var/lib/cni', what: "the container network's state" },
  { path: '/var/lib/dpkg', what: "the package manager's state (maintainer scripts run as root)" },
  { path: '/var/lib/rpm', what: "the package manager's state" },
  { path: '/var/lib/apt', what: "the package manager's state" },
  { path: '/var/lib/systemd', what: "systemd's state" },
  { path: TOOL_STATE_DIR, what: "kubeadm-nonroot's own state (journal, backups of the account files)" },
  // Where the kubelet and the container runtime run programs from as root (the CNI plugins,
  // containerd's and Flatcar's binaries); /usr/local/bin and the kubelet's flexvolume plugin dir
  // (/usr/libexec/kubernetes/kubelet-plugins) lie in /usr above.
  { path: '/opt/cni', what: 'the CNI plugins, run as root by the container runtime' },
  { path: '/opt/containerd', what: "containerd's programs, run as root" },
  { path: '/opt/bin', what: 'programs run by root (Flatcar, Kubespray)' },
];

/**
 * Shared system directories: a component may have a dedicated directory INSIDE one (/var/lib/etcd,
 * /var/log/kubernetes/audit), never the directory itself or one of its ancestors.
 */
const SHARED_SYSTEM_DIRS = ['/', '/var', '/var/lib', '/var/log', '/var/cache', '/var/tmp', '/var/local', '/var/opt', '/var/mail', '/tmp', '/opt', '/srv', '/mnt', '/media'];

/**
 * Credentials of the host itself: never handed to a component, whatever flag names them (a blocking
 * problem, even for a read: giving a component its own copy of /etc/shadow is what an attacker wants).
 */
const HOST_CREDENTIALS: ReadonlyArray<{ path: string; what: string }> = [
  { path: SHADOW_PATH, what: 'the password hashes (shadow)' },
  { path: '/etc/shadow-', what: 'the password hashes (shadow backup)' },
  { path: GSHADOW_PATH, what: 'the group passwords (gshadow)' },
  { path: '/etc/gshadow-', what: 'the group passwords (gshadow backup)' },
  { path: PASSWD_PATH, what: 'the account database' },
  { path: GROUP_PATH, what: 'the group database' },
  { path: '/etc/subuid', what: 'the subordinate ID database' },
  { path: '/etc/subgid', what: 'the subordinate ID database' },
  { path: '/etc/sudoers', what: 'the sudo rules' },
  { path: '/etc/sudoers.d', what: 'the sudo rules' },
  { path: '/etc/security', what: 'the PAM and login security settings' },
  { path: '/etc/pam.d', what: 'the PAM configuration' },
  { path: '/etc/ssh', what: "the SSH server's keys and configuration" },
  { path: '/etc/krb5.keytab', what: 'the Kerberos keytab' },
  { path: '/root/.ssh', what: "root's SSH keys" },
  { path: '/var/lib/kubelet', what: "the kubelet's own keys and pod secrets" },
  { path: '/etc/kubernetes/kubelet.conf', what: "the kubelet's kubeconfig" },
  { path: '/etc/kubernetes/bootstrap-kubelet.conf', what: "the kubelet's bootstrap kubeconfig" },
  // The kubeconfigs root uses (kubeadm's constants.AdminKubeConfigFileName, SuperAdminKubeConfigFileName):
  // a component that could rewrite one adds an exec: credential plugin and root's next kubectl runs it.
  { path: '/etc/kubernetes/admin.conf', what: "root's admin kubeconfig (kubectl runs its exec: plugins as root)" },
  { path: '/etc/kubernetes/super-admin.conf', what: "root's super-admin kubeconfig (kubectl runs its exec: plugins as root)" },
  { path: '/root/.kube', what: "root's kubeconfigs (kubectl runs their exec: plugins as root)" },
];

export function isUnder(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(dir + '/');
}

/** Which host credential a path is (or lies in), if any: ~/.ssh of any home counts too. */
export function hostCredential(path: string): string | null {
  const known = HOST_CREDENTIALS.find((c) => isUnder(path, c.path));
  if (known) return known.what;
  if (/^\/home\/[^/]+\/\.ssh(\/|$)/.test(path)) return "a user's SSH keys";
  if (/^\/home\/[^/]+\/\.kube(\/|$)/.test(path)) return "a user's kubeconfigs (kubectl runs their exec: plugins as that user)";
  return null;
}

/** What the plan must know about the node to decide whether a directory is dedicated to a component. */
export interface HandoverContext {
  manifestsDir: string;
  /** Every path a kubeadm component on the node reads or writes (migrated or not), with who uses it. */
  used: ReadonlyArray<{ path: string; component: Component }>;
}

/**
 * THE rule for handing a path over to a component as its own (owned by it, recursively for a directory):
 * the path must be dedicated to that component. Returns why it is not, or null when it may be handed over.
 * Refused: "/" or a shared system directory (/var, /var/lib, /var/log…) or an ancestor of one; anything
 * in or holding a protected tree (/etc, /usr, /lib*, /run, the kubelet's and the runtime's state, the
 * tool's own state…); the manifests dir, a PKI dir (where a CA is) or an ancestor of one; a path holding
 * files another kubeadm component uses; a tree holding setuid/setgid files.
 */
export function handoverRefusal(path: string, writer: Component, ctx: HandoverContext, facts: { stat?: FileStat | null; tree?: TreeSummary }): string | null {
  if (path === '/') return 'it is the root directory';
  const shared = SHARED_SYSTEM_DIRS.find((d) => isUnder(d, path));
  if (shared) return shared === path ? `${path} is a system directory shared by other software` : `it holds the system directory ${shared}`;
  const libs = /^\/lib[^/]*(\/|$)/.test(path) ? { path: path.split('/').slice(0, 2).join('/'), what: 'system libraries, loaded by root' } : null;
  const inside = libs ?? PROTECTED_TREES.find((t) => isUnder(path, t.path));
  if (inside) return `it lies in ${inside.path}: ${inside.what}`;
  const holds = PROTECTED_TREES.find((t) => isUnder(t.path, path));
  if (holds) return `it holds ${holds.path}: ${holds.what}`;
  const kube = [{ dir: ctx.manifestsDir, what: 'the static-pod manifests dir (a pod written there runs as root)' }, ...pkiDirs(ctx.used).map((dir) => ({ dir, what: 'a Kubernetes PKI dir (the CA keys)' }))];
  const k = kube.find((x) => isUnder(path, x.dir) || isUnder(x.dir, path));
  if (k) return `${k.dir === path ? 'it is' : isUnder(path, k.dir) ? 'it lies in' : 'it holds'} ${k.dir}: ${k.what}`;
  const other = ctx.used.find((u) => u.component !== writer && isUnder(u.path, path));
  if (other) return `it holds ${other.path}, which ${other.component} uses`;
  if (facts.tree?.setid) return `it holds ${facts.tree.setid} setuid/setgid file(s) (find ${path} -perm /6000 ! -type d lists them)`;
  if (facts.stat && facts.stat.type !== 'dir' && (facts.stat.mode & 0o6000) !== 0) return 'it is a setuid/setgid file';
  return null;
}

/** The tree every kubeadm kubeconfig, manifest and (by default) certificate lives in (kubeadm constants.KubernetesDir). */
const KUBERNETES_DIR = '/etc/kubernetes';

/**
 * The allow rule for granting a READ: the path lies in the Kubernetes tree, a Kubernetes PKI dir (where
 * kubeadm's CA files are: a custom certificatesDir), a directory a migrated component writes, or a path
 * the config lists (allowPaths, a file or a directory holding it). Returns what it lies outside, or null.
 */
function outsideAllowed(path: string, ctx: HandoverContext, writtenDirs: readonly string[], allowPaths: readonly string[]): string | null {
  const trees = [KUBERNETES_DIR, ...pkiDirs(ctx.used), ...writtenDirs, ...allowPaths];
  return trees.some((t) => isUnder(path, t)) ? null : `${KUBERNETES_DIR}, the Kubernetes PKI dirs (${pkiDirs(ctx.used).join(', ') || 'none'}) and the components' own dirs`;
}

/** kubeadm's CA file names (certs.go): the directory holding one is a certificatesDir. */
const CA_FILES = new Set(['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);

/** The Kubernetes PKI directories the components use: where kubeadm's CA files are (etcd/ca.* → its parent). */
export function pkiDirs(used: HandoverContext['used']): string[] {
  const dirs = new Set<string>();
  for (const u of used) {
    const base = posix.basename(u.path);
    if (!CA_FILES.has(base)) continue;
    const dir = posix.dirname(u.path);
    dirs.add(posix.basename(dir) === 'etcd' && base.startsWith('ca.') ? posix.dirname(dir) : dir);
  }
  return [...dirs].filter((d) => d !== '/').sort();
}

/** Where to point a write flag instead: a directory of the component's own. */
function dedicatedExample(writer: Component, flags: string[]): string {
  if (flags.includes('--data-dir') || flags.includes('--wal-dir')) return '/var/lib/etcd';
  if (flags.includes('--audit-log-path')) return '/var/log/kubernetes/audit';
  if (flags.includes('--cert-dir')) return `/var/lib/kubernetes/${writer}`;
  return `/var/log/kubernetes/${writer}`;
}

/**
 * Group accesses by host path. Host paths are normalised first ("/var/lib/." and "/var/lib/" are
 * "/var/lib"), so every rule sees the path the kernel would; `contents` (secret by content, from
 * discovery) makes a use secret whatever its flags say.
 */
export function groupUses(accesses: FileAccess[], contents: Record<string, SecretContent> = {}): PathUse[] {
  const byPath = new Map<string, PathUse>();
  for (const a of accesses) {
    const path = normalizeNodePath(a.hostPath);
    const u = byPath.get(path);
    if (!u) {
      const content = a.access === 'read' ? contents[path] : undefined;
      byPath.set(path, { path, readers: [a.component], access: a.access, target: a.target, secret: a.secret || content !== undefined, flags: [a.flag], ...(content ? { content } : {}) });
      continue;
    }
    if (!u.readers.includes(a.component)) u.readers = sortComponents([...u.readers, a.component]);
    if (a.access === 'write') u.access = 'write';
    if (a.target === 'dir') u.target = 'dir';
    u.secret ||= a.secret;
    if (!u.flags.includes(a.flag)) u.flags.push(a.flag);
  }
  return [...byPath.values()].sort((a, b) => compareText(a.path, b.path));
}

/**
 * Reader sets that need a shared group: a file several components only read, which they must read
 * through a group — every secret, and a public file that is not root-owned and world-readable
 * without group/other write today (publicNeedsGroup). `paths` are the node's stats.
 */
export function sharedReaderSets(uses: PathUse[], paths: Record<string, FileStat | null> = {}): Array<{ key: string; members: Component[]; saKey: boolean }> {
  const sets = new Map<string, { key: string; members: Component[]; saKey: boolean }>();
  for (const u of uses) {
    if (!(u.access === 'read' && u.readers.length > 1)) continue;
    const stat = paths[u.path];
    if (isTrustStore(u.path) || !stat || stat.type !== 'file') continue;
    if (!u.secret && !publicNeedsGroup(stat)) continue;
    const key = sharedGroupKey(u.readers, u.flags);
    sets.set(key, { key, members: u.readers, saKey: key.endsWith('/sa-key') });
  }
  return [...sets.values()];
}

/**
 * A public file its readers may use as it is only when root owns it, everyone may read it and no one
 * but root may write it (kubeadm's 0644 certificates). Anything else is given to root and its readers'
 * group: a file owned by a component (kubeadm's gate, earlier versions of this tool) could be rewritten
 * by it.
 */
function publicNeedsGroup(stat: Pick<FileStat, 'uid' | 'mode'>): boolean {
  return stat.uid !== 0 || (stat.mode & 0o004) === 0 || (stat.mode & 0o022) !== 0;
}

/**
 * The mode of a file a component only reads, given to root and the readers' group: the owner (root)
 * reads, the group reads, nobody else gains anything. A secret keeps no group write, other bits,
 * execute or special bits (0600 → 0640, 0400 → 0440); a public file keeps its read and execute bits
 * but loses group and other write (0600 → 0640, 0644 → 0644).
 */
function readOnlyMode(mode: number, secret: boolean): number {
  return secret ? (mode & 0o600) | 0o440 : (mode & 0o755) | 0o440;
}

/** Words for a file type in a refusal: "a block device". */
const TYPE_WORDS: Record<FileStat['type'], string> = { file: 'a regular file', dir: 'a directory', symlink: 'a symbolic link', socket: 'a socket', fifo: 'a FIFO (named pipe)', 'block-device': 'a block device', 'char-device': 'a character device', other: 'a special file' };

/** Only regular files and directories are ever granted: why `stat` is not one, or null. */
function notGrantableType(stat: Pick<FileStat, 'type'>): string | null {
  return stat.type === 'file' || stat.type === 'dir' || stat.type === 'symlink' ? null : TYPE_WORDS[stat.type];
}

export function isTrustStore(path: string): boolean {
  return TRUST_STORES.some((t) => isUnder(path, t));
}

/** Does the current ownership already give what `desired` asks, without granting more? */
export function satisfies(current: FileStat, desired: Ownership): boolean {
  return current.uid === desired.uid && current.gid === desired.gid && (current.mode & 0o7777 & ~desired.mode) === 0 && (current.mode & 0o400) !== 0 && (desired.mode & 0o040 ? (current.mode & 0o040) !== 0 : true);
}

interface FilePlan {
  files: FileAction[];
  problems: Problem[];
  warnings: Problem[];
}

/**
 * `handover` says what every kubeadm component on the node uses (migrated or not), so a directory that
 * holds another component's files is never handed over; without it, only the migrated components' uses
 * are known.
 */
export function planFiles(node: NodeState, uses: PathUse[], identities: Identity[], sharedGids: Map<string, number>, names: AccountNames, handover?: HandoverContext, allowPaths: readonly string[] = []): FilePlan {
  const ctx: FilePlanContext = {
    node,
    names,
    sharedGids,
    allowPaths,
    handover: handover ?? { manifestsDir: node.manifestsDir, used: uses.flatMap((u) => u.readers.map((component) => ({ path: u.path, component }))) },
    writtenDirs: uses.filter((u) => u.access === 'write' && u.target === 'dir').map((u) => u.path),
    idOf: new Map(identities.map((i) => [i.component, i])),
    planned: new Map(),
    files: [],
    problems: [],
  };
  for (const use of uses) planUse(ctx, use);
  reportUntraversableParents(ctx, uses);
  ctx.files.sort((a, b) => compareText(a.path, b.path));
  return { files: ctx.files, problems: ctx.problems, warnings: [] };
}

type AccountNames = { user(uid: number): string | undefined; group(gid: number): string | undefined };

/** What every step of planFiles reads, and what they collect. */
interface FilePlanContext {
  node: NodeState;
  names: AccountNames;
  sharedGids: Map<string, number>;
  allowPaths: readonly string[];
  handover: HandoverContext;
  /** Directories some component writes (a file below one may be granted wherever it lies). */
  writtenDirs: string[];
  idOf: Map<Component, Identity>;
  /** Paths whose ownership this plan changes, so parent checks see the planned state. */
  planned: Map<string, Ownership>;
  files: FileAction[];
  problems: Problem[];
}

/** One use of a path by migrated components, with its node state: what planWrite and planRead decide on. */
interface UseOnNode {
  use: PathUse;
  /** The migrated components among its readers (writers for a write). */
  readers: Component[];
  ids: Identity[];
  stat: FileStat | null | undefined;
}

const processOf = (i: Identity): ProcessIdentity => ({ uid: i.uid, gid: i.gid, groups: i.supplementalGroups.map((g) => g.gid) });

function ownership(names: AccountNames, uid: number, gid: number, mode: number): Ownership {
  return { uid, gid, mode, user: uid === 0 ? 'root' : names.user(uid), group: gid === 0 ? 'root' : names.group(gid) };
}

function planUse(ctx: FilePlanContext, use: PathUse): void {
  const readers = use.readers.filter((c) => ctx.idOf.has(c));
  if (readers.length === 0) return;
  const u: UseOnNode = { use, readers, ids: readers.map((c) => ctx.idOf.get(c)!), stat: ctx.node.paths[use.path] };
  const refusal = neverGranted(u);
  if (refusal) ctx.problems.push(refusal);
  else if (use.access === 'write') planWrite(ctx, u);
  else planRead(ctx, u);
}

/** A host credential or a special file: never granted to a component, whoever uses it. */
function neverGranted({ use, readers, stat }: UseOnNode): Problem | null {
  const verb = use.access === 'write' ? 'would write' : 'would read';
  const credential = hostCredential(use.path);
  if (credential) {
    return { code: 'host-credential', message: `${readers.join(' and ')} ${verb} ${use.path} (${use.flags.join(', ')}), which is ${credential}; the tool never hands a credential of the host to a component`, path: use.path, component: readers[0], fix: `point ${use.flags.join(', ')} at a file of the component's own (and fix the hostPath volume); a component never needs the host's credentials` };
  }
  const badType = stat ? notGrantableType(stat) : null;
  if (badType !== null) {
    return { code: 'not-a-regular-file', message: `${readers.join(' and ')} ${verb} ${use.path} (${use.flags.join(', ')}), which is ${badType}; only regular files and directories are ever granted to a component`, path: use.path, component: readers[0], fix: `point ${use.flags.join(', ')} at a regular file (or directory) of the component's own` };
  }
  return null;
}

/** A path one component writes: given to it (a directory recursively, 0700), or a problem saying why not. */
function planWrite(ctx: FilePlanContext, { use, readers: writers, ids, stat }: UseOnNode): void {
  const { node, problems } = ctx;
  const writer = writers[0]!;
  const flags = use.flags.join(', ');
  if (writers.length > 1) {
    problems.push({ code: 'shared-write-dir', message: `${use.path} is written by ${writers.join(' and ')}; a directory can be owned by only one of them`, path: use.path, fix: 'give each component its own directory (extraVolumes / flags in the kubeadm config)' });
    return;
  }
  const refusal = handoverRefusal(use.path, writer, ctx.handover, { stat, tree: node.trees[use.path] });
  if (refusal !== null) {
    const what = use.target === 'file' ? 'the file' : 'the directory, recursively,';
    problems.push({ code: 'not-dedicated', message: `${writer} writes ${use.path} (${flags}) and would be given ${what} as its own, but it is not dedicated to ${writer}: ${refusal}`, path: use.path, component: writer, fix: `give the component a dedicated directory: point ${flags} and its hostPath volume at one only it uses, e.g. ${dedicatedExample(writer, use.flags)}` });
    return;
  }
  const id = ids[0]!;
  const desired = ownership(ctx.names, id.uid, id.gid, 0o700);
  if ((stat === null || stat === undefined) && use.target === 'file') {
    problems.push({ code: 'missing-file', message: `${use.path} is written by ${writer} (${flags}), mounted as a single file, and does not exist; the kubelet would create it root-owned`, path: use.path, component: writer, fix: `create it first: install -m 0600 /dev/null ${use.path}` });
    return;
  }
  if (stat === null || stat === undefined) {
    ctx.files.push({ action: 'create-directory', path: use.path, current: null, desired, readers: writers, access: 'write', secret: false, reason: `${writer} writes here (${flags}); the kubelet would create it root-owned (DirectoryOrCreate)` });
    ctx.planned.set(use.path, desired);
    return;
  }
  if (stat.type === 'file' && (stat.mode & 0o111) !== 0) {
    problems.push({ code: 'executable-write', message: `${writer} writes ${use.path} (${flags}), which is executable (${formatMode(stat.mode)}); a program is never granted for writing: whoever runs it would run what ${writer} wrote`, path: use.path, component: writer, fix: `point ${flags} at a file of the component's own that is not executable, e.g. under ${dedicatedExample(writer, use.flags)}` });
    return;
  }
  if (stat.type === 'file' && use.target === 'file') {
    // A log file mounted on its own (FileOrCreate): the component appends to it. Rotation by the
    // component cannot work through a single-file mount; that is the layout's limit, not ours.
    const want = ownership(ctx.names, id.uid, id.gid, 0o600);
    if (!satisfies(stat, want)) ctx.files.push({ action: 'set-owner-mode', path: use.path, current: ownership(ctx.names, stat.uid, stat.gid, stat.mode), desired: want, readers: writers, access: 'write', secret: false, reason: `${writer} appends to it (${flags}); mounted as a single file` });
    ctx.planned.set(use.path, want);
    return;
  }
  if (stat.type !== 'dir') {
    problems.push({ code: 'not-a-directory', message: `${use.path} should be a directory written by ${writer} but is a ${stat.type}`, path: use.path, component: writer, fix: stat.type === 'symlink' ? `point the hostPath volume (and ${flags}) at the directory the link points to; the tool does not change ownership through symbolic links` : undefined });
    return;
  }
  const tree = node.trees[use.path] ?? { entries: 0, owners: [] };
  const treeOk = tree.owners.every((o) => o.uid === id.uid && o.gid === id.gid);
  if (stat.uid !== id.uid || stat.gid !== id.gid || (stat.mode & 0o7777) !== 0o700 || !treeOk) {
    ctx.files.push({ action: 'set-owner-recursive', path: use.path, current: ownership(ctx.names, stat.uid, stat.gid, stat.mode), desired, tree, readers: writers, access: 'write', secret: false, reason: `${writer} writes here (${flags}): owned by it, recursively; directory 0700` });
  }
  ctx.planned.set(use.path, desired);
}

/**
 * A path components read: a file stays root's and becomes readable through a group of theirs (never
 * more than it was); trust stores and directories are only checked, never re-owned.
 */
function planRead(ctx: FilePlanContext, { use, readers, ids, stat }: UseOnNode): void {
  const { problems } = ctx;
  const flags = use.flags.join(', ');
  if (stat === null || stat === undefined) {
    problems.push({ code: 'missing-file', message: `${use.path} is referenced by ${readers.join(', ')} (${flags}) but does not exist`, path: use.path, fix: 'create the file (kubeadm init phase certs/kubeconfig) or fix the flag in the manifest' });
    return;
  }
  if (isTrustStore(use.path)) {
    checkTrustStoreRead(ctx, use, readers, ids, stat);
    return;
  }
  if (stat.type === 'symlink') {
    problems.push({ code: 'symlink', message: `${use.path} is a symbolic link; refusing to change the ownership of its target implicitly`, path: use.path, fix: 'point the flag at the real file' });
    return;
  }
  if (stat.type === 'dir' || use.target === 'dir') {
    const blind = ids.filter((i) => !can(stat, processOf(i), 'read') || !can(stat, processOf(i), 'search'));
    if (blind.length > 0) {
      problems.push({ code: 'dir-unreadable', message: `directory ${use.path} (${formatMode(stat.mode)}) is not readable by ${blind.map((i) => i.user).join(', ')}`, path: use.path, fix: `chmod a+rx ${use.path}` });
    }
    return;
  }
  const grant = readGrant(use, stat, readers, ids, ctx.sharedGids, processOf);
  if (grant === null) return;
  if (grant.gid === undefined) {
    problems.push({ code: 'no-reader-group', message: `${use.path} is read by ${readers.join(' and ')} (${flags}), but no group of theirs can be planned to read it through`, path: use.path, fix: 'see the account problems of this plan' });
    return;
  }
  const outside = outsideAllowed(use.path, ctx.handover, ctx.writtenDirs, ctx.allowPaths);
  if (outside !== null) {
    problems.push({ code: 'path-not-allowed', message: `${readers.join(' and ')} would be granted read of ${use.path} (${flags}), which lies outside ${outside}; only those are granted without the config naming the path`, path: use.path, component: readers[0], fix: `move the file under /etc/kubernetes (and fix the flag and hostPath volume), or, if ${readers.join(' and ')} must read it there, list it in the config: allowPaths: [${use.path}]` });
    return;
  }
  const desired = ownership(ctx.names, 0, grant.gid, readOnlyMode(stat.mode, use.secret));
  const reason = `${grant.why}: root's, readable through group ${ctx.names.group(grant.gid) ?? grant.gid}, so ${readers.length > 1 ? 'they' : 'it'} cannot rewrite it`;
  if (!satisfies(stat, desired)) {
    ctx.files.push({ action: 'set-owner-mode', path: use.path, current: ownership(ctx.names, stat.uid, stat.gid, stat.mode), desired, readers, access: 'read', secret: use.secret, reason });
    ctx.planned.set(use.path, desired);
  }
}

/** A trust store is read where it is, never re-owned: it belongs to the distribution's ca-certificates. */
function checkTrustStoreRead(ctx: FilePlanContext, use: PathUse, readers: Component[], ids: Identity[], stat: FileStat): void {
  const blind = ids.filter((i) => !can(stat, processOf(i), 'read'));
  if (use.secret) {
    ctx.problems.push({ code: 'secret-in-trust-store', message: `${use.path} lies in a system trust store but holds a secret (${use.content ? describeContent(use.content) : use.flags.join(', ')}); the tool never changes trust stores`, path: use.path, component: readers[0], fix: `move the secret out of the trust store (e.g. to /etc/kubernetes/pki) and point ${use.flags.join(', ')} at it` });
  } else if (blind.length > 0) {
    ctx.problems.push({ code: 'trust-store-unreadable', message: `${use.path} (system trust store, ${formatMode(stat.mode)}) is not readable by ${blind.map((i) => i.user).join(', ')}; the tool never changes trust stores`, path: use.path, fix: `make it world-readable (chmod a+r ${use.path}), as ca-certificates does` });
  }
}

/** Every parent directory must be searchable by the component (path resolution needs +x on each), as planned. */
function reportUntraversableParents(ctx: FilePlanContext, uses: readonly PathUse[]): void {
  const { node, names } = ctx;
  const seen = new Set<string>();
  for (const use of uses) {
    for (const c of use.readers) {
      const id = ctx.idOf.get(c);
      if (!id) continue;
      for (const dir of parents(use.path)) {
        const key = `${c}\0${dir}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const s = node.paths[dir];
        if (!s) continue; // missing parents are reported as a missing file / created by create-directory
        const eff = ctx.planned.get(dir) ?? s;
        if (!can(eff, processOf(id), 'search')) {
          ctx.problems.push({ code: 'parent-not-traversable', message: `${dir} (${formatMode(s.mode)} ${names.user(s.uid) ?? s.uid}:${names.group(s.gid) ?? s.gid}) is not searchable by ${id.user}, which needs ${use.path}`, path: dir, component: c, fix: `move ${use.path} out of ${dir}, or allow traversal yourself (chmod o+x ${dir}) if that is acceptable; the tool does not loosen directories it does not own` });
        }
      }
    }
  }
}

/**
 * Whether a file the readers only read needs a change, and through which group they read it: the
 * reader's own group (one reader) or the shared reader group (several; undefined when none could be
 * planned). null when the file may stay as it is: a public file root owns that every reader can read
 * and none can write.
 */
function readGrant(use: PathUse, stat: FileStat, readers: Component[], ids: Identity[], sharedGids: Map<string, number>, proc: (i: Identity) => ProcessIdentity): { gid: number | undefined; why: string } | null {
  const byContent = use.content ? ` — ${describeContent(use.content)} by its content` : '';
  const who = `${readers.join(' and ')} (${use.flags.join(', ')})`;
  if (use.secret) return { gid: groupOf(readers, ids, sharedGids, use.flags), why: `secret read by ${who}${byContent}` };
  const flaw = publicFlaw(stat, ids, proc, ids.length > 1 ? 'them' : 'it');
  return flaw === null ? null : { gid: groupOf(readers, ids, sharedGids, use.flags), why: `public file read by ${who}, ${flaw}` };
}

/** What is wrong with a public file its readers use as it is, or null when nothing is. */
function publicFlaw(stat: FileStat, ids: Identity[], proc: (i: Identity) => ProcessIdentity, them: string): string | null {
  if (ids.some((i) => !can(stat, proc(i), 'read'))) return `not readable by ${them} today`;
  if (ids.some((i) => can(stat, proc(i), 'write'))) return `writable by ${them} today`;
  if (stat.uid !== 0) return `owned by uid ${stat.uid}, not root`;
  if ((stat.mode & 0o022) !== 0) return 'writable by others';
  if ((stat.mode & 0o004) === 0) return 'not world-readable: read through a group';
  return null;
}

/** The group readers read a file through: the one reader's own group, or their shared reader group. */
function groupOf(readers: Component[], ids: Identity[], sharedGids: Map<string, number>, flags: string[]): number | undefined {
  return ids.length === 1 ? ids[0]!.gid : sharedGids.get(sharedGroupKey(readers, flags));
}

export function parents(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const out = ['/'];
  for (let i = 1; i < parts.length; i++) out.push('/' + parts.slice(0, i).join('/'));
  return out;
}
