// A highly available kubeadm control plane on this machine: three KubeNodes (scripts/kube-node.ts)
// with stacked etcd, behind Debian's haproxy, never touching the host's own network namespace:
//   - the fabric: a network namespace with a Linux bridge, held by a process this script starts and
//     stops by PID (in its own PID namespace, so whatever runs on the fabric — haproxy, the probe — dies
//     with it; its stdin is a pipe from the runner, so a runner killed before stop() takes it along);
//   - each node's veth peer moved onto the bridge (RealNode's `fabric` option), nodes at 10.77.0.11–13;
//   - the load balancer's address 10.77.0.10 on the bridge, haproxy on the fabric in TCP mode on :6443,
//     health-checking each kube-apiserver's /readyz over TLS;
//   - kubeadm init on node 1 with controlPlaneEndpoint 10.77.0.10:6443 and --upload-certs, then kubeadm
//     join --control-plane with the certificate key on nodes 2 and 3 (kubeadm's "Creating Highly
//     Available Clusters with kubeadm", stacked etcd topology);
//   - the availability probe (scripts/api-probe.ts): API requests through the load balancer every
//     100 ms, counted per phase.
//   - later, a fourth node (10.77.0.14) added to the fabric and to haproxy's backend through its runtime
//     API, to join the running cluster (addNode, joinControlPlane).
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseYamlDocuments, stringifyYaml } from '../src/yaml/go-yaml.js';
import { KubeNode, type Release } from './kube-node.js';
import { kubectl } from './lib/control-plane.js';
import { type Daemon, startForkedDaemon, stopNamedDaemon } from './real-node.js';

export const LB_ADDRESS = '10.77.0.10';
export const NODE_ADDRESSES = ['10.77.0.11', '10.77.0.12', '10.77.0.13'] as const;
/** A control-plane node joined later (KubeCluster.addNode): the fourth on the fabric. */
export const JOINED_NODE = { name: 'kn-cp4', address: '10.77.0.14' } as const;
/** haproxy's backend of the kube-apiservers (haproxyConfig). */
export const LB_BACKEND = 'kube-apiservers';
export const API_PORT = 6443;
export const CONTROL_PLANE_ENDPOINT = `${LB_ADDRESS}:${API_PORT}`;
const BRIDGE = 'br0';
const FABRIC_PREFIX = '/var/tmp/kubeadm-nonroot-fabric-';

/** The fabric's holder: builds the bridge and the load balancer's address, then waits for its stdin to close. */
const FABRIC_SETUP = String.raw`
set -eu
LB=$1
ip link set lo up
ip link add br0 type bridge
ip addr add "$LB/24" dev br0
ip link set br0 up
echo ready
read -r _ || :
`;

/** Removes the scratch dirs of fabrics whose holder is gone (their namespaces went with it). */
export function sweepLeftFabrics(log: (line: string) => void): void {
  for (const name of readdirSync('/var/tmp')) {
    const dir = join('/var/tmp', name);
    if (!dir.startsWith(FABRIC_PREFIX)) continue;
    let holder = 0;
    try { holder = Number(readFileSync(join(dir, 'holder.pid'), 'utf8')); } catch { /* not written yet, or never */ }
    let alive = false;
    try { alive = holder > 0 && readFileSync(`/proc/${holder}/cmdline`, 'utf8').includes(dir); } catch { /* gone */ }
    // A fabric still starting has no holder.pid for a moment: only an old one without it is swept.
    if (alive || (!holder && Date.now() - statSync(dir).mtimeMs < 3_600_000)) continue;
    rmSync(dir, { recursive: true, force: true });
    log(`swept the fabric a killed runner left in ${dir}`);
  }
}

/** The shared network: a network and PID namespace holding the bridge, the load balancer and the probe. */
export class Fabric {
  readonly daemons = new Map<string, Daemon>();
  private constructor(readonly workDir: string, private readonly holder: ChildProcess, readonly pid: number, readonly log: (line: string) => void) {}

