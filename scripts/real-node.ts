// A throwaway real Kubernetes node on this machine, never touching the machine's own /etc, /var/lib,
// /run or accounts:
//   - an overlay of / whose upper layer is a private tmpfs (overlayfs refuses an upper dir on the
//     lower's own filesystem), made the root of its own mount namespace by pivot_root(2), in its own
//     mount, PID, network, UTS and IPC namespaces. pivot_root, not chroot: the kernel refuses a new user
//     namespace to a chrooted process (kernel/user_namespace.c create_user_ns: current_chrooted()), and
//     runc creates one for every pod with hostUsers: false;
//   - the control-plane pods' hostPath directories (/etc/kubernetes, /var/lib/etcd, the CA directories,
//     kube-controller-manager's flexvolume dir) on the scratch disk, bind-mounted in the node: an overlay
//     mount cannot be idmapped (runc: "failed to set MOUNT_ATTR_IDMAP … invalid argument"), ext4 can.
//     The CA directories are copies of the host's, never writable binds of the host's own;
//   - private /run, /tmp and /dev/shm; containerd's and the kubelet's state on a scratch dir of the
//     disk (containerd's overlay snapshotter cannot use an overlay as its upper layer);
//   - a veth pair inside the node's network namespace carrying the node address (these machines'
//     kernel has no dummy interface type); all traffic stays in that namespace — unless the `fabric`
//     option moves the veth's peer onto a bridge in a shared namespace (scripts/kube-cluster.ts);
//   - the host's cgroup v1 hierarchies, the kubelet confined to its own cgroupRoot.
// Processes started in the node are stopped by PID; stopping the node's PID 1 makes the kernel kill
// whatever is left in its PID namespace, and the mount namespace — overlay, binds, the kubelet's and
// containerd's mounts — disappears with its last process. stop() then removes the node's cgroups and
// the scratch dir. Other scripts (fixture generators, benches) import RealNode too.
//
// What the host must have (hostPreflight names what it lacks, before anything starts): Linux on x86-64
// (the images and the pause binary are amd64 builds), cgroup v1 (createCgroups writes every v1
// hierarchy; the kubelet is told failCgroupV1: false), containerd 2.x and runc built from the Go module
// proxy into the build cache (scripts/runtime-build.ts; kube-node.ts puts them on the node's PATH and
// hides any the machine has), and the commands below. A runner killed before
// stop() leaves its node running: every start first sweeps nodes whose runner is gone (sweepLeftNodes).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runtimeMissing } from './runtime-build.js';

export interface ExecResult { code: number; stdout: string; stderr: string }
export interface NodeOptions {
  /** Node address (on the veth inside the node). */
  address?: string;
  hostname?: string;
  /** Host directories bind-mounted read-only at the same path inside the node (the repo, the build cache). */
  binds?: string[];
  log?: (line: string) => void;
  /**
   * A shared network namespace to join instead of keeping the veth's peer inside the node: the peer is
   * moved into the namespace of this host PID and attached to its bridge (scripts/kube-cluster.ts).
   * Default: none, the single node keeps both ends of its veth.
   */
  fabric?: { pid: number; bridge: string };
}

const SCRATCH_PREFIX = '/var/tmp/kubeadm-nonroot-node-';
const COMMANDS = ['unshare', 'nsenter', 'mount', 'pivot_root', 'ip', 'sysctl', 'setcap', 'gcc'];

/** What this host lacks for a real node, one line each (empty: nothing). */
export function hostPreflight(): string[] {
  const lacks: string[] = [];
  if (process.platform !== 'linux' || process.arch !== 'x64') lacks.push(`an x86-64 Linux host (this is ${process.platform}-${process.arch}): the node's images and pause binary are amd64 builds`);
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) lacks.push('cgroup v1: this host mounts the unified cgroup v2 hierarchy at /sys/fs/cgroup, and the node creates its kubelet cgroupRoot in every v1 hierarchy (scripts/real-node.ts createCgroups)');
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  const missing = COMMANDS.filter((c) => !dirs.some((d) => d && existsSync(join(d, c))));
  if (missing.length > 0) lacks.push(`the commands ${missing.join(', ')} (.ci/run installs their Debian packages)`);
  lacks.push(...runtimeMissing());
  if (!readFileSync('/proc/filesystems', 'utf8').includes('\toverlay\n')) lacks.push('the overlay filesystem (modprobe overlay)');
  return lacks;
}

