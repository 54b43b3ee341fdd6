// Which Kubernetes versions the tool knows how to handle, in one place (semver ranges).
// Tested on hand-written fixtures (v1.16–v1.32, test/fixtures/manifests) and on kubeadm's own output for
// the newest patch of every minor v1.22–v1.37 (test/fixtures/kubeadm, `npm run fixtures:kubeadm`).
import { semver } from './semver.js';

/** [min, below): the versions the tool knows; compared with gte/lt (a semver Range costs more to build than a plan). */
const KNOWN = { min: '1.16.0', below: '1.38.0' };
export const KNOWN_KUBERNETES = `>=${KNOWN.min} <${KNOWN.below}`;
/** seccompProfile field is GA from 1.19; before that only the alpha annotation works (KEP-135, seccomp GA). */
export const SECCOMP_FIELD_SINCE = '1.19.0';
/** kubeadm writes the pod seccompProfile itself from 1.22 (PR #100234); revert keeps it there. */
export const KUBEADM_WRITES_SECCOMP_SINCE = '1.22.0';

type VersionSupport = 'known' | 'unknown-version' | 'too-old' | 'too-new';

export function kubernetesSupport(version: string | null): VersionSupport {
  if (!version || !semver.valid(version)) return 'unknown-version';
  if (semver.gte(version, KNOWN.min) && semver.lt(version, KNOWN.below)) return 'known';
  return semver.lt(version, KNOWN.min) ? 'too-old' : 'too-new';
}

/** kube-apiserver reads sa.key itself from 1.20 (--service-account-signing-key-file), so it becomes shared. */
const SA_KEY_SHARED_SINCE = '1.20.0';
/**
 * The RootlessControlPlane gate: alpha 1.22, deprecated 1.31 (kubernetes#124997). Still accepted (alpha,
 * deprecated) by kubeadm v1.35.4, v1.36.3 and v1.37.2 (cmd/kubeadm/app/features/features.go; the
 * generated fixtures test/fixtures/kubeadm/<release>/rootless-gate are its output).
 */
const ROOTLESS_GATE = { since: '1.22.0', deprecated: '1.31.0' };

const crosses = (from: string, to: string, at: string) => semver.lt(from, at) && semver.gte(to, at);

/** What differs for this tool between the node's version and an upgrade target. */
export function targetNotes(current: string | null, target: string): { support: VersionSupport | 'downgrade'; notes: string[] } {
  const support = kubernetesSupport(target);
  const notes: string[] = [];
  if (support === 'unknown-version') return { support, notes: [`"${target}" is not a Kubernetes version (expected vX.Y.Z)`] };
  // kubeadm upgrade refuses a target older than the cluster (cmd/kubeadm/app/phases/upgrade/policy.go,
  // EnforceVersionPolicies: "specified version to upgrade to ... is equal to or lower than the cluster version ...
  // Downgrades are not supported yet").
  if (current && semver.valid(current) && semver.lt(target, current)) return { support: 'downgrade', notes: [`v${target} is older than the node's v${current}: kubeadm does not downgrade, so neither is it planned here`] };
  notes.push(support === 'known' ? `v${target} is within the versions this tool handles (${KNOWN_KUBERNETES})` : `v${target} is outside the versions this tool handles (${KNOWN_KUBERNETES}); upgrade the tool first or review every change by hand`);
  if (!current || !semver.valid(current)) return { support, notes };
  if (crosses(current, target, SECCOMP_FIELD_SINCE)) notes.push('seccomp moves from the alpha annotation to the pod seccompProfile field (GA in 1.19); apply after the upgrade writes the field');
  if (crosses(current, target, SA_KEY_SHARED_SINCE)) notes.push('kube-apiserver starts reading sa.key (--service-account-signing-key-file): patches made before the upgrade cannot give it access, so upgrade WITHOUT patches this once, then run apply (it creates kubeadm-sa-key-readers and makes sa.key root:kubeadm-sa-key-readers 0640)');
  if (crosses(current, target, KUBEADM_WRITES_SECCOMP_SINCE)) notes.push('kubeadm starts writing seccompProfile: RuntimeDefault itself; revert keeps it from then on');
  if (crosses(current, target, ROOTLESS_GATE.deprecated)) notes.push("kubeadm's RootlessControlPlane gate is deprecated from 1.31 (alpha, slated for removal); prefer kubeadm-nonroot patches over the gate");
  if (!crosses(current, target, SA_KEY_SHARED_SINCE)) {
    // kubeadm's patch flag: --experimental-patches in 1.19-1.21 (kubernetes#92017), --patches from 1.22 (#103063).
    const flag = semver.lt(target, '1.19.0') ? null : semver.lt(target, '1.22.0') ? '--experimental-patches' : '--patches';
    notes.push(flag ? `kubeadm upgrade regenerates the manifests: pass the output of kubeadm-nonroot patches with ${flag}, then run kubeadm-nonroot verify: certificate renewal keeps every owner and mode, so apply is needed only for a file kubeadm wrote anew (docs/upgrade.md)` : 'kubeadm before 1.19 has no patches: upgrade, then run apply at once (docs/upgrade.md)');
  }
  return { support, notes };
}