  static async start(log: (line: string) => void): Promise<Fabric> {
    sweepLeftFabrics(log);
    const workDir = mkdtempSync(FABRIC_PREFIX);
    const holder = spawn('unshare', ['--net', '--pid', '--fork', '--kill-child', 'sh', '-c', FABRIC_SETUP, 'fabric', LB_ADDRESS, workDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    // Nothing is written to the holder's stdin: its end closing is the signal. Once the holder is gone,
    // Node's own close of the pipe may fail with EPIPE, which must not become an uncaught exception.
    holder.stdin.on('error', () => undefined);
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (d: Buffer) => { output += d.toString(); if (output.includes('ready\n')) resolve(); });
      holder.stderr.on('data', (d: Buffer) => { output += d.toString(); });
      holder.once('close', (code) => reject(new Error(`the fabric's holder exited ${code}: ${output.trim()}`)));
    });
    await ready;
    const pid = Number(readFileSync(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    writeFileSync(join(workDir, 'holder.pid'), String(pid));
    log(`fabric up: bridge ${BRIDGE} with ${LB_ADDRESS} in the network namespace of host PID ${pid}, scratch ${workDir}`);
    return new Fabric(workDir, holder, pid, log);
  }

  /** Starts a process on the fabric (its network and PID namespaces, the host's filesystem); output to <workDir>/<name>.log. */
  async startDaemon(name: string, argv: string[]): Promise<Daemon> {
    if (this.daemons.has(name)) throw new Error(`${name} already runs on the fabric`);
    const daemon = await startForkedDaemon(['-t', String(this.pid), '-n', '-p', '--', ...argv], join(this.workDir, `${name}.log`), name);
    this.daemons.set(name, daemon);
    this.log(`${name} started on the fabric (host PID ${daemon.pid}), log ${daemon.log}`);
    return daemon;
  }

  async stopDaemon(name: string, graceMs = 10_000): Promise<void> {
    await stopNamedDaemon(this.daemons, name, graceMs, this.log);
  }

  /** Stops every daemon by PID, then the holder by PID (the kernel kills what is left in its PID namespace). */
  async stop(opts: { keep?: boolean } = {}): Promise<void> {
    for (const name of [...this.daemons.keys()].reverse()) await this.stopDaemon(name);
    const exited = new Promise<void>((r) => { if (this.holder.exitCode !== null || this.holder.signalCode !== null) r(); else this.holder.once('close', () => r()); });
    try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
    await exited;
    if (!opts.keep) rmSync(this.workDir, { recursive: true, force: true });
    this.log(`fabric stopped${opts.keep ? `, scratch kept in ${this.workDir}` : ''}`);
  }
}

/** Each kube-apiserver's health check in haproxy: /readyz over TLS every second, out after 2 failures, back after 2 successes. */
const SERVER_CHECK = 'inter 1s fall 2 rise 2 check check-ssl verify none';

/**
 * haproxy's configuration: TCP on :6443 in front of the kube-apiservers, each health-checked with
 * `GET /readyz` over TLS (kube-apiserver answers /readyz to anonymous clients: the
 * system:public-info-viewer role) every second, out after 2 failures, back after 2 successes — the
 * shape of kubeadm's HA guide (kubernetes/kubeadm docs/ha-considerations.md), with faster checks. A
 * connection refused by a kube-apiserver that is going away is retried and redispatched to another.
 */
export function haproxyConfig(servers: readonly { name: string; address: string }[], statsSocket: string): string {
  return `global
    log stdout format raw local0
    stats socket ${statsSocket} mode 600 level admin
defaults
    mode tcp
    log global
    option tcplog
    option log-health-checks
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 120s
    timeout server 120s
frontend kube-apiserver
    bind ${LB_ADDRESS}:${API_PORT}
    default_backend ${LB_BACKEND}
backend ${LB_BACKEND}
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server ${SERVER_CHECK}
${servers.map((s) => `    server ${s.name} ${s.address}:${API_PORT}`).join('\n')}
`;
}

/** One command to haproxy's runtime API (its stats socket, level admin); its answer. */
export async function haproxyRuntime(statsSocket: string, command: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    const c = createConnection(statsSocket, () => c.end(`${command}\n`));
    c.on('data', (d) => { out += d.toString(); });
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

/** haproxy's state of each server of the kube-apiservers backend (`show stat` on its stats socket): name → UP, DOWN, … */
export async function haproxyServerStatus(statsSocket: string): Promise<Map<string, string>> {
  const csv = await haproxyRuntime(statsSocket, 'show stat');
  const [header, ...rows] = csv.trim().split('\n');
  const cols = (header ?? '').replace(/^# /, '').split(',');
  const at = (row: string[], col: string) => row[cols.indexOf(col)] ?? '';
  const status = new Map<string, string>();
  for (const row of rows.map((r) => r.split(','))) {
    if (at(row, 'pxname') === LB_BACKEND && !['BACKEND', 'FRONTEND'].includes(at(row, 'svname'))) status.set(at(row, 'svname'), at(row, 'status'));
  }
  return status;
}

/** kubeadm's discovery hash of a CA certificate: sha256 of its DER SubjectPublicKeyInfo (cmd/kubeadm/app/util/pubkeypin). */
export function caCertHash(caPem: string): string {
  const spki = new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** A bootstrap token in kubeadm's format ([a-z0-9]{6}.[a-z0-9]{16}). */
function bootstrapToken(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number) => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
  return `${pick(6)}.${pick(16)}`;
}

/** What a probe counted over one phase. */
export interface ProbeCount { requests: number; failed: number; longestFailingMs: number; errors: string[] }

/** The line `npm run test:node` prints for a phase. */
export function probeLine(c: ProbeCount): string {
  return `API through the load balancer: ${c.requests} requests, ${c.failed} failed`;
}

/** Counts a probe log (one JSON line per request): requests, failures, the longest run of failing requests, the distinct errors. */
export function countProbe(log: string): ProbeCount {
  const results = log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { t: number; ms: number; status: number; error?: string }).sort((a, b) => a.t - b.t);
  let failed = 0, longestFailingMs = 0, runStart = -1;
  const errors = new Set<string>();
  for (const r of results) {
    if (r.status === 200) { runStart = -1; continue; }
    failed++;
    errors.add(r.error ?? `HTTP ${r.status}`);
    if (runStart < 0) runStart = r.t;
    longestFailingMs = Math.max(longestFailingMs, r.t + r.ms - runStart);
  }
  return { requests: results.length, failed, longestFailingMs, errors: [...errors] };
}

export interface ClusterOptions {
  /** Host directories bind-mounted read-only into every node (the repo, the build cache). */
  binds: string[];
  log?: (line: string) => void;
}

/** One Job of docs/fleet.md's rollout (templates/rollout/job.yaml) as the API shows it, with its pods. */
export interface RolloutJob {
  name: string;
  node: string;
  args: string[];
  /** The tool's command among its args: plan, apply, verify or rollback. */
  step: string | undefined;
  /** Condition type → `<status> (<reason>) <lastTransitionTime>`. */
  conditions: Record<string, string>;
  start: string;
  completion?: string;
  pods: { name: string; phase: string; restarts: number; reason?: string; exitCode?: number; started?: string; finished?: string }[];
}

const ROLLOUT_LABEL = 'app.kubernetes.io/name=kubeadm-nonroot';
const TOOL_STEPS = ['plan', 'apply', 'verify', 'rollback'];

/** Whether a Job has ended, completed or failed. */
export const jobFinished = (j: RolloutJob): boolean => /^True/.test(j.conditions.Complete ?? '') || /^True/.test(j.conditions.Failed ?? '');

/**
 * inotify instances a node takes (measured: its kubelet 7, kube-apiserver 6, kube-controller-manager
 * 3–4, containerd 2, with margin). They count against one per-user limit of the machine
 * (fs.inotify.max_user_instances, 128 on Debian), shared with every other real node running on it.
 */
const INOTIFY_PER_NODE = 20;

/**
 * A warning when the machine's inotify instances may not suffice for `nodes` more nodes: without one, a
 * kubelet cannot watch /etc/kubernetes/manifests ("unable to create inotify: too many open files") and
 * never starts the static pods — a join then fails with "the etcd member … is not started".
 */
function inotifyWarning(nodes: number): string | undefined {
  const max = Number(readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8'));
  let used = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify') used++;
    } catch { /* gone, or not ours to read */ }
  }
  const needed = nodes * INOTIFY_PER_NODE;
  return max - used >= needed ? undefined
    : `WARNING: ${used} of the machine's ${max} inotify instances (fs.inotify.max_user_instances) are in use, ${needed} wanted for ${nodes} more node(s): other real nodes running? kubelets may fail with "too many open files"`;
}

/** containerd started with `r`'s pause image as its sandbox image, `r`'s images imported, its kubeadm and kubelet installed. */
async function prepareNode(kn: KubeNode, r: Release): Promise<void> {
  await kn.startContainerd(`registry.k8s.io/pause:${r.pauseTag}`);
  await kn.importImages(r);
  kn.install(r);
}

/** What a control-plane node needs to join: bringUp's bootstrap token and certificate key, the CA's hash. */
interface JoinSecrets { token: string; caHash: string; certificateKey: string }

/**
 * Three control-plane nodes on the fabric behind haproxy (a fourth joins with addNode). start()
 * prepares them; bringUp() runs kubeadm.
 */
export class KubeCluster {
  private joinSecrets?: JoinSecrets;
  private constructor(readonly fabric: Fabric, readonly nodes: KubeNode[], readonly log: (line: string) => void, private readonly binds: string[]) {}

