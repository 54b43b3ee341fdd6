// Runtime checks: each component's running process against what its manifest asks for, read from
// /proc/PID/status (proc(5)): Uid/Gid/Groups, CapEff/CapBnd, NoNewPrivs, Seccomp.
import { listProcesses, runsComponent } from '../discover/processes.js';
import { parsePod } from '../model/pod.js';
import type { NodeState } from '../model/node.js';
import { desiredSecurity } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { CAUSE } from './causes.js';
import type { Finding } from './types.js';
import { statusForPlan } from './userns.js';

/** Capability numbers from include/uapi/linux/capability.h for the names manifests use. */
const CAP_BITS: Record<string, number> = { CHOWN: 0, DAC_OVERRIDE: 1, FOWNER: 3, KILL: 5, SETGID: 6, SETUID: 7, NET_BIND_SERVICE: 10, NET_ADMIN: 12, NET_RAW: 13, SYS_ADMIN: 21 };

export interface ProcStatus {
  uids: number[];
  gids: number[];
  groups: number[];
  capEff: bigint;
  capBnd: bigint;
  noNewPrivs: number;
  seccomp: number;
}

export function parseStatus(text: string): ProcStatus {
  // [ \t]*, not \s*: an empty field ("Groups:\t") must not run on into the next line.
  const field = (k: string) => new RegExp(`^${k}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const nums = (k: string) => field(k).split(/\s+/).filter(Boolean).map(Number);
  return { uids: nums('Uid'), gids: nums('Gid'), groups: nums('Groups'), capEff: BigInt('0x' + (field('CapEff') || '0')), capBnd: BigInt('0x' + (field('CapBnd') || '0')), noNewPrivs: Number(field('NoNewPrivs') || 0), seccomp: Number(field('Seccomp') || 0) };
}

export function capMask(names: string[]): bigint {
  return names.reduce((m, n) => (CAP_BITS[n] === undefined ? m : m | (1n << BigInt(CAP_BITS[n]!))), 0n);
}

export async function runtimeFindings(plan: Plan, node: NodeState, proc: string, rootFlag = ''): Promise<Finding[]> {
  const out: Finding[] = [];
  const procs = await listProcesses(proc);
  for (const c of plan.components) {
    const id = c.identity;
    if (!id) continue;
    const m = node.manifests.find((x) => x.path === c.manifest);
    if (!m) continue;
    const argv = parsePod(m.text, m.path).argv;
    const mine = procs.filter((p) => runsComponent(p, c.component, argv));
    if (mine.length === 0) {
      out.push({ kind: 'process', subject: c.component, message: `no running ${c.component} process found in ${proc}`, cause: 'the component is not running (crash loop? check crictl ps -a and the kubelet log)', fix: `crictl ps -a --name ${c.component}; journalctl -u kubelet` });
      continue;
    }
    const want = desiredSecurity(id, plan.kubernetesVersion);
    const allowedCaps = capMask(want.capabilitiesAdd);
    for (const p of mine) {
      // In a user-namespace mode the IDs are compared as the pod's own namespace sees them (src/verify/userns.ts).
      const st = await statusForPlan(plan, proc, p.pid);
      if (!st) continue; // exited meanwhile
      const subject = `pid ${p.pid} (${c.component})`;
      const bad: string[] = [];
      if (!st.uids.every((u) => u === id.uid)) bad.push(`Uid ${st.uids.join(' ')}, expected ${id.uid}`);
      if (!st.gids.every((g) => g === id.gid)) bad.push(`Gid ${st.gids.join(' ')}, expected ${id.gid}`);
      const wantGroups = want.supplementalGroups;
      const extra = st.groups.filter((g) => g !== id.gid && !wantGroups.includes(g));
      const missing = wantGroups.filter((g) => !st.groups.includes(g));
      if (extra.length || missing.length) bad.push(`Groups ${st.groups.join(' ') || '(none)'}, expected ${wantGroups.join(' ') || '(none)'}`);
      if ((st.capEff & ~allowedCaps) !== 0n) bad.push(`CapEff ${st.capEff.toString(16).padStart(16, '0')} holds capabilities beyond ${want.capabilitiesAdd.join(',') || 'none'}`);
      if ((st.capBnd & ~allowedCaps) !== 0n) bad.push(`CapBnd ${st.capBnd.toString(16).padStart(16, '0')} keeps capabilities beyond ${want.capabilitiesAdd.join(',') || 'none'} (drop: [ALL])`);
      if (want.allowPrivilegeEscalation === false && st.noNewPrivs !== 1) bad.push('NoNewPrivs 0, expected 1 (allowPrivilegeEscalation: false)');
      if (want.seccomp === 'field' && st.seccomp !== 2) bad.push(`Seccomp ${st.seccomp}, expected 2 (filter; seccompProfile RuntimeDefault)`);
      if (!bad.length) continue;
      // A manifest the plan still has to rewrite: the process does what that manifest says (observed
      // after kubeadm upgrade apply without --patches, v1.36.3/v1.37.2); apply is the fix, not waiting.
      if (plan.manifests.some((x) => x.component === c.component)) out.push({ kind: 'process', subject, message: bad.join('; '), cause: CAUSE.processFollowsManifest, fix: `kubeadm-nonroot apply${rootFlag}` });
      else out.push({ kind: 'process', subject, message: bad.join('; '), cause: CAUSE.processStale, fix: 'wait for the kubelet to restart the pod; if it persists, check the container runtime honours the securityContext' });
    }
  }
  return out;
}
