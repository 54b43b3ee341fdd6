// Which host paths a sandbox node holds for each control-plane component, from sources the tool does
// not shape — never from its own access analysis (src/model/access.ts), or a mistake there would build
// the very node that hides it:
//   - a fixture case's manifest as it is in test/fixtures/manifests: its rows of the hand-checked INDEX
//     table (flag, container path, read or write, the host path a person resolved through the mounts);
//   - any other manifest (kubeadm's generated cases, the corpus, manifests a test writes): the test
//     support's own reading of the pod (pod-reading.ts: argv and exec probes, hostPath mounts) and the
//     small rules below.
// Rules, both sources:
//   1. write: --data-dir, --wal-dir, --cert-dir, --log-dir name the directory written; a log file
//      (--audit-log-path, --log-file) is written in its directory, or alone when only the file itself is
//      mounted. Read: a flag ending in -dir names a directory, anything else a file.
//   2. secret (owner-only: kubeadm writes keys and kubeconfigs 0600): a private-key name (*.key,
//      *-key.pem, *.kubeconfig), a key flag (…-key, …-key-file, …-keyfile), a kubeconfig or webhook
//      kubeconfig flag, and the credential files --encryption-provider-config, --token-auth-file,
//      --basic-auth-file, --cloud-config; a written path never is.
//   3. a component is a manifest named after one of kubeadm's four, whose pod has that name and runs that
//      binary (a kubectl dump of a mirror pod, named <component>-<node>, is not one).
import path from 'node:path';
import type { IndexRow } from './index-tables.js';
import { hostPathOf, pathRefs, type PodReading } from './pod-reading.js';

export interface LaidOutPath {
  component: string;
  /** The flag naming it ("--data-dir"), or the exec command's flag for a probe's read. */
  flag: string;
  /** The path as the component names it. */
  containerPath: string;
  /** Node path of what is laid out: the file or directory read, the directory (or file) written. */
  hostPath: string;
  access: 'read' | 'write';
  target: 'file' | 'dir';
  secret: boolean;
}

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
const WRITTEN_DIR_FLAGS = new Set(['--data-dir', '--wal-dir', '--cert-dir', '--log-dir']);
const LOG_FILE_FLAGS = new Set(['--audit-log-path', '--log-file']);
const CREDENTIAL_FLAGS = new Set(['--encryption-provider-config', '--token-auth-file', '--basic-auth-file', '--cloud-config']);

/** The kubeadm component a manifest runs (rule 3), or null (kube-vip, haproxy, a second scheduler). */
export function componentOf(fileName: string, pod: PodReading): string | null {
  const name = fileName.replace(/\.yaml$/, '');
  return COMPONENTS.includes(name) && pod.name === name && path.posix.basename(pod.argv[0] ?? '') === name ? name : null;
}

/** A fixture manifest's paths: its INDEX rows, each a hand-resolved host path. */
export function pathsFromIndex(component: string, pod: PodReading, rows: readonly IndexRow[]): LaidOutPath[] {
  return rows.map((r) => laidOut(component, pod, r.flag, r.containerPath, r.access, r.hostPath));
}

/** Any other manifest's paths: every absolute path its flags and exec probes name, through its hostPath mounts. */
export function pathsFromFlags(component: string, pod: PodReading): LaidOutPath[] {
  return pathRefs(pod).flatMap((r) => {
    const host = hostPathOf(pod, r.path);
    return host === null ? [] : [laidOut(component, pod, r.flag, r.path, r.write ? 'write' : 'read', host)];
  });
}

/** Rules 1 and 2 for one named path. */
function laidOut(component: string, pod: PodReading, flag: string, containerPath: string, access: 'read' | 'write', host: string): LaidOutPath {
  const base = { component, flag, containerPath, access };
  if (access === 'read') return { ...base, hostPath: host, target: flag.endsWith('-dir') ? 'dir' : 'file', secret: isSecret(flag, containerPath) };
  if (WRITTEN_DIR_FLAGS.has(flag) || !LOG_FILE_FLAGS.has(flag)) return { ...base, hostPath: host, target: 'dir', secret: false };
  const fileMounted = pod.hostMounts.some((m) => m.mountPath === path.posix.normalize(containerPath));
  return { ...base, hostPath: fileMounted ? host : path.posix.dirname(host), target: fileMounted ? 'file' : 'dir', secret: false };
}

function isSecret(flag: string, file: string): boolean {
  const bare = flag.replace(/^--/, '');
  if (/(\.key|-key\.pem|\.kubeconfig)$/.test(file)) return true;
  if (bare.includes('kubeconfig') || bare.endsWith('webhook-config-file') || CREDENTIAL_FLAGS.has(flag)) return true;
  return flag !== '--service-account-key-file' && /(^|-)key(-?file)?$/.test(bare);
}
