// The user-namespace mode: whether the static pods run with `spec.hostUsers: false` (KEP-127 user
// namespaces; for hostNetwork pods KEP-5607's UserNamespacesHostNetworkSupport gate), and whether the
// non-root accounts and file layout come with it. See docs/user-namespaces.md.
//   off            today's layout: non-root accounts, no user namespace (the default)
//   with-accounts  today's layout AND hostUsers: false (defence in depth)
//   only           hostUsers: false alone: no accounts, no owner or mode changes, no runAsUser; the
//                  containers' root maps to an unprivileged host range and reads kubeadm's root:root
//                  0600 files through idmapped mounts
export const USER_NAMESPACE_MODES = ['off', 'with-accounts', 'only'] as const;
export type UserNamespaceMode = (typeof USER_NAMESPACE_MODES)[number];

export function isUserNamespaceMode(value: unknown): value is UserNamespaceMode {
  return typeof value === 'string' && (USER_NAMESPACE_MODES as readonly string[]).includes(value);
}

/** The mode a config asks for: absent means off. */
export function userNamespaceMode(config: { userNamespaces?: UserNamespaceMode }): UserNamespaceMode {
  return config.userNamespaces ?? 'off';
}

/** What the mode is called in messages and how to choose it. */
export const USER_NAMESPACE_CHOICES = USER_NAMESPACE_MODES.join(', ');

/** Feature gates as one source states them (`name → enabled`); null when the source does not exist. */
export interface FeatureGateSource {
  /** Node path of the file that states them. */
  path: string;
  gates: Record<string, boolean> | null;
  /** Why the gates could not be read (malformed file, value that is not a boolean); absent when read. */
  unreadable?: string;
}

/** The filesystem a hostPath (or the kubelet's pods directory) lives on, from statfs(2). */
export interface FilesystemFact {
  /** The node path the pods mount (or the kubelet's dir). */
  path: string;
  /** Who mounts it, for messages ("etcd volume etcd-data"). */
  usedBy: string;
  /** The node path statfs was asked about: the path itself, or its nearest existing parent. */
  statted: string;
  /** f_type of statfs(2) (include/uapi/linux/magic.h); null when statfs failed. */
  magic: number | null;
}

/** The default runtime handler's advertised user-namespace support, read from the Node object. */
export type RuntimeFact =
  | { known: true; source: string; handlers: Array<{ name: string; userNamespaces: boolean }> | null }
  | { known: false; source: string; reason: string };

/** What `plan` needs to know about the node to tell whether the static pods can run in user namespaces. */
export interface UserNamespaceFacts {
  kubeletConfig: FeatureGateSource;
  /** --feature-gates in the kubelet's flag files (kubeadm-flags.env, then /etc/default/kubelet), merged in order. */
  kubeletFlags: FeatureGateSource[];
  /** `<proc>/sys/kernel/osrelease`, trimmed; null when unreadable. */
  kernelRelease: string | null;
  /** `<proc>/sys/net/ipv4/ip_unprivileged_port_start`; null when unreadable. */
  unprivilegedPortStart: number | null;
  /** The --proc directory the two above were read from, for messages. */
  proc: string;
  filesystems: FilesystemFact[];
  runtime: RuntimeFact;
}

/** The feature gates user namespaces for the control plane's static pods need (hostNetwork pods). */
export const USERNS_GATE = 'UserNamespacesSupport';
export const USERNS_HOSTNETWORK_GATE = 'UserNamespacesHostNetworkSupport';

/**
 * Go's strconv.ParseBool, which component-base's feature-gate flag uses for each `name=value`
 * (k8s.io/component-base/featuregate/feature_gate.go Set): 1 t T TRUE true True, 0 f F FALSE false False.
 */
export function parseGoBool(text: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return null;
}

/** `A=true,B=false` (a --feature-gates value) → map; a string naming the bad item when one is not `name=bool`. */
export function parseFeatureGatesFlag(value: string): Record<string, boolean> | string {
  const out: Record<string, boolean> = {};
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const enabled = eq > 0 ? parseGoBool(item.slice(eq + 1).trim()) : null;
    if (enabled === null) return `"${item}" is not name=true or name=false`;
    out[item.slice(0, eq).trim()] = enabled;
  }
  return out;
}