  get statsSocket(): string { return join(this.fabric.workDir, 'haproxy.sock'); }

  /** The fabric, haproxy, and three nodes with containerd running and `r`'s images imported, kubeadm and the kubelet installed. */
  static async start(r: Release, opts: ClusterOptions): Promise<KubeCluster> {
    const log = opts.log ?? ((l: string) => process.stderr.write(`[cluster] ${l}\n`));
    const warning = inotifyWarning(NODE_ADDRESSES.length);
    if (warning) log(warning);
    const fabric = await Fabric.start(log);
    const cluster = new KubeCluster(fabric, [], log, opts.binds);
    try {
      const servers = NODE_ADDRESSES.map((address, i) => ({ name: `kn-cp${i + 1}`, address }));
      writeFileSync(join(fabric.workDir, 'haproxy.cfg'), haproxyConfig(servers, cluster.statsSocket));
      await fabric.startDaemon('haproxy', ['haproxy', '-db', '-f', join(fabric.workDir, 'haproxy.cfg')]);
      for (const s of servers) {
        // The fabric's dir too: haproxy's stats socket at the same path inside the node, for a rollout
        // that takes a node out of the load balancer (docs/fleet.md).
        const kn = await KubeNode.start({ binds: [...opts.binds, fabric.workDir], log, hostname: s.name, address: s.address, fabric: { pid: fabric.pid, bridge: BRIDGE } });
        cluster.nodes.push(kn);
      }
      await Promise.all(cluster.nodes.map((kn) => prepareNode(kn, r)));
      return cluster;
    } catch (e) {
      await cluster.stop();
      throw e;
    }
  }

