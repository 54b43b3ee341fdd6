// The four kubeadm control-plane components and the account names upstream kubeadm's
// RootlessControlPlane gate used (cmd/kubeadm/app/constants/constants.go). Keeping the same names and
// ID allocation order means a node once set up by that gate comes out with the same IDs.

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Component = (typeof COMPONENTS)[number];

export function isComponent(name: string): name is Component {
  return (COMPONENTS as readonly string[]).includes(name);
}

/** Default user (and same-named primary group) per component, as kubeadm named them. */
export const DEFAULT_ACCOUNT: Record<Component, string> = {
  etcd: 'kubeadm-etcd',
  'kube-apiserver': 'kubeadm-kas',
  'kube-controller-manager': 'kubeadm-kcm',
  'kube-scheduler': 'kubeadm-ks',
};

/** kubeadm's group for the service-account signing key, shared by kube-apiserver and kube-controller-manager. */
export const SA_KEY_READERS_GROUP = 'kubeadm-sa-key-readers';

/** Short names used to build names of other shared reader groups (kubeadm-<a>-<b>-readers). */
export const SHORT_NAME: Record<Component, string> = {
  etcd: 'etcd',
  'kube-apiserver': 'kas',
  'kube-controller-manager': 'kcm',
  'kube-scheduler': 'ks',
};

/** Order in which components are migrated and health-gated: the data store first, then its clients. */
export const ROLLOUT_ORDER: readonly Component[] = COMPONENTS;

export function sortComponents<T extends Component>(list: Iterable<T>): T[] {
  return [...list].sort((a, b) => COMPONENTS.indexOf(a) - COMPONENTS.indexOf(b));
}
