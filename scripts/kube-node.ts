// A kubeadm control-plane node on a RealNode: containerd 2.x + runc built from the Go module proxy
// (scripts/runtime-build.ts), local images built from
// the real binaries, the real kubelet started the way kubeadm's systemd drop-in would, kubeadm init.
// Used by test/node/ and by `npm run bench`; importable by other scripts.
import { appendFileSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildEtcd, buildKubernetes, buildPause, ETCD_PACKAGES, etcdVersionFor, K8S_BINARIES, pauseVersionFor, type EtcdBinary, type K8sBinary, type Progress } from './k8s-build.js';
import { type ImageSpec, writeOciImage } from './oci-image.js';
import { cgroupRootOf, createCgroups, NODE_PATH, type NodeOptions, RealNode } from './real-node.js';
import { buildRuntime } from './runtime-build.js';
import { setTimeout as sleep } from 'node:timers/promises';


export interface Release {
  version: string;
  bin: string;
  etcdBin: string;
  etcdTag: string;
  pauseBin: string;
  pauseTag: string;
  /** The Kubernetes binaries built for this node (all five unless a subset was asked for). */
  binaries?: readonly K8sBinary[];
  /** etcd's binaries built (all three unless a subset was asked for); none: no etcd image of this release. */
  etcdBinaries?: readonly EtcdBinary[];
}

export interface ReleaseOptions {
  /** Only these Kubernetes binaries, e.g. an upgrade target without its kubelet (default: all five). */
  binaries?: readonly K8sBinary[];
  /** Only these etcd binaries (default: all three); [] builds no etcd (the node keeps its etcd image). */
  etcdBinaries?: readonly EtcdBinary[];
}

/** Builds (or takes from the cache) everything a node of `version` runs, or the subset `opts` names. */
export async function release(version: string, onProgress?: Progress, opts: ReleaseOptions = {}): Promise<Release> {
  const binaries = opts.binaries ?? K8S_BINARIES;
  const etcdBinaries = opts.etcdBinaries ?? (Object.keys(ETCD_PACKAGES) as EtcdBinary[]);
  const bin = await buildKubernetes({ version, binaries, onProgress });
  const etcd = await etcdVersionFor(version);
  const etcdBin = etcdBinaries.length > 0 ? await buildEtcd(etcd.module, { binaries: etcdBinaries, onProgress }) : '';
  const pauseTag = await pauseVersionFor(version);
  const pauseBin = await buildPause(version, onProgress);
  return { version, bin, etcdBin, etcdTag: etcd.image, pauseBin, pauseTag, binaries, etcdBinaries };
}

const CRI_SOCKET = 'unix:///run/containerd/containerd.sock';

/** The runtime binaries the node runs: the cached builds, on the node's PATH (KubeNode.installRuntime). */
const RUNTIME_BINARIES = { containerd: 'containerdBin', 'containerd-shim-runc-v2': 'containerdBin', ctr: 'containerdBin', runc: 'runcBin' } as const;
/** Where the node's PATH finds them: first in NODE_PATH after /usr/local/sbin. */
const RUNTIME_DIR = '/usr/local/bin';

/**
 * containerd 2.4's configuration for the node. Version 4, containerd 2.4's own (version/version.go
 * ConfigVersion; docs/man/containerd-config.toml.5.md): a version-3 file is migrated at every start with
 * a warning. As in version 3 the CRI plugin is split into io.containerd.cri.v1.images and
 * io.containerd.cri.v1.runtime (docs/cri/config.md); version 4 moves the socket from [grpc] to the
 * io.containerd.server.v1.grpc plugin. Set here:
 * - restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE; without it every sandbox fails with
 *   runc's "can't get final child's PID from pipe: EOF";
 * - kubeadm's pause image pinned as the sandbox image (pinned_images.sandbox replaces 1.x's
 *   sandbox_image; a pinned image is never garbage-collected by the kubelet);
 * - the shim and runc named by absolute path (runtime_path, BinaryName), so nothing is looked up on a
 *   PATH, and runc with the cgroupfs driver (the kubelet's cgroupDriver) and its own root;
 * - root, state and socket spelled out: all private to the node (its /run is a tmpfs,
 *   /var/lib/containerd a scratch dir).
 */
