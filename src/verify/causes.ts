// Which day-2 operation most likely produced a drift, from its fingerprints. kubeadm regenerates
// manifests on upgrade (dropping securityContext); a key or kubeconfig kubeadm writes anew (not renews:
// `kubeadm certs renew` rewrites in place and keeps owner and mode, observed with kubeadm v1.36.3) is root 0600;
// an etcd snapshot restore run as root leaves root-owned data (k0s#891, rancher/rke2#6466).
import type { FileAction } from '../plan/types.js';

export const CAUSE = {
  notMigrated: 'the node has not been migrated yet (or was rolled back)',
  manifestRegenerated: 'the manifest was regenerated without the non-root securityContext (kubeadm upgrade apply/node, or kubeadm init phase control-plane/etcd)',
  manifestEdited: 'the manifest was edited by hand or by a patch',
  keyRewritten: 'the file was re-created by root (written anew by kubeadm — init phase certs/kubeconfig after it was removed, join — or restored from a copy; kubeadm certs renew keeps the owner)',
  dataRestored: 'files in the data dir are owned by another user (etcd snapshot restore or another tool run as root)',
  modeLoosened: 'the mode was loosened by hand or by a tool that rewrote the file',
  accountsRemoved: 'the accounts are missing (kubeadm reset, userdel, or a re-imaged node)',
  processStale: 'the running process does not match the manifest (the kubelet has not restarted it yet, or it runs with other privileges)',
} as const;

export function fileCause(f: FileAction, hasMigratedManifests: boolean): string {
  if (!hasMigratedManifests) return CAUSE.notMigrated;
  if (f.action === 'set-owner-recursive') return CAUSE.dataRestored;
  if (f.action === 'create-directory') return CAUSE.notMigrated;
  const cur = f.current!;
  if (cur.uid === 0 && cur.gid === 0 && f.desired.uid !== 0) return CAUSE.keyRewritten;
  if (cur.uid === f.desired.uid && cur.gid === f.desired.gid) return CAUSE.modeLoosened;
  return CAUSE.keyRewritten;
}