/** The cgroupRoot a KubeNode on scratch dir `workDir` gives its kubelet (sweepLeftNodes removes it). */
export function cgroupRootOf(workDir: string): string {
  return `/kubeadm-nonroot-${workDir.slice(-6)}`;
}

/** A process's start time (clock ticks since boot, /proc/<pid>/stat field 22): a pid plus this names one process. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

interface NodeOwner { runner: number; runnerStart: string; unshare: number; init: number }

/**
 * Removes the nodes of runners that are gone (killed before stop()): their processes by PID — the node's
 * PID 1 (the kernel then kills everything in its PID namespace, and the mount and network namespaces go
 * with their last process: the overlay, the binds, the veth) and the unshare holding it — then their
 * cgroups and scratch dir. A node whose runner still lives is left alone, so parallel runners are safe.
 */
export function sweepLeftNodes(log: (line: string) => void): void {
  const parent = '/var/tmp';
  for (const name of readdirSync(parent)) {
    const workDir = join(parent, name);
    if (!workDir.startsWith(SCRATCH_PREFIX)) continue;
    let owner: NodeOwner;
    try {
      owner = JSON.parse(readFileSync(join(workDir, 'owner.json'), 'utf8')) as NodeOwner;
    } catch {
      // No owner file: a node still starting (its runner writes it within seconds) or one from before
      // owner files; only an old one is swept, and then only its scratch dir (no PID to trust).
      if (Date.now() - statSync(workDir).mtimeMs > 3_600_000) removeScratch(workDir, log);
      continue;
    }
    if (startTimeOf(owner.runner) === owner.runnerStart) continue;
    for (const pid of [owner.init, owner.unshare]) {
      // Only a process that is still the node's: PID 1 inside the node's root, or unshare holding it.
      const ours = pid === owner.init ? RealNode.isNodeInit(pid) : cmdlineHas(pid, workDir);
      if (ours) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    removeCgroups(cgroupRootOf(workDir));
    removeScratch(workDir, log);
  }
}

function cmdlineHas(pid: number, text: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
  } catch {
    return false;
  }
}

function removeScratch(workDir: string, log: (line: string) => void): void {
  rmSync(workDir, { recursive: true, force: true, maxRetries: 5 });
  log(`swept the node a killed runner left in ${workDir}`);
}

/** The PATH of every command run in the node. */
export const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Every hostPath directory of kubeadm's control-plane pods (cmd/kubeadm/app/phases/controlplane/volumes.go,
 * cmd/kubeadm/app/phases/etcd/local.go): an empty directory of the scratch disk in the node, so the
 * kubelet can idmap it for a pod with hostUsers: false. /var/lib/etcd is 0700, as kubeadm creates it.
 */
