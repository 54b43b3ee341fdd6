// Where the tool keeps its own state on the node. Never inside the manifests directory: the kubelet
// runs every file there whose name does not start with a dot, whatever its extension, so a backup
// "kube-apiserver.yaml.bak" would become a second apiserver pod (kubernetes/kubeadm#2823,
// kubernetes/website#45758).
import { dirname, join } from 'node:path';
import { confinedHostPath } from '../paths.js';

export const STATE_DIR = '/var/lib/kubeadm-nonroot';
export const BACKUPS_DIR = `${STATE_DIR}/backups`;
export const LOCK_FILE = '/run/kubeadm-nonroot.lock';

/** A sortable, filesystem-safe backup id from the clock: 20261125T013500.123Z */
export function backupId(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.(\d{3})Z$/, '.$1Z');
}

/** Host path of the backups directory, inside the root (refused when a link there leads out of it). */
export function backupsHostDir(root: string): string {
  return confinedHostPath(root, BACKUPS_DIR);
}

export function backupDir(root: string, id: string): string {
  if (!/^[0-9A-Za-z.:-]+$/.test(id) || id === '.' || id === '..') throw new Error(`backup id "${id}" is not a backup id`);
  return join(backupsHostDir(root), id);
}

/**
 * Refuse (InputError, exit 2) before any change when something the tool or shadow-utils writes under
 * the root — /etc (passwd, shadow, their locks), the state dir, the lock's directory — is reached
 * through a link that leads out of it.
 */
export function checkConfined(root: string): void {
  for (const p of ['/etc', STATE_DIR, BACKUPS_DIR, dirname(LOCK_FILE)]) confinedHostPath(root, p);
}
