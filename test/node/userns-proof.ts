// The user-namespace modes on the real node, as the KERNEL sees them: each component's /proc/<pid>/uid_map
// and gid_map, and what its host identity (the IDs its process has outside its user namespace) may read,
// asked with util-linux setpriv inside the node by the plain path (no idmapping: the host's view), and the
// owner and mode the kernel reports for the same file through the component's own root (/proc/<pid>/root:
// its mounts, idmapped by the kubelet for a pod with hostUsers: false, KEP-127). setpriv cannot walk
// /proc/<pid>/root itself: the container's process is not dumpable (fs.suid_dumpable 0), so the kernel's
// ptrace check refuses even its own UID (observed: Permission denied on /proc/<pid>/root and environ).
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import type { KubeNode } from '../../scripts/kube-node.js';
import { COMPONENTS, type Comp } from '../../scripts/lib/control-plane.js';
import { procOf, type ProcStatus } from './support.js';

export interface IdMapLine { inside: number; outside: number; count: number }

/** The user namespace that is the host's own: every ID maps to itself. */
const IDENTITY: IdMapLine = { inside: 0, outside: 0, count: 4294967295 };

/** /proc/<pid>/uid_map or gid_map of a node process (host PID namespace of the node), line by line. */
export function idMapOf(kn: KubeNode, pid: number, which: 'uid_map' | 'gid_map'): IdMapLine[] {
  return readFileSync(kn.node.path(`/proc/${pid}/${which}`), 'utf8').trim().split('\n').map((l) => {
    const [inside, outside, count] = l.trim().split(/\s+/).map(Number);
    return { inside: inside!, outside: outside!, count: count! };
  });
}

export const isIdentityMap = (m: IdMapLine[]): boolean => m.length === 1 && m[0]!.inside === IDENTITY.inside && m[0]!.outside === IDENTITY.outside && m[0]!.count === IDENTITY.count;

/** The one process of `comp`, asserted unique. */
export function oneProc(kn: KubeNode, comp: Comp): ProcStatus {
  const procs = procOf(kn, comp);
  assert.equal(procs.length, 1, `one ${comp} process`);
  return procs[0]!;
}

/**
 * Whether the kernel lets a process with exactly `p`'s host identity (real and effective UID and GID,
 * supplementary groups; /proc shows them in the host's user namespace) read `path`, asked with
 * `setpriv … -- test -r`: access(2) as that identity, no capability.
 */
export async function readableAs(kn: KubeNode, p: Pick<ProcStatus, 'uids' | 'gids' | 'groups'>, path: string): Promise<boolean> {
  const groups = p.groups.length > 0 ? ['--groups', p.groups.join(',')] : ['--clear-groups'];
  const r = await kn.node.exec(['setpriv', '--reuid', String(p.uids[0]), '--regid', String(p.gids[0]), ...groups, '--inh-caps', '-all', '--', 'test', '-r', path]);
  if (r.code > 1) throw new Error(`setpriv as ${p.uids[0]}:${p.gids[0]} test -r ${path}: exit ${r.code} ${r.stderr}`);
  return r.code === 0;
}

/**
 * Whether a component's process may read `path` as its own mounts present it: the owner, group and mode
 * the kernel reports through /proc/<pid>/root (an idmapped mount shows the on-disk owner mapped into the
 * pod's range), against the process's host IDs — owner bits if it owns the file, else group bits if one
 * of its groups does, else other bits (path_resolution(7); no capability: the pod has none on the host).
 */
export function readableThroughPod(kn: KubeNode, p: ProcStatus, path: string): { readable: boolean; seen: string } {
  const st = statSync(kn.node.path(`/proc/${p.pid}/root${path}`));
  const groups = new Set([p.gids[0], ...p.groups]);
  const bit = st.uid === p.uids[0] ? 0o400 : groups.has(st.gid) ? 0o040 : 0o004;
  return { readable: (st.mode & bit) !== 0, seen: `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}` };
}