function containerdConfig(pauseImage: string): string {
  return `version = 4
root = "/var/lib/containerd"
state = "/run/containerd"
[plugins]
  [plugins.'io.containerd.server.v1.grpc']
    address = "${CRI_SOCKET.replace('unix://', '')}"
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = "overlayfs"
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = "${pauseImage}"
  [plugins.'io.containerd.cri.v1.runtime']
    restrict_oom_score_adj = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        runtime_path = "${RUNTIME_DIR}/containerd-shim-runc-v2"
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = "${RUNTIME_DIR}/runc"
          SystemdCgroup = false
          Root = "/run/containerd/runc"
`;
}

/** Whether a file name on the node's PATH is a container runtime's program (Debian's containerd package: containerd*, ctr). */
const isRuntimeProgram = (name: string): boolean => name.startsWith('containerd') || name === 'ctr' || name === 'runc';

/**
 * Puts the cached containerd, shim, ctr and runc on the node's PATH and removes every runtime program
 * the machine has from the node's PATH (containerd-shim, containerd-stress, … too; in the node's overlay
 * only: a whiteout in its upper layer), so the node never runs the machine's runtime, whatever it has.
 */
function installRuntime(node: RealNode, runtime: { containerdBin: string; runcBin: string }): void {
  mkdirSync(node.path(RUNTIME_DIR), { recursive: true });
  // A PATH directory reached through a symlink (merged /usr: /bin -> usr/bin) is its target's, listed too;
  // and through /proc/<pid>/root an absolute symlink would resolve on the HOST: never removed through.
  const dirs = NODE_PATH.split(':').filter((d) => d !== RUNTIME_DIR && !viaSymlink(node, d));
  for (const d of dirs) {
    for (const name of readdirSync(node.path(d)).filter(isRuntimeProgram)) rmSync(node.path(`${d}/${name}`), { force: true });
  }
  for (const [name, from] of Object.entries(RUNTIME_BINARIES)) {
    const link = node.path(`${RUNTIME_DIR}/${name}`);
    rmSync(link, { force: true });
    symlinkSync(join(runtime[from], name), link);
  }
}

/** Whether any component of the absolute path `dir` is a symlink (or missing) in the node's root. */
function viaSymlink(node: RealNode, dir: string): boolean {
  const parts = dir.split('/').filter(Boolean);
  return parts.some((_, i) => {
    try {
      return lstatSync(node.path(`/${parts.slice(0, i + 1).join('/')}`)).isSymbolicLink();
    } catch {
      return true;
    }
  });
}

export class KubeNode {
  constructor(readonly node: RealNode, readonly cgroupRoot: string) {}

  /** A node whose binds include the build cache (K8S_CACHE: the Kubernetes and runtime builds). */
  static async start(opts: Pick<NodeOptions, 'log' | 'hostname' | 'address' | 'fabric'> & { binds: string[] }): Promise<KubeNode> {
    // Built (or found in the cache) before the node starts: hostPreflight then finds them.
    const runtime = await buildRuntime(opts.log);
    const node = await RealNode.start(opts);
    installRuntime(node, runtime);
    // The node's name resolves to its address without DNS (kubeadm's Hostname preflight check).
    appendFileSync(node.path('/etc/hosts'), `${node.address} ${node.hostname}\n`);
    // No network: a resolver that refuses at once (nothing listens on the node's loopback port 53), so
    // image pulls kubeadm tries for kube-proxy and CoreDNS fail in milliseconds instead of DNS timeouts.
    writeFileSync(node.path('/etc/resolv.conf'), 'nameserver 127.0.0.1\n');
    return new KubeNode(node, cgroupRootOf(node.workDir));
  }

  async startContainerd(pauseImage: string): Promise<void> {
    const n = this.node;
    mkdirSync(n.path('/etc/containerd'), { recursive: true });
    writeFileSync(n.path('/etc/containerd/config.toml'), containerdConfig(pauseImage));
    await n.startDaemon('containerd', ['containerd', '--config', '/etc/containerd/config.toml']);
    for (let i = 0; i < 100; i++) {
      if ((await n.exec(['ctr', 'version'])).code === 0) return;
      await sleep(200);
    }
    throw new Error(`containerd did not answer (log ${n.workDir}/containerd.log)`);
  }

