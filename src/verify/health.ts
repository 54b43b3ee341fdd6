// One line of health per component, from verify's findings (status): which findings concern which
// component, judged by the plan verify made — its manifest, its processes, its accounts, the files it uses.
import type { Component } from '../model/components.js';
import type { Plan } from '../plan/types.js';
import type { Finding, VerifyReport } from './types.js';

export interface ComponentHealth {
  component: Component;
  /** ok: no finding about it; drift: findings; not-migrated: runs as root as kubeadm wrote it; not-selected: the config leaves it alone. */
  health: 'ok' | 'drift' | 'not-migrated' | 'not-selected';
  user: string | null;
  uid: number | null;
  findings: number;
  /** One line: the first finding, or what holds. */
  detail: string;
}

function concerns(f: Finding, c: Plan['components'][number], plan: Plan): boolean {
  if (f.subject === c.manifest || f.subject === c.component || f.subject.endsWith(`(${c.component})`)) return true;
  if (f.kind === 'account' && c.identity) return new RegExp(`\\b(user|group) (${c.identity.user}|${c.identity.group}) `).test(f.message);
  return plan.files.some((x) => x.path === f.subject && x.readers.includes(c.component));
}

export function componentHealth(plan: Plan, report: VerifyReport): ComponentHealth[] {
  return plan.components.map((c) => {
    const mine = report.findings.filter((f) => concerns(f, c, plan));
    const base = { component: c.component, user: c.identity?.user ?? null, uid: c.identity?.uid ?? null, findings: mine.length };
    if (!c.migrate) return { ...base, health: 'not-selected', detail: 'left as it is (not among the config\'s components)' };
    if (mine.length === 0) return { ...base, health: 'ok', detail: `runs as ${c.identity?.user} (uid ${c.identity?.uid})${report.runtimeChecked ? '' : ', as its manifest says (processes not checked)'}` };
    const first = mine[0]!;
    return { ...base, health: report.state === 'not-migrated' ? 'not-migrated' : 'drift', detail: `${mine.length} finding(s); first: ${first.message}` };
  });
}