  /**
   * kubeadm init on node 1 (controlPlaneEndpoint on the load balancer, the certificates uploaded with
   * a key chosen here), then kubeadm join --control-plane on the others, one after the other. Returns
   * kubeadm's output per node.
   */
  async bringUp(version: string, ignorePreflight: string[]): Promise<string[]> {
    const [first, ...others] = this.nodes;
    const token = bootstrapToken();
    const certificateKey = randomBytes(32).toString('hex');
    const outputs = [await first!.init(version, ignorePreflight, this.initConfig(first!, version, token, certificateKey), ['--upload-certs'])];
    const caHash = caCertHash(readFileSync(first!.node.path('/etc/kubernetes/pki/ca.crt'), 'utf8'));
    this.joinSecrets = { token, caHash, certificateKey };
    for (const kn of others) outputs.push(await this.joinControlPlane(kn, ignorePreflight));
    return outputs;
  }

  /**
   * kubeadm join --control-plane of `kn` with bringUp's token and certificate key (both valid 2 h:
   * the bootstrap token's ttl, and kubeadm's deletion of the uploaded certificates,
   * cmd/kubeadm/app/phases/copycerts). No kubeadm-nonroot patches: kubeadm's join as it is.
   */
  async joinControlPlane(kn: KubeNode, ignorePreflight: string[]): Promise<string> {
    if (!this.joinSecrets) throw new Error('joinControlPlane before bringUp: no token or certificate key yet');
    const { token, caHash, certificateKey } = this.joinSecrets;
    // The kubelet's configuration comes from the cluster (the kubelet-config ConfigMap, node 1's);
    // each node keeps its own cgroupRoot through kubeadm's kubeletconfiguration patch target.
    mkdirSync(kn.node.path('/root/kubeadm-patches'), { recursive: true });
    writeFileSync(kn.node.path('/root/kubeadm-patches/kubeletconfiguration+merge.yaml'), stringifyYaml({ cgroupRoot: kn.cgroupRoot }));
    return kn.join(this.joinConfig(kn, token, caHash, certificateKey), ignorePreflight);
  }

