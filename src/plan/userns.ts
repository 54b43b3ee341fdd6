// The user-namespace mode's prerequisites (docs/user-namespaces.md), judged from what discovery read
// (src/discover/userns.ts). Pure. Each missing prerequisite is one blocking problem naming its fix; the
// tool never turns a gate on by itself.
import { semver } from '../model/semver.js';
import { flagValues } from '../model/flags.js';
import { listenPorts } from '../model/ports.js';
import type { Component } from '../model/components.js';
import type { PodInfo } from '../model/pod.types.js';
import { parseFeatureGatesFlag, USERNS_GATE, USERNS_HOSTNETWORK_GATE, type UserNamespaceFacts, type UserNamespaceMode } from '../model/userns.js';
import type { Problem } from './types.js';

/** A kubeadm component's pod, as the checks need it. */
export interface UsernsComponent {
  component: Component;
  /** Node path of its manifest. */
  path: string;
  pod: PodInfo;
}

/**
 * The first release with KEP-5607's UserNamespacesHostNetworkSupport (alpha, off by default; still alpha
 * in v1.37: pkg/features/kube_features.go). Before it the API server rejects `hostUsers: false` with
 * `hostNetwork: true` (pkg/apis/core/validation/validation.go validateHostUsers), and every static pod
 * of the control plane is hostNetwork.
 */
export const HOSTNETWORK_USERNS_SINCE = '1.35.0';

/**
 * A gate's default in a release (pkg/features/kube_features.go): UserNamespacesSupport is beta and on
 * by default from v1.33 (KEP-127; GA and locked on from v1.36), off before; UserNamespacesHostNetworkSupport
 * is alpha and off. An unknown version counts as off: the gate must then be set explicitly.
 */
export function gateDefault(gate: string, version: string | null): boolean {
  if (gate === USERNS_GATE) return version !== null && semver.gte(version, '1.33.0');
  return false;
}

/**
 * Filesystems that support idmapped mounts (FS_ALLOW_IDMAP), and the kernel release that gave each the
 * support: ext4 and xfs with the idmapped mounts series itself (Linux 5.12, "fs: add mount_setattr()"
 * and "ext4: support idmapped mounts", "xfs: support idmapped mounts"), btrfs in 5.15 ("btrfs: allow
 * idmapped mounts"), tmpfs in 6.3 ("shmem: support idmapped mounts for tmpfs"). An allow-list: any other
 * filesystem is refused. Not overlayfs: 5.19's "ovl: support idmapped layers" lets an overlay's LAYERS be
 * idmapped mounts, but the overlay mount itself has no FS_ALLOW_IDMAP — runc's mount_setattr on a
 * hostPath on an overlay fails with EINVAL ("failed to set MOUNT_ATTR_IDMAP … invalid argument"), as
 * seen with containerd 2.4.2 / runc 1.5.3 on Linux 6.18. Keys are statfs(2) f_type
 * (include/uapi/linux/magic.h; ext2/3/4 share EXT4_SUPER_MAGIC and are all served by ext4 here).
 */
export const IDMAP_FILESYSTEMS: ReadonlyMap<number, { name: string; since: string }> = new Map([
  [0xef53, { name: 'ext4', since: '5.12' }],
  [0x58465342, { name: 'xfs', since: '5.12' }],
  [0x9123683e, { name: 'btrfs', since: '5.15' }],
  [0x01021994, { name: 'tmpfs', since: '6.3' }],
]);

const KNOWN_FILESYSTEMS = [...IDMAP_FILESYSTEMS.values()].map((f) => `${f.name} (Linux ${f.since})`).join(', ');