  /** Builds the images kubeadm's manifests name, from the release's binaries, and imports them. */
  async importImages(r: Release): Promise<string[]> {
    const built = r.binaries ?? K8S_BINARIES;
    const etcdBuilt = r.etcdBinaries ?? Object.keys(ETCD_PACKAGES);
    const specs = [
      ...(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const).filter((b) => built.includes(b)).map((b) => ({
        name: `registry.k8s.io/${b}:${r.version}`, files: { [`usr/local/bin/${b}`]: join(r.bin, b) },
        // As upstream's image (build/server-image/kube-apiserver/Dockerfile): the binary carries
        // cap_net_bind_service=+ep, so exec fails with EPERM when the bounding set lacks it.
        ...(b === 'kube-apiserver' ? { fileCaps: { [`usr/local/bin/${b}`]: 'cap_net_bind_service=+ep' } } : {}),
      })),
      ...(etcdBuilt.length > 0 ? [{ name: `registry.k8s.io/etcd:${r.etcdTag}`, files: Object.fromEntries(etcdBuilt.map((b) => [`usr/local/bin/${b}`, join(r.etcdBin, b)])), dirs: ['var/lib/etcd'] }] : []),
      { name: `registry.k8s.io/pause:${r.pauseTag}`, files: { pause: join(r.pauseBin, 'pause') }, entrypoint: ['/pause'] },
    ];
    const names: string[] = [];
    for (const spec of specs) names.push(await this.importImage(spec));
    this.node.log(`images imported: ${names.join(', ')}`);
    return names;
  }

  /** Builds one local image and imports it into the node's containerd (namespace k8s.io, the kubelet's), unless present. */
  async importImage(spec: ImageSpec): Promise<string> {
    const have = await this.node.exec(['ctr', '-n', 'k8s.io', 'images', 'check', `name==${spec.name}`]);
    if (have.stdout.includes(spec.name)) return spec.name;
    const file = `${spec.name.replace(/[/:]/g, '_')}.tar`;
    writeOciImage(spec, join(this.node.workDir, 'share', file));
    await this.node.run(['ctr', '-n', 'k8s.io', 'images', 'import', `/kn-share/${file}`]);
    rmSync(join(this.node.workDir, 'share', file));
    return spec.name;
  }

  /**
   * Puts the release's kubeadm and kubelet (or only those named) on the node's PATH, the package
   * install of a real node: an upgrade installs the new kubeadm first and may keep the kubelet.
   */
  install(r: Release, which: readonly ('kubeadm' | 'kubelet')[] = ['kubeadm', 'kubelet']): void {
    mkdirSync(this.node.path('/usr/local/bin'), { recursive: true });
    for (const b of which) {
      if (!existsSync(join(r.bin, b))) throw new Error(`${b} ${r.version} is not built (${r.bin})`);
      const link = this.node.path(`/usr/local/bin/${b}`);
      rmSync(link, { force: true });
      symlinkSync(join(r.bin, b), link);
    }
  }

