// Which Kubernetes versions the tool knows how to handle, in one place (semver ranges).
// Tested fixtures span v1.16–v1.32; 1.33–1.35 manifests are unchanged in every respect the tool edits
// (kubeadm-manifests.md §2), and the RootlessControlPlane gate's removal in the 1.35 cycle does not
// change what kubeadm writes for a node without the gate.
import semver from 'semver';

export const KNOWN_KUBERNETES = '>=1.16.0 <1.36.0';
/** seccompProfile field is GA from 1.19; before that only the alpha annotation works (kubeadm-manifests.md §3). */
export const SECCOMP_FIELD_SINCE = '1.19.0';
/** kubeadm writes the pod seccompProfile itself from 1.22 (PR #100234); revert keeps it there. */
export const KUBEADM_WRITES_SECCOMP_SINCE = '1.22.0';

export type VersionSupport = 'known' | 'unknown-version' | 'too-old' | 'too-new';

export function kubernetesSupport(version: string | null): VersionSupport {
  if (!version || !semver.valid(version)) return 'unknown-version';
  if (semver.satisfies(version, KNOWN_KUBERNETES)) return 'known';
  return semver.lt(version, '1.16.0') ? 'too-old' : 'too-new';
}