/** "6.1.0-18-amd64" → [6, 1]; null when it does not start with MAJOR.MINOR. */
export function kernelVersion(release: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function kernelAtLeast(release: [number, number], since: string): boolean {
  const [major, minor] = since.split('.').map(Number) as [number, number];
  return release[0] > major || (release[0] === major && release[1] >= minor);
}

export interface UsernsInput {
  mode: UserNamespaceMode;
  facts: UserNamespaceFacts;
  /** The components the mode runs in user namespaces. */
  components: readonly UsernsComponent[];
  /** The control plane's version (from its images): the gates' defaults follow it. */
  kubernetesVersion: string | null;
}

/** Every missing prerequisite, one problem each (empty when the mode is off or all are there). */
export function userNamespacePrerequisites(input: UsernsInput): Problem[] {
  if (input.mode === 'off') return [];
  const version = input.kubernetesVersion;
  const problems: Problem[] = [];
  if (version !== null && semver.lt(version, HOSTNETWORK_USERNS_SINCE)) {
    problems.push({ code: 'userns-kubernetes-version', message: `Kubernetes ${version} cannot run hostNetwork pods (every control-plane static pod) in user namespaces: ${USERNS_HOSTNETWORK_GATE} (KEP-5607) exists from v1.35`, fix: 'upgrade the cluster to v1.35 or later first, or run without --user-namespaces' });
  } else {
    problems.push(...kubeletGates(input.facts, version), ...apiserverGates(input.components, version));
  }
  problems.push(...runtimeSupport(input.facts), ...filesystems(input.facts), ...ports(input.facts, input.components));
  return problems;
}

/** The kubelet's gates: its config file, then its --feature-gates flags (a flag wins over the file). */
function kubeletGates(facts: UserNamespaceFacts, version: string | null): Problem[] {
  const config = facts.kubeletConfig;
  const sources = [config, ...facts.kubeletFlags];
  const unreadable = sources.filter((s) => s.unreadable !== undefined);
  if (unreadable.length) return unreadable.map((s) => ({ code: 'userns-kubelet-gates-unreadable', message: `cannot tell the kubelet's feature gates: ${s.unreadable!}`, path: s.path, fix: `fix ${s.path}` }));
  if (config.gates === null) return [{ code: 'userns-kubelet-config-missing', message: `no kubelet configuration at ${config.path}: the kubelet's feature gates cannot be told`, path: config.path, fix: 'run on a kubeadm node (kubeadm writes it), or point --root at one' }];
  const effective = Object.assign({}, ...sources.map((s) => s.gates ?? {})) as Record<string, boolean>;
  const flagged = (gate: string) => facts.kubeletFlags.some((s) => s.gates?.[gate] !== undefined);
  return [USERNS_GATE, USERNS_HOSTNETWORK_GATE].flatMap((gate): Problem[] => {
    if ((effective[gate] ?? gateDefault(gate, version))) return [];
    const where = flagged(gate) ? `the kubelet's --feature-gates (${facts.kubeletFlags.filter((s) => s.gates?.[gate] !== undefined).map((s) => s.path).join(', ')})` : config.path;
    return [{ code: 'userns-kubelet-gate', message: `the kubelet's feature gate ${gate} is off (${where})`, path: config.path, fix: `set featureGates: {${gate}: true} in ${config.path}${flagged(gate) ? ` and drop ${gate}=false from the kubelet's --feature-gates` : ''}, and in the KubeletConfiguration of your kubeadm config so upgrades keep it; then restart the kubelet` }];
  });
}

/** kube-apiserver's --feature-gates: it validates the mirror pods, and rejects hostUsers: false with hostNetwork unless both gates are on. */
function apiserverGates(components: readonly UsernsComponent[], version: string | null): Problem[] {
  const apiserver = components.find((c) => c.component === 'kube-apiserver');
  if (!apiserver) return [];
  const gates: Record<string, boolean> = {};
  for (const value of flagValues(apiserver.pod.flags, '--feature-gates')) {
    const parsed = parseFeatureGatesFlag(value);
    if (typeof parsed === 'string') return [{ code: 'userns-apiserver-gates-unreadable', message: `kube-apiserver --feature-gates: ${parsed}`, path: apiserver.path, component: 'kube-apiserver', fix: `fix --feature-gates in ${apiserver.path}` }];
    Object.assign(gates, parsed);
  }
  return [USERNS_GATE, USERNS_HOSTNETWORK_GATE].flatMap((gate): Problem[] =>
    (gates[gate] ?? gateDefault(gate, version))
      ? []
      : [{ code: 'userns-apiserver-gate', message: `kube-apiserver's feature gate ${gate} is off: it rejects the mirror pod of a hostNetwork pod with hostUsers: false`, path: apiserver.path, component: 'kube-apiserver', fix: `add ${gate}=true to --feature-gates in ${apiserver.path} and to apiServer.extraArgs feature-gates in your kubeadm ClusterConfiguration so upgrades keep it` }],
  );
}

/** The default runtime handler (name "", what static pods use) must advertise user namespaces. */
function runtimeSupport(facts: UserNamespaceFacts): Problem[] {
  const r = facts.runtime;
  const fix = 'pass --node-status FILE with the output of: kubectl get node NODE -o json (run where the API server answers), or run on the node with the kubelet and API server up';
  if (!r.known) return [{ code: 'userns-runtime-unknown', message: `could not determine whether the container runtime supports user namespaces (${r.source}): ${r.reason}`, fix }];
  if (r.handlers === null) return [{ code: 'userns-runtime-unknown', message: `the Node object (${r.source}) has no status.runtimeHandlers: the kubelet publishes them from v1.30 when the runtime reports them`, fix: 'upgrade the container runtime to one that reports its handlers (containerd 2.x, CRI-O 1.30+), then run plan again' }];
  const handler = r.handlers.find((h) => h.name === '');
  if (handler?.userNamespaces === true) return [];
  return [{ code: 'userns-runtime', message: `the container runtime's default handler does not support user namespaces (status.runtimeHandlers${handler ? '[name ""].features.userNamespaces is false' : ' has no default handler'}, ${r.source})`, fix: 'use a runtime with user-namespace support for hostNetwork pods (containerd 2.3.4 or later with runc 1.2 or crun 1.9 or later), then restart the kubelet' }];
}

/** Every hostPath's filesystem must support idmapped mounts on this kernel. */
function filesystems(facts: UserNamespaceFacts): Problem[] {
  const release = facts.kernelRelease === null ? null : kernelVersion(facts.kernelRelease);
  if (release === null) return [{ code: 'userns-kernel-unknown', message: `cannot read the kernel release from ${facts.proc}/sys/kernel/osrelease${facts.kernelRelease === null ? '' : ` ("${facts.kernelRelease}")`}: idmapped-mount support cannot be told`, fix: 'point --proc at the node\'s procfs (/proc)' }];
  return facts.filesystems.flatMap((f): Problem[] => {
    const fs = f.magic === null ? undefined : IDMAP_FILESYSTEMS.get(f.magic);
    const at = f.statted === f.path ? f.path : `${f.path} (its nearest existing parent ${f.statted})`;
    if (f.magic === null) return [{ code: 'userns-idmap-filesystem', message: `cannot statfs ${at}, used by ${f.usedBy}: its filesystem's idmapped-mount support cannot be told`, path: f.path, fix: `make ${f.path} readable by root` }];
    if (!fs) return [{ code: 'userns-idmap-filesystem', message: `${at}, used by ${f.usedBy}, is on a filesystem (statfs type 0x${f.magic.toString(16)}) not known to support idmapped mounts; known: ${KNOWN_FILESYSTEMS}`, path: f.path, fix: `move ${f.path} to one of those filesystems` }];
    if (kernelAtLeast(release, fs.since)) return [];
    return [{ code: 'userns-idmap-filesystem', message: `${at}, used by ${f.usedBy}, is on ${fs.name}, which supports idmapped mounts from Linux ${fs.since}; this kernel is ${facts.kernelRelease!}`, path: f.path, fix: `upgrade the kernel to ${fs.since} or later` }];
  });
}

/**
 * A process in a user namespace has no capability in the host's network namespace (hostNetwork), so
 * it cannot bind a port below net.ipv4.ip_unprivileged_port_start whatever it holds in its own namespace.
 */
function ports(facts: UserNamespaceFacts, components: readonly UsernsComponent[]): Problem[] {
  const start = facts.unprivilegedPortStart;
  if (start === null) return [{ code: 'userns-port-start-unknown', message: `cannot read ${facts.proc}/sys/net/ipv4/ip_unprivileged_port_start: whether the components may bind their ports cannot be told`, fix: 'point --proc at the node\'s procfs (/proc)' }];
  return components.flatMap((c) =>
    listenPorts(c.pod, c.component)
      .filter((p) => p.port < start)
      .map((p): Problem => ({ code: 'userns-privileged-port', message: `${c.component} listens on port ${p.port} (${p.flag}), below net.ipv4.ip_unprivileged_port_start ${start}: a process in a user namespace cannot bind it`, path: c.path, component: c.component, fix: `move ${p.flag} to a port >= ${start}${p.flag === '--secure-port' && c.component === 'kube-apiserver' ? ' (kubeadm: localAPIEndpoint.bindPort)' : ''}, or lower net.ipv4.ip_unprivileged_port_start to ${p.port} with sysctl` })),
  );
}