/** The file each component needs most and nobody else may read (its serving key, its kubeconfig). */
export const OWN_SECRET: Record<Comp, string> = {
  etcd: '/etc/kubernetes/pki/etcd/server.key',
  'kube-apiserver': '/etc/kubernetes/pki/apiserver.key',
  'kube-controller-manager': '/etc/kubernetes/controller-manager.conf',
  'kube-scheduler': '/etc/kubernetes/scheduler.conf',
};
/** Another component's secret, for each component: what a compromised one would want. */
export const OTHERS_SECRET: Record<Comp, string> = {
  etcd: '/etc/kubernetes/pki/apiserver.key',
  'kube-apiserver': '/etc/kubernetes/pki/etcd/server.key',
  'kube-controller-manager': '/etc/kubernetes/pki/apiserver.key',
  'kube-scheduler': '/etc/kubernetes/pki/sa.key',
};
/** World-readable, on the same directories: the positive control that setpriv and the path walk work. */
export const PUBLIC_FILE = '/etc/kubernetes/pki/ca.crt';

export interface UsernsView { comp: Comp; proc: ProcStatus; uidMap: IdMapLine[]; gidMap: IdMapLine[]; pkiMount: string }

/** Each component's process, its ID maps and how /etc/kubernetes (or pki) is mounted in its container. */
export function usernsViews(kn: KubeNode): UsernsView[] {
  return COMPONENTS.map((comp) => {
    const proc = oneProc(kn, comp);
    const mountinfo = readFileSync(kn.node.path(`/proc/${proc.pid}/mountinfo`), 'utf8').split('\n');
    const pkiMount = mountinfo.find((l) => / \/etc\/kubernetes\/pki(\/etcd)? /.test(l)) ?? mountinfo.find((l) => / \/etc\/kubernetes\//.test(l)) ?? '';
    return { comp, proc, uidMap: idMapOf(kn, proc.pid, 'uid_map'), gidMap: idMapOf(kn, proc.pid, 'gid_map'), pkiMount };
  });
}

/**
 * Asserts a component runs in a user namespace of its own: one map line of 65536 IDs from 0 onto host
 * IDs from 65536 up (KEP-127: the kubelet's range), and its host UID/GID are that base plus its in-pod
 * IDs (`inside`: the IDs the pod's securityContext asks for, from the node's /etc/passwd, or root).
 */
export function assertOwnUserns(v: UsernsView, inside: { uid: number; gid: number }): void {
  for (const [name, map, hostId, inId] of [['uid_map', v.uidMap, v.proc.uids[0], inside.uid], ['gid_map', v.gidMap, v.proc.gids[0], inside.gid]] as const) {
    assert.ok(!isIdentityMap(map), `${v.comp}: ${name} is not the identity map`);
    assert.equal(map.length, 1, `${v.comp}: one ${name} line`);
    assert.equal(map[0]!.inside, 0, `${v.comp}: ${name} starts at 0`);
    assert.equal(map[0]!.count, 65536, `${v.comp}: ${name} maps 65536 IDs`);
    assert.ok(map[0]!.outside >= 65536, `${v.comp}: ${name} maps onto host IDs from 65536 up`);
    assert.equal(hostId, map[0]!.outside + inId, `${v.comp}: host ID = ${name} base + in-pod ID ${inId}`);
  }
}

/** One line for the observations: a component's maps, host IDs and the mount its keys come through. */
export function describeView(v: UsernsView): string {
  const fmt = (m: IdMapLine[]) => m.map((l) => `${l.inside} ${l.outside} ${l.count}`).join('; ');
  return `${v.comp}: uid_map "${fmt(v.uidMap)}", gid_map "${fmt(v.gidMap)}", host Uid ${v.proc.uids[0]} Gid ${v.proc.gids[0]} Groups [${v.proc.groups.join(',')}]; mount: ${v.pkiMount.split(' ').slice(3, 10).join(' ')}`;
}
