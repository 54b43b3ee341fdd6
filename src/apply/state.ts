// Where the tool keeps its own state on the node. Never inside the manifests directory: the kubelet
// runs every file there whose name does not start with a dot, whatever its extension, so a backup
// "kube-apiserver.yaml.bak" would become a second apiserver pod (kubernetes/kubeadm#2823,
// kubernetes/website#45758).
import { join } from 'node:path';

export const STATE_DIR = '/var/lib/kubeadm-nonroot';
export const BACKUPS_DIR = `${STATE_DIR}/backups`;
export const LOCK_FILE = '/run/kubeadm-nonroot.lock';

/** A sortable, filesystem-safe backup id from the clock: 20261125T013500.123Z */
export function backupId(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.(\d{3})Z$/, '.$1Z');
}

export function backupDir(root: string, id: string): string {
  return join(root, BACKUPS_DIR, id);
}