  /**
   * One more node on the fabric (JOINED_NODE), prepared as start() prepares the first three (containerd,
   * `r`'s images, kubeadm and the kubelet), and a server for it in haproxy's backend added through the
   * runtime API in maintenance, its /readyz check on: the operator puts it in rotation (`set server …
   * state ready`) once it is migrated. haproxy 2.6 gives a dynamic server none of the backend's
   * default-server settings, so they are spelled out (management guide, "add server").
   */
  async addNode(r: Release): Promise<KubeNode> {
    const { name, address } = JOINED_NODE;
    const warning = inotifyWarning(1);
    if (warning) this.log(warning);
    const kn = await KubeNode.start({ binds: [...this.binds, this.fabric.workDir], log: this.log, hostname: name, address, fabric: { pid: this.fabric.pid, bridge: BRIDGE } });
    this.nodes.push(kn);
    await prepareNode(kn, r);
    for (const command of [`add server ${LB_BACKEND}/${name} ${address}:${API_PORT} ${SERVER_CHECK}`, `enable health ${LB_BACKEND}/${name}`]) {
      const answer = (await haproxyRuntime(this.statsSocket, command)).trim();
      if (answer && !/New server registered|^$/.test(answer)) throw new Error(`haproxy: ${command}: ${answer}`);
    }
    this.log(`${name} (${address}) added to haproxy's ${LB_BACKEND}, in maintenance until it is put in rotation`);
    return kn;
  }

  /** The single node's kubeadm configuration, with the load balancer as controlPlaneEndpoint, a known token and certificate key. */
  private initConfig(kn: KubeNode, version: string, token: string, certificateKey: string): string {
    const docs = parseYamlDocuments(kn.kubeadmConfig(version));
    for (const doc of docs) {
      const kind = doc.get('kind');
      if (kind === 'InitConfiguration') {
        doc.set('bootstrapTokens', doc.createNode([{ token, ttl: '2h' }]));
        doc.set('certificateKey', certificateKey);
      }
      if (kind === 'ClusterConfiguration') doc.set('controlPlaneEndpoint', CONTROL_PLANE_ENDPOINT);
    }
    return docs.map((d) => stringifyYaml(d)).join('---\n');
  }

  private joinConfig(kn: KubeNode, token: string, caHash: string, certificateKey: string): string {
    return stringifyYaml({
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'JoinConfiguration',
      discovery: { bootstrapToken: { apiServerEndpoint: CONTROL_PLANE_ENDPOINT, token, caCertHashes: [caHash] } },
      nodeRegistration: {
        name: kn.node.hostname,
        criSocket: 'unix:///run/containerd/containerd.sock',
        kubeletExtraArgs: [{ name: 'node-ip', value: kn.node.address }],
      },
      controlPlane: { localAPIEndpoint: { advertiseAddress: kn.node.address, bindPort: API_PORT }, certificateKey },
      patches: { directory: '/root/kubeadm-patches' },
      // A shared 2-core machine: kubeadm's defaults are short there (as the single node's init).
      timeouts: { controlPlaneComponentHealthCheck: '10m0s', kubeletHealthCheck: '10m0s', kubernetesAPICall: '5m0s', etcdAPICall: '5m0s', discovery: '5m0s', tlsBootstrap: '5m0s' },
    });
  }