const EMPTY_HOSTPATH_DIRS = ['/etc/kubernetes', '/var/lib/etcd', '/usr/libexec/kubernetes/kubelet-plugins/volume/exec'];
/** The CA directories kubeadm mounts into kube-apiserver and kube-controller-manager: copies of the host's (those it has). */
const COPIED_HOSTPATH_DIRS = ['/etc/ssl/certs', '/etc/ca-certificates', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates', '/etc/pki'];

/**
 * Runs as the node's PID 1 parent: builds the mounts and the network, then makes the overlay its root
 * with pivot_root (the old root detached: nothing of the host is reachable but the read-only binds) and
 * execs a reaper loop.
 */
const SETUP = String.raw`
set -eu
W=$1 ADDR=$2 GW=$3 NAME=$4; shift 4
mkdir -p "$W/layer" "$W/root" "$W/disk/containerd" "$W/disk/kubelet" "$W/disk/hostpath" "$W/share"
mount -t tmpfs -o size=4g,mode=0755 kn-layer "$W/layer"
mkdir -p "$W/layer/upper" "$W/layer/work"
mount -t overlay kn-root -o "lowerdir=/,upperdir=$W/layer/upper,workdir=$W/layer/work" "$W/root"
M=$W/root
mount -t proc proc "$M/proc"
mount -t sysfs sysfs "$M/sys"
mount --rbind /sys/fs/cgroup "$M/sys/fs/cgroup"
mount --rbind /dev "$M/dev"
mount -t tmpfs -o mode=1777 shm "$M/dev/shm"
mount -t tmpfs -o mode=0755 run "$M/run"
mount -t tmpfs -o mode=1777 tmp "$M/tmp"
mkdir -p "$M/var/lib/containerd" "$M/var/lib/kubelet" "$M/kn-share"
mount --bind "$W/disk/containerd" "$M/var/lib/containerd"
mount --bind "$W/disk/kubelet" "$M/var/lib/kubelet"
mount --bind "$W/share" "$M/kn-share"
for d in ${EMPTY_HOSTPATH_DIRS.join(' ')}; do
  mkdir -p "$W/disk/hostpath$d" "$M$d"
  mount --bind "$W/disk/hostpath$d" "$M$d"
done
chmod 0700 "$M/var/lib/etcd"
for d in ${COPIED_HOSTPATH_DIRS.join(' ')}; do
  [ -d "$d" ] || continue
  mkdir -p "$(dirname "$W/disk/hostpath$d")" "$M$d"
  cp -a "$d" "$W/disk/hostpath$d"
  mount --bind "$W/disk/hostpath$d" "$M$d"
done
for d in "$@"; do
  mkdir -p "$M$d"
  mount --bind "$d" "$M$d"
  mount -o remount,bind,ro "$M$d"
done
hostname "$NAME"
ip link set lo up
ip link add node0 type veth peer name node0-peer
ip link set node0-peer up
ip addr add "$ADDR/24" dev node0
ip link set node0 up
ip route add default via "$GW" dev node0 onlink
sysctl -qw net.ipv4.ip_forward=1
: > "$W/ready"
cd "$M"
mkdir -p .kn-oldroot
pivot_root . .kn-oldroot
umount -l /.kn-oldroot
rmdir /.kn-oldroot
exec /bin/bash -c 'trap "exit 0" TERM; while :; do sleep 3600 & wait; done'
`;

export class RealNode {
  readonly daemons = new Map<string, Daemon>();
  private constructor(
    readonly workDir: string,
    readonly address: string,
    readonly hostname: string,
    private readonly unshare: ChildProcess,
    /** Host PID of the node's PID 1. */
    readonly initPid: number,
    readonly log: (line: string) => void,
  ) {}

  static async start(opts: NodeOptions = {}): Promise<RealNode> {
    const log = opts.log ?? ((l: string) => process.stderr.write(`[node] ${l}\n`));
    const lacks = hostPreflight();
    if (lacks.length > 0) throw new Error(`this host cannot run a real node; it lacks:\n  - ${lacks.join('\n  - ')}`);
    sweepLeftNodes(log);
    const address = opts.address ?? '10.77.0.10';
    const hostname = opts.hostname ?? 'kn-node';
    const workDir = mkdtempSync(SCRATCH_PREFIX);
    const setupLog = join(workDir, 'setup.log');
    const fd = openSync(setupLog, 'w');
    const unshare = spawn('unshare', ['--mount', '--pid', '--net', '--uts', '--ipc', '--fork', '--kill-child', '--propagation', 'private',
      'bash', '-c', SETUP, 'setup', workDir, address, address.replace(/\.\d+$/, '.1'), hostname, ...(opts.binds ?? [])], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const deadline = Date.now() + 20_000;
    while (!existsSync(join(workDir, 'ready'))) {
      if (unshare.exitCode !== null || Date.now() > deadline) {
        unshare.kill('SIGKILL');
        throw new Error(`the node did not start: ${readFileSync(setupLog, 'utf8').trim() || 'no output'} (${workDir})`);
      }
      await sleep(100);
    }
    // PID 1 of the node: unshare's only child.
    let initPid = 0;
    for (let i = 0; i < 50 && !initPid; i++) {
      const kids = readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim();
      initPid = Number(kids.split(/\s+/)[0] ?? 0);
      if (!initPid) await sleep(100);
    }
    // `ready` is written just BEFORE the setup shell pivots its root: until then, /proc/<pid>/root is
    // still the HOST's "/", and a write through path() would land in the machine's own /etc (it did, on a
    // loaded machine: /etc/hosts and /etc/resolv.conf). Wait until the process's root is the overlay.
    while (!RealNode.insideNodeRoot(initPid)) {
      if (unshare.exitCode !== null || Date.now() > deadline) {
        unshare.kill('SIGKILL');
        throw new Error(`the node did not enter its root: ${readFileSync(setupLog, 'utf8').trim() || 'no output'} (${workDir})`);
      }
      await sleep(50);
    }
    const owner: NodeOwner = { runner: process.pid, runnerStart: startTimeOf(process.pid) ?? '', unshare: unshare.pid!, init: initPid };
    writeFileSync(join(workDir, 'owner.json'), JSON.stringify(owner));
    const node = new RealNode(workDir, address, hostname, unshare, initPid, log);
    if (opts.fabric) {
      try {
        attachToFabric(initPid, `kn-${workDir.slice(-6)}`, opts.fabric);
      } catch (e) {
        await node.stop();
        throw e;
      }
    }
    log(`node ${hostname} (${address}) up${opts.fabric ? ' on the fabric' : ''}: PID 1 is host PID ${initPid}, scratch ${workDir}`);
    return node;
  }

  /** Whether `pid` is a node's PID 1 inside its root (what sweepLeftNodes may kill). */
  static isNodeInit(pid: number): boolean {
    return RealNode.insideNodeRoot(pid);
  }

  /** True once `pid`'s root is the node's overlay: another filesystem than the host's "/", holding /kn-share. */
  private static insideNodeRoot(pid: number): boolean {
    if (!pid) return false;
    try {
      return statSync(`/proc/${pid}/root/`).dev !== statSync('/').dev && existsSync(`/proc/${pid}/root/kn-share`);
    } catch {
      return false;
    }
  }

  /**
   * A path inside the node, as seen from the host (through the node's root). Refuses, rather than
   * resolving on the host, if the node's PID 1 is gone or not inside its root: the host's own files must
   * never be written through this.
   */
  path(p: string): string {
    if (!RealNode.insideNodeRoot(this.initPid)) throw new Error(`node ${this.hostname}: PID ${this.initPid} is not inside the node's root; refusing to resolve ${p} on the host`);
    return join(`/proc/${this.initPid}/root`, p);
  }

  private nsenter(argv: string[]): string[] {
    return ['-t', String(this.initPid), '-m', '-u', '-n', '-p', '-i', '-r', '-w', '--', 'env', '-i', `PATH=${NODE_PATH}`, 'HOME=/root', ...argv];
  }

  /** Runs a command inside the node and waits for it. */
  exec(argv: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ExecResult> {
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    return new Promise((resolve, reject) => {
      const child = spawn('nsenter', this.nsenter([...env, ...argv]), { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const timer = opts.timeoutMs ? setTimeout(() => { this.killTree(child.pid!); }, opts.timeoutMs) : undefined;
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
      });
      // A command that exits without reading its input closes the pipe: EPIPE then, not an uncaught error.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input ?? '');
    });
  }

  /** exec, throwing with the output when the exit status is not 0. */
  async run(argv: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.exec(argv, opts);
    if (r.code !== 0) throw new Error(`in the node: ${argv.join(' ')} exited ${r.code}\n${r.stdout}${r.stderr}`.trim());
    return r.stdout;
  }

  /** Starts a long-running process inside the node; its output goes to <workDir>/<name>.log. Returns its host PID. */
  async startDaemon(name: string, argv: string[]): Promise<number> {
    if (this.daemons.has(name)) throw new Error(`${name} already runs in the node`);
    const daemon = await startForkedDaemon(this.nsenter(argv), join(this.workDir, `${name}.log`), name);
    this.daemons.set(name, daemon);
    this.log(`${name} started (host PID ${daemon.pid}), log ${daemon.log}`);
    return daemon.pid;
  }

  /** Stops a daemon by PID: SIGTERM, then SIGKILL after `graceMs`. */
  async stopDaemon(name: string, graceMs = 10_000): Promise<void> {
    await stopNamedDaemon(this.daemons, name, graceMs, this.log);
  }

  private killTree(pid: number): void {
    try {
      const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      for (const k of kids) this.killTree(k);
      process.kill(pid, 'SIGKILL');
    } catch { /* gone */ }
  }

  /** Stops every daemon by PID, then the node's PID 1 (the kernel kills what is left), removes its cgroups and scratch dir. */
  async stop(opts: { cgroupRoot?: string; keep?: boolean } = {}): Promise<void> {
    for (const name of [...this.daemons.keys()].reverse()) await this.stopDaemon(name);
    const exited = new Promise<void>((r) => { if (this.unshare.exitCode !== null || this.unshare.signalCode !== null) r(); else this.unshare.once('close', () => r()); });
    try { process.kill(this.initPid, 'SIGKILL'); } catch { /* gone */ }
    const t = setTimeout(() => { try { process.kill(this.unshare.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
    await exited;
    clearTimeout(t);
    if (opts.cgroupRoot) removeCgroups(opts.cgroupRoot);
    if (!opts.keep) {
      // The mount namespace is gone with its last process; nothing of the node is mounted on the host.
      rmSync(this.workDir, { recursive: true, force: true, maxRetries: 5 });
    }
    this.log(`node stopped${opts.keep ? `, scratch kept in ${this.workDir}` : ''}`);
  }
}

export interface Daemon { child: ChildProcess; pid: number; log: string }

/**
 * Runs `nsenter <nsenterArgs>` entering a PID namespace (nsenter forks: the daemon is its child) with
 * its output appended to `logPath`; returns the daemon with its host PID.
 */
export async function startForkedDaemon(nsenterArgs: string[], logPath: string, name: string): Promise<Daemon> {
  const fd = openSync(logPath, 'a');
  const child = spawn('nsenter', nsenterArgs, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let pid = 0;
  for (let i = 0; i < 50 && !pid; i++) {
    try { pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0] ?? 0); } catch { /* not yet */ }
    if (!pid) await sleep(50);
  }
  if (!pid) throw new Error(`${name} did not start (see ${logPath})`);
  return { child, pid, log: logPath };
}

/** Stops the daemon called `name` of `daemons` (if it runs) by PID and forgets it. */
export async function stopNamedDaemon(daemons: Map<string, Daemon>, name: string, graceMs: number, log: (line: string) => void): Promise<void> {
  const d = daemons.get(name);
  if (!d) return;
  daemons.delete(name);
  await stopDaemonByPid(d, graceMs);
  log(`${name} stopped`);
}

/** Stops a daemon by its PID: SIGTERM, then SIGKILL after `graceMs`; resolves once nsenter has exited. */
async function stopDaemonByPid(d: Daemon, graceMs: number): Promise<void> {
  const gone = new Promise<void>((r) => { if (d.child.exitCode !== null || d.child.signalCode !== null) r(); else d.child.once('close', () => r()); });
  try { process.kill(d.pid, 'SIGTERM'); } catch { /* already gone */ }
  const t = setTimeout(() => { try { process.kill(d.pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
  await gone;
  clearTimeout(t);
}

/**
 * Moves the node's veth peer (`node0-peer`, in the node's network namespace) into the fabric's network
 * namespace under a name unique on the bridge, and attaches it there. Run from the host: nsenter enters
 * only the network namespace, so `netns <pid>` names the fabric's holder by its host PID. Nothing
 * changes in the host's own network namespace.
 */
function attachToFabric(initPid: number, peer: string, fabric: { pid: number; bridge: string }): void {
  const ip = (pid: number, args: string[]) => {
    const r = spawnSync('nsenter', ['-t', String(pid), '-n', '--', 'ip', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')} (in the network namespace of PID ${pid}) failed: ${r.stderr.trim()}`);
  };
  ip(initPid, ['link', 'set', 'node0-peer', 'name', peer]);
  ip(initPid, ['link', 'set', peer, 'netns', String(fabric.pid)]);
  ip(fabric.pid, ['link', 'set', peer, 'master', fabric.bridge, 'up']);
}

/**
 * Creates a cgroup in every v1 hierarchy (the kubelet refuses a cgroupRoot with missing paths); a new
 * cpuset cgroup starts with no CPUs and memory nodes, so it inherits its parent's.
 */
export function createCgroups(root: string): void {
  const base = '/sys/fs/cgroup';
  for (const h of readdirSync(base)) {
    const dir = join(base, h, root);
    if (!statSync(join(base, h)).isDirectory() || existsSync(dir)) continue;
    mkdirSync(dir);
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(dir, f))) writeFileSync(join(dir, f), readFileSync(join(base, h, f), 'utf8'));
    }
  }
}

/** Removes a cgroup subtree (deepest first) from every v1 hierarchy; the node's processes are gone by then. */
function removeCgroups(root: string): void {
  const base = '/sys/fs/cgroup';
  for (const h of readdirSync(base)) {
    const top = join(base, h, root);
    if (!existsSync(top)) continue;
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (statSync(p).isDirectory()) walk(p);
      }
      for (let i = 0; i < 20; i++) {
        try { rmdirSync(dir); return; } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EBUSY') throw e; }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
      throw new Error(`cgroup ${dir} stays busy`);
    };
    walk(top);
  }
}