  /**
   * Starts the kubelet as kubeadm's systemd drop-in (10-kubeadm.conf) does: the bootstrap and node
   * kubeconfigs, /var/lib/kubelet/config.yaml, and the flags kubeadm wrote to kubeadm-flags.env.
   */
  async startKubelet(): Promise<void> {
    const env = readFileSync(this.node.path('/var/lib/kubelet/kubeadm-flags.env'), 'utf8');
    const args = /KUBELET_KUBEADM_ARGS="([^"]*)"/.exec(env)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
    createCgroups(this.cgroupRoot);
    await this.node.startDaemon('kubelet', ['kubelet', '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
      '--kubeconfig=/etc/kubernetes/kubelet.conf', '--config=/var/lib/kubelet/config.yaml', ...args]);
  }

  async restartKubelet(): Promise<void> {
    await this.node.stopDaemon('kubelet');
    await this.startKubelet();
  }

  /**
   * kubeadm's configuration for this node: the kubelet on cgroupfs in its own cgroupRoot, cgroup v1 allowed.
   * `featureGates` are turned on for the kubelet (KubeletConfiguration featureGates) and kube-apiserver
   * (--feature-gates through ClusterConfiguration apiServer.extraArgs, which kubeadm upgrade keeps).
   */
  kubeadmConfig(version: string, featureGates: readonly string[] = []): string {
    const n = this.node;
    const apiServer = featureGates.length === 0 ? '' : `apiServer:
  extraArgs:
  - name: feature-gates
    value: ${featureGates.map((g) => `${g}=true`).join(',')}
`;
    const kubeletGates = featureGates.length === 0 ? '' : `featureGates:
${featureGates.map((g) => `  ${g}: true`).join('\n')}
`;
    return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: ${n.address}
  bindPort: 6443
nodeRegistration:
  name: ${n.hostname}
  criSocket: ${CRI_SOCKET}
  kubeletExtraArgs:
  - name: node-ip
    value: ${n.address}
# A shared 2-core machine: kubeadm's defaults (1 min for API calls, 4 min for health) are short there.
timeouts:
  kubernetesAPICall: 5m0s
  kubeletHealthCheck: 10m0s
  controlPlaneComponentHealthCheck: 10m0s
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${version}
${apiServer}networking:
  podSubnet: 10.244.0.0/16
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupRoot: ${this.cgroupRoot}
# These machines have cgroup v1; the kubelet refuses it from v1.35 unless told (KEP-5573).
failCgroupV1: false
# The scratch disk is shared with the machine: no evictions of test pods for its fill level.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
# Nor image garbage collection: above 85% disk use (capacity minus available, so a filesystem's reserved
# blocks count as used) the kubelet deletes images no container uses. With containerd 1.6 that included
# the sandbox image (not pinned before 1.7): every pod restarted afterwards — etcd's, during an apply —
# failed "failed to get sandbox image" (observed with the v1.36.3 kubelet on a disk at 87%). containerd 2
# pins it (pinned_images.sandbox), but nothing can pull back any other local image either (no
# registry), e.g. the release a rollback after an upgrade runs again. 100 (with imageMaximumGCAge unset)
# disables image GC (pkg/kubelet/kubelet.go, StartGarbageCollection).
imageGCHighThresholdPercent: 100
${kubeletGates}`;
  }

  /**
   * kubeadm init (with this node's kubeadmConfig unless another `config` is given, and `flags` such as
   * --upload-certs).
   */
  async init(version: string, ignorePreflight: string[], config = this.kubeadmConfig(version), flags: string[] = []): Promise<string> {
    writeFileSync(this.node.path('/root/kubeadm.yaml'), config);
    return this.kubeadmStartingKubelet('init', ['init', '--config=/root/kubeadm.yaml', `--ignore-preflight-errors=${ignorePreflight.join(',')}`, ...flags, '--v=1']);
  }

  /** kubeadm join with a JoinConfiguration (`config`): a worker, or a control-plane node with its `controlPlane` section. */
  async join(config: string, ignorePreflight: string[]): Promise<string> {
    writeFileSync(this.node.path('/root/kubeadm-join.yaml'), config);
    return this.kubeadmStartingKubelet('join', ['join', '--config=/root/kubeadm-join.yaml', `--ignore-preflight-errors=${ignorePreflight.join(',')}`, '--v=1']);
  }

  /**
   * Runs kubeadm init or join. Their kubelet-start phase cannot restart a kubelet without an init
   * system (kubeadm warns and goes on), so the kubelet is started here as soon as kubeadm has written
   * its files.
   */
  private async kubeadmStartingKubelet(what: string, argv: string[]): Promise<string> {
    const n = this.node;
    const run = n.exec(['kubeadm', ...argv], { timeoutMs: 600_000 });
    let done = false;
    void run.then(() => { done = true; });
    while (!done && !existsSync(n.path('/var/lib/kubelet/kubeadm-flags.env'))) await sleep(200);
    if (!done) {
      // config.yaml is written in the same phase, just before.
      while (!existsSync(n.path('/var/lib/kubelet/config.yaml'))) await sleep(100);
      await this.startKubelet();
    }
    const r = await run;
    if (r.code !== 0) throw new Error(`kubeadm ${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout + r.stderr;
  }

  async stop(opts: { keep?: boolean } = {}): Promise<void> {
    await this.node.stop({ cgroupRoot: this.cgroupRoot, keep: opts.keep });
  }
}
