// Whether a saved plan (apply|revert --plan FILE) may be applied to this node. Pure: the caller reads
// the file and maps the outcome to an exit code. A saved plan is accepted only when it is this node's
// plan with actions at most removed AND it is closed: every user, group and ID it gives a file or a pod
// exists on the node or is created by the plan itself — a plan with its create-user/create-group
// actions removed would otherwise hand keys to IDs no account has, and run pods as them.
import type { Config } from '../model/config.js';
import type { NodeState } from '../model/node.js';
import { fingerprintInputs, stableStringify } from './fingerprint.js';
import { actionsNotIn } from './summary.js';
import { PLAN_API_VERSION, PLAN_KIND, REVERT_PLAN_KIND, type Plan } from './types.js';

export type SavedPlanOutcome =
  | { accepted: true; plan: Plan }
  /** input: not a plan of this tool, or not this node's; changed: the node changed since it was made. */
  | { accepted: false; refusal: 'input' | 'changed'; message: string };

/** IDs and names that exist on the node (its files or NSS). */
function existing(node: NodeState) {
  return {
    uids: new Set([0, ...node.passwd.map((p) => p.uid), ...(node.nss?.users.map((u) => u.uid) ?? [])]),
    gids: new Set([0, ...node.group.map((g) => g.gid), ...(node.nss?.groups.map((g) => g.gid) ?? [])]),
    users: new Set(['root', ...node.passwd.map((p) => p.name)]),
    groups: new Set(['root', ...node.group.map((g) => g.name)]),
  };
}

/**
 * What a plan uses that neither exists on the node nor is created by the plan (or is deleted by it), as
 * "uid 101 (kubeadm-etcd's identity)" lines; empty when the plan is closed.
 */
export function closureGaps(plan: Plan, node: NodeState): string[] {
  const have = existing(node);
  for (const a of plan.accounts) {
    if (a.action === 'create-user') (have.uids.add(a.uid), have.users.add(a.name));
    if (a.action === 'create-group') (have.gids.add(a.gid), have.groups.add(a.name));
  }
  // A plan that deletes an account (revert) uses it no more; none of its other actions may.
  for (const a of plan.accounts) {
    if (a.action === 'delete-user') (have.uids.delete(a.uid), have.users.delete(a.name));
    if (a.action === 'delete-group') (have.gids.delete(a.gid), have.groups.delete(a.name));
  }
  const gaps: string[] = [];
  const needUid = (uid: number, what: string) => (have.uids.has(uid) ? null : gaps.push(`uid ${uid} (${what})`));
  const needGid = (gid: number, what: string) => (have.gids.has(gid) ? null : gaps.push(`gid ${gid} (${what})`));
  const needGroup = (name: string, what: string) => (have.groups.has(name) ? null : gaps.push(`group ${name} (${what})`));
  const needUser = (name: string, what: string) => (have.users.has(name) ? null : gaps.push(`user ${name} (${what})`));
  for (const a of plan.accounts) {
    if (a.action === 'create-user' || a.action === 'reuse-user') {
      needGid(a.gid, `primary group of user ${a.name}`);
      needGroup(a.group, `primary group of user ${a.name}`);
      if (a.action === 'create-user') for (const g of a.supplementaryGroups) needGroup(g, `a group of user ${a.name}`);
    }
    if (a.action === 'reuse-user') needUid(a.uid, `user ${a.name}, reused`);
    if (a.action === 'add-group-members' || a.action === 'reuse-group') {
      needGroup(a.name, `${a.action} ${a.name}`);
      if (a.action === 'add-group-members') for (const m of a.members) needUser(m, `a member added to ${a.name}`);
    }
  }
  for (const c of plan.components) {
    if (!c.identity || c.identity.uid === 0) continue;
    needUid(c.identity.uid, `${c.component} runs as it`);
    needGid(c.identity.gid, `${c.component} runs with it`);
    for (const s of c.identity.supplementalGroups) needGid(s.gid, `${c.component}'s supplemental group ${s.name}`);
  }
  for (const f of plan.files) {
    needUid(f.desired.uid, `owner given to ${f.path}`);
    needGid(f.desired.gid, `group given to ${f.path}`);
  }
  return [...new Set(gaps)];
}

/**
 * Accept `saved` (the parsed file) for `verb` on this node, whose own plan is `fresh`. Decisions (blocked?
 * identities?) always come from `fresh`; the saved plan may only leave actions out, and must stay closed.
 */
export function acceptSavedPlan(saved: unknown, ctx: { verb: 'apply' | 'revert'; fresh: Plan; node: NodeState; config: Config }): SavedPlanOutcome {
  const kind = ctx.verb === 'apply' ? PLAN_KIND : REVERT_PLAN_KIND;
  const plan = saved as Plan | null;
  if (plan?.apiVersion !== PLAN_API_VERSION) return { accepted: false, refusal: 'input', message: `not a plan of this tool (apiVersion ${String(plan?.apiVersion)}, expected ${PLAN_API_VERSION})` };
  if (plan.kind !== kind) return { accepted: false, refusal: 'input', message: `is a ${String(plan.kind)}, but ${ctx.verb} needs a ${kind}` };
  if (plan.fingerprint !== fingerprintInputs(ctx.node, ctx.config)) {
    return { accepted: false, refusal: 'changed', message: 'the node changed since this plan was made (fingerprint differs); make a new plan and review it' };
  }
  const foreign = actionsNotIn(plan, ctx.fresh);
  if (stableStringify(plan.components) !== stableStringify(ctx.fresh.components)) foreign.unshift('components/identities differ');
  if (foreign.length) return { accepted: false, refusal: 'input', message: `holds actions this node's plan does not (${listed(foreign)}); only plans made by "plan -o json" for this node, with actions at most removed, are applied` };
  const gaps = closureGaps(plan, ctx.node);
  if (gaps.length) return { accepted: false, refusal: 'input', message: `is not closed: it uses ${listed(gaps)}, which neither exist on the node nor are created by the plan; keep the create-user/create-group actions in the file (or make a new plan with "plan -o json")` };
  return { accepted: true, plan };
}

function listed(items: string[]): string {
  return `${items.slice(0, 3).join('; ')}${items.length > 3 ? '; …' : ''}`;
}
