// verify in a user-namespace mode: each component's process must run in a user namespace of its own —
// its /proc/PID/uid_map (read through --proc) not the identity map "0 0 4294967295" — mapped onto host
// IDs from 65536 up, where the kubelet allocates pods' ranges (KEP-127: IDs below 65536 stay the
// host's own, root and the node's accounts included). The mode itself is the record's config.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIdentityMap, insideId, readIdMaps, type IdRange } from '../discover/idmap.js';
import { listProcesses, runsComponent } from '../discover/processes.js';
import { parsePod } from '../model/pod.js';
import type { NodeState } from '../model/node.js';
import type { Plan } from '../plan/types.js';
import { parseStatus, type ProcStatus } from './runtime.js';
import type { Finding } from './types.js';

/** The first host ID the kubelet gives pods' user namespaces (pkg/kubelet/userns: the 0–65535 range is the host's). */
export const FIRST_POD_HOST_ID = 65536;

const MODE_CAUSE = 'the pod runs without hostUsers: false (its manifest was regenerated or edited, or the kubelet has not restarted it yet)';

/** What is wrong with a process's ID maps in a user-namespace mode; empty when its namespace is its own and unprivileged. */
export function idMapProblems(maps: { uid: IdRange[]; gid: IdRange[] } | null): string[] {
  if (!maps) return ['its uid_map/gid_map cannot be read'];
  const out: string[] = [];
  for (const [what, ranges] of [['uid_map', maps.uid], ['gid_map', maps.gid]] as const) {
    if (isIdentityMap(ranges)) out.push(`${what} is the identity map 0 0 4294967295: it runs in the host's user namespace`);
    else if (ranges.some((r) => r.outside < FIRST_POD_HOST_ID)) out.push(`${what} maps onto host IDs below ${FIRST_POD_HOST_ID} (${ranges.map((r) => `${r.inside} ${r.outside} ${r.count}`).join(', ')}): the node's own IDs, root included`);
  }
  return out;
}

/** /proc/PID/status IDs as the process's own namespace sees them (what its manifest's runAsUser names). */
export function statusInside(st: ProcStatus, maps: { uid: IdRange[]; gid: IdRange[] }): ProcStatus {
  const uid = (u: number) => insideId(maps.uid, u) ?? -1;
  const gid = (g: number) => insideId(maps.gid, g) ?? -1;
  return { ...st, uids: st.uids.map(uid), gids: st.gids.map(gid), groups: st.groups.map(gid) };
}

/** Findings for every migrated component's processes when the plan runs them in user namespaces. */
export async function userNamespaceFindings(plan: Plan, node: NodeState, proc: string): Promise<Finding[]> {
  if (plan.userNamespaces === undefined) return [];
  const out: Finding[] = [];
  const procs = await listProcesses(proc);
  for (const c of plan.components.filter((x) => x.migrate)) {
    const m = node.manifests.find((x) => x.path === c.manifest);
    if (!m) continue;
    const argv = parsePod(m.text, m.path).argv;
    const mine = procs.filter((p) => runsComponent(p, c.component, argv));
    // With an identity, runtimeFindings reports a missing process already.
    if (mine.length === 0 && !c.identity) out.push({ kind: 'process', subject: c.component, message: `no running ${c.component} process found in ${proc}`, cause: 'the component is not running (crash loop? check crictl ps -a and the kubelet log)', fix: `crictl ps -a --name ${c.component}; journalctl -u kubelet` });
    for (const p of mine) {
      const bad = idMapProblems(await readIdMaps(proc, p.pid));
      if (bad.length) out.push({ kind: 'process', subject: `pid ${p.pid} (${c.component})`, message: bad.join('; '), cause: MODE_CAUSE, fix: 'kubeadm-nonroot apply (it writes hostUsers: false again), then check the kubelet restarted the pod' });
    }
  }
  return out;
}

/** The status of a process, with its IDs as its own namespace sees them when the plan runs it in one (runtime checks). */
export async function statusForPlan(plan: Plan, proc: string, pid: number): Promise<ProcStatus | null> {
  let st: ProcStatus;
  try {
    st = parseStatus(readFileSync(join(proc, String(pid), 'status'), 'utf8'));
  } catch {
    return null; // exited meanwhile
  }
  if (plan.userNamespaces === undefined) return st;
  const maps = await readIdMaps(proc, pid);
  return maps && !isIdentityMap(maps.uid) ? statusInside(st, maps) : st;
}
