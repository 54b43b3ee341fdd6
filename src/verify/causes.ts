// Which day-2 operation most likely produced a drift, from its fingerprints. kubeadm regenerates
// manifests on upgrade (dropping securityContext); a key or kubeconfig kubeadm writes anew (not renews:
// `kubeadm certs renew` and `kubeadm upgrade apply` rewrite in place and keep owner and mode, observed
// with kubeadm v1.36.3 and v1.37.2) is root 0600; an etcd snapshot restore run as root leaves
// root-owned data (k0s#891, rancher/rke2#6466) — and so does etcd itself once an upgrade without the
// patches has made it root again: observed with kubeadm v1.36.3 (an upgrade that rewrote etcd's
// manifest), etcd as root wrote a new WAL file into the data dir within seconds.
import type { FileAction } from '../plan/types.js';
import type { NodeHistory } from '../state/history.js';

/**
 * The run whose undo (a rollback of an apply, or a revert) is the latest thing that stands on this
 * node, from the replayed journals: then every difference is "not migrated", never kubeadm's doing —
 * `rollback --keep-accounts` keeps the accounts, which alone would read as a migrated node whose
 * manifests kubeadm regenerated.
 */
export function undoingRun(h: NodeHistory | undefined): { state: 'rolled-back' | 'reverted'; run: string } | null {
  return h && (h.state === 'rolled-back' || h.state === 'reverted') ? { state: h.state, run: h.run } : null;
}

export const CAUSE = {
  notMigrated: 'the node has not been migrated yet (or was rolled back)',
  manifestRegenerated: 'the manifest was regenerated without the non-root securityContext (kubeadm upgrade apply/node, or kubeadm init phase control-plane/etcd)',
  manifestEdited: 'the manifest was edited by hand or by a patch',
  keyRewritten: 'the file was re-created by root (written anew by kubeadm — init phase certs/kubeconfig after it was removed, join — or restored from a copy; kubeadm certs renew keeps the owner)',
  dataRestored: 'files in the data dir are owned by another user (etcd snapshot restore or another tool run as root)',
  dataWrittenByRootEtcd: 'files in the data dir were written by etcd running as root: its manifest was regenerated without the non-root securityContext (kubeadm upgrade without --patches), so etcd ran as root and created files of its own',
  modeLoosened: 'the mode was loosened by hand or by a tool that rewrote the file',
  accountsRemoved: 'the accounts are missing (kubeadm reset, userdel, or a re-imaged node)',
  processStale: 'the running process does not match the manifest (the kubelet has not restarted it yet, or it runs with other privileges)',
  processFollowsManifest: 'the process runs as its manifest says, and the manifest lacks the non-root securityContext (see the manifest finding)',
} as const;

/**
 * The cause of a file finding. `anyMigrated`: the node was migrated (a manifest carries its identity or
 * the tool's accounts exist). `regenerated`: the components whose manifest lost the planned identity.
 */
export function fileCause(f: FileAction, anyMigrated: boolean, regenerated: readonly string[] = []): string {
  if (!anyMigrated) return CAUSE.notMigrated;
  if (f.action === 'set-owner-recursive') return f.readers.some((c) => regenerated.includes(c)) ? CAUSE.dataWrittenByRootEtcd : CAUSE.dataRestored;
  if (f.action === 'create-directory') return CAUSE.notMigrated;
  const cur = f.current!;
  if (cur.uid === 0 && cur.gid === 0 && f.desired.uid !== 0) return CAUSE.keyRewritten;
  if (cur.uid === f.desired.uid && cur.gid === f.desired.gid) return CAUSE.modeLoosened;
  return CAUSE.keyRewritten;
}