  /** `etcdctl endpoint health --cluster` from node 1 with kubeadm's healthcheck client: one entry per member. */
  async etcdHealth(): Promise<{ endpoint: string; health: boolean; error?: string }[]> {
    const r = await this.nodes[0]!.node.exec(['etcdctl', `--endpoints=https://${this.nodes[0]!.node.address}:2379`, '--cacert=/etc/kubernetes/pki/etcd/ca.crt',
      '--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt', '--key=/etc/kubernetes/pki/etcd/healthcheck-client.key',
      '--dial-timeout=5s', '--command-timeout=10s', 'endpoint', 'health', '--cluster', '-w', 'json'], { env: { ETCDCTL_API: '3' }, timeoutMs: 60_000 });
    try {
      return JSON.parse(r.stdout) as { endpoint: string; health: boolean; error?: string }[];
    } catch {
      throw new Error(`etcdctl endpoint health --cluster exited ${r.code}: ${r.stdout}${r.stderr}`.trim());
    }
  }

  /** Each kube-apiserver's own /readyz (not through the load balancer), with the machine's kubectl from node 1: address → answer. */
  async apiserversReady(): Promise<Map<string, string>> {
    const answers = new Map<string, string>();
    for (const address of this.nodes.map((kn) => kn.node.address)) {
      const r = await this.nodes[0]!.node.exec(['kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', `--server=https://${address}:${API_PORT}`, '--request-timeout=5s', 'get', '--raw', '/readyz'], { timeoutMs: 30_000 });
      answers.set(address, r.code === 0 ? r.stdout.trim() : (r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`));
    }
    return answers;
  }

  /** Waits until etcd has every member healthy, every kube-apiserver answers /readyz ok and haproxy has every server UP. */
  async waitHealthy(timeoutMs = 600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const etcd = await this.etcdHealth();
        const ready = await this.apiserversReady();
        const lb = await haproxyServerStatus(this.statsSocket);
        last = `etcd ${JSON.stringify(etcd)}; /readyz ${JSON.stringify([...ready])}; haproxy ${JSON.stringify([...lb])}`;
        if (etcd.length === this.nodes.length && etcd.every((e) => e.health) && [...ready.values()].every((a) => a === 'ok') && lb.size === this.nodes.length && [...lb.values()].every((s) => s === 'UP')) return;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`the cluster is not healthy after ${timeoutMs / 1000} s: ${last}`);
      await sleep(2000);
    }
  }

  /**
   * Starts the probe on the fabric: GET /api/v1/namespaces/default through the load balancer every
   * `intervalMs`, as kubeadm's admin (node 1's admin.conf). stop() waits for the requests in flight and
   * counts.
   */
  async startProbe(name: string, intervalMs = 100): Promise<{ stop(): Promise<ProbeCount> }> {
    const kubeconfig = join(this.fabric.workDir, 'admin.conf');
    if (!existsSync(kubeconfig)) copyFileSync(this.nodes[0]!.node.path('/etc/kubernetes/admin.conf'), kubeconfig);
    const client = fileURLToPath(new URL('./api-probe.js', import.meta.url));
    const url = `https://${CONTROL_PLANE_ENDPOINT}/api/v1/namespaces/default`;
    const daemon = await this.fabric.startDaemon(name, [process.execPath, client, kubeconfig, url, String(intervalMs)]);
    return {
      stop: async () => {
        await this.fabric.stopDaemon(name, 15_000);
        return countProbe(readFileSync(daemon.log, 'utf8'));
      },
    };
  }

  /**
   * What the nodes' and the fabric's processes use now: the sum of their resident memory (VmRSS, KiB),
   * their CPU time so far (utime + stime, clock ticks of 1/100 s: Linux's USER_HZ) and how many they are.
   * A node's processes are those its own /proc lists: its PID namespace and the containers' namespaces
   * below it (static pods are not hostPID); the fabric's are those in its PID namespace.
   */
  usage(): { rssKiB: number; cpuTicks: number; processes: number } {
    const total = { rssKiB: 0, cpuTicks: 0, processes: 0 };
    const add = (procDir: string) => {
      try {
        total.rssKiB += Number(/^VmRSS:\s*(\d+)/m.exec(readFileSync(join(procDir, 'status'), 'utf8'))?.[1] ?? 0);
        const stat = readFileSync(join(procDir, 'stat'), 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        total.cpuTicks += Number(fields[11]) + Number(fields[12]);
        total.processes++;
      } catch { /* gone */ }
    };
    const pids = (proc: string) => readdirSync(proc).filter((d) => /^\d+$/.test(d));
    for (const kn of this.nodes) for (const d of pids(kn.node.path('/proc'))) add(join(kn.node.path('/proc'), d));
    const fabricNs = readlinkSync(`/proc/${this.fabric.pid}/ns/pid`);
    for (const d of pids('/proc')) {
      try { if (readlinkSync(`/proc/${d}/ns/pid`) === fabricNs) add(`/proc/${d}`); } catch { /* gone */ }
    }
    return total;
  }

  /**
   * The Jobs of docs/fleet.md's rollout (templates/rollout/job.yaml's label), oldest first, with their
   * pods, through node 1's admin.conf (the load balancer).
   */
  async rolloutJobs(): Promise<RolloutJob[]> {
    const get = async (kind: string) => JSON.parse(await kubectl(this.nodes[0]!, ['-n', 'kube-system', 'get', kind, '-l', ROLLOUT_LABEL, '-o', 'json'])).items as any[];
    const [jobs, pods] = [await get('jobs'), await get('pods')];
    return jobs
      .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) || a.metadata.name.localeCompare(b.metadata.name))
      .map((j) => ({
        name: j.metadata.name,
        node: j.spec.template.spec.nodeName,
        args: j.spec.template.spec.containers[0].args,
        step: (j.spec.template.spec.containers[0].args as string[]).find((a) => TOOL_STEPS.includes(a)),
        conditions: Object.fromEntries((j.status.conditions ?? []).map((c: any) => [c.type, `${c.status}${c.reason ? ` (${c.reason})` : ''} ${c.lastTransitionTime}`])),
        start: j.status.startTime,
        completion: j.status.completionTime,
        pods: pods.filter((p) => p.metadata.labels?.['job-name'] === j.metadata.name).map((p) => {
          const cs = p.status.containerStatuses?.[0];
          const ended = cs?.state?.terminated;
          return { name: p.metadata.name, phase: p.status.phase, restarts: cs?.restartCount ?? 0, reason: p.status.reason ?? ended?.reason, exitCode: ended?.exitCode, started: ended?.startedAt, finished: ended?.finishedAt };
        }),
      }));
  }

  /** The rollout's Jobs once none runs any more (a script may have left one running when it stopped). */
  async waitRolloutJobsFinished(timeoutMs = 1_200_000): Promise<RolloutJob[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const jobs = await this.rolloutJobs();
        if (jobs.every(jobFinished)) return jobs;
      } catch { /* the API did not answer this time */ }
      if (Date.now() > deadline) throw new Error(`the rollout's Jobs did not finish within ${timeoutMs / 1000} s`);
      await sleep(3000);
    }
  }

  /**
   * Deletes every Job of the rollout and waits until their pods are gone too (the controller-manager's
   * garbage collector deletes them first: minutes on a loaded machine, more than kubectl()'s minute).
   */
  async deleteRolloutJobs(): Promise<void> {
    await this.nodes[0]!.node.run(['kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', '-n', 'kube-system', 'delete', 'jobs', '-l', ROLLOUT_LABEL,
      '--cascade=foreground', '--wait=true', '--timeout=5m'], { timeoutMs: 330_000 });
  }

  /** Stops the nodes (each by PID, its cgroups and scratch dir removed), then the fabric. */
  async stop(opts: { keep?: boolean } = {}): Promise<void> {
    for (const kn of [...this.nodes].reverse()) {
      try { await kn.stop(opts); } catch (e) { this.log(`stopping ${kn.node.hostname}: ${(e as Error).message}`); }
    }
    await this.fabric.stop(opts);
  }
}

/** A node's accounts as its /etc/passwd and /etc/group say (written by shadow-utils): user → uid and primary gid, group → gid and members. */
export function accountsOf(kn: KubeNode): { users: Map<string, { uid: number; gid: number }>; groups: Map<string, { gid: number; members: string[] }> } {
  const rows = (file: string) => readFileSync(kn.node.path(file), 'utf8').split('\n').filter(Boolean).map((l) => l.split(':'));
  const users = new Map(rows('/etc/passwd').map((f) => [f[0]!, { uid: Number(f[2]), gid: Number(f[3]) }]));
  const groups = new Map(rows('/etc/group').map((f) => [f[0]!, { gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }]));
  return { users, groups };
}
