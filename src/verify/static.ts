// Static checks: the node's accounts, files and manifests against the desired state. The desired state
// is what plan computes, so "is there anything to do?" and "is there drift?" are the same question,
// answered by one function (src/plan/summary.ts) — verify only explains it.
import type { ManifestAction, Ownership, Plan } from '../plan/types.js';
import { CAUSE, fileCause } from './causes.js';
import type { Finding } from './types.js';
import { GROUP_PATH, PASSWD_PATH } from '../model/node-paths.js';

/** Components whose manifest already carries the planned identity (nothing to change in it). */
function migratedManifestsOf(plan: Plan) {
  return plan.components.filter((c) => c.identity && !plan.manifests.some((m) => m.component === c.component));
}

/** No component's manifest is migrated and none of the planned users exists: a node this tool never migrated (or rolled back). */
export function neverMigrated(plan: Plan): boolean {
  return migratedManifestsOf(plan).length === 0 && !plan.accounts.some((a) => a.action === 'reuse-user');
}

/** Why a manifest differs from the plan, from the plan's structured facts (never from its display text). */
function manifestCause(plan: Plan, m: ManifestAction, undone: boolean): string {
  if (undone) return CAUSE.notMigrated;
  if (m.identityLost) return CAUSE.manifestRegenerated;
  // The plan creates the component's user: this component was never migrated (or was rolled back).
  const user = plan.components.find((c) => c.component === m.component)?.identity?.user;
  if (plan.accounts.some((a) => a.action === 'create-user' && a.name === user)) return CAUSE.notMigrated;
  return CAUSE.manifestEdited;
}

/**
 * "user:group mode" of `o`, worded so that it differs from `other` whenever the two differ: a name that
 * two IDs carry (an account deleted and made again with another ID, a duplicate passwd line) gets its
 * number, "kubeadm-etcd(102)", and the mode shows every special bit. A drift line never reads "is
 * kubeadm-etcd:kubeadm-etcd 0700, should be kubeadm-etcd:kubeadm-etcd 0700".
 */
function describeOwnership(o: Ownership, other: Ownership | null): string {
  const user = o.user ?? String(o.uid);
  const group = o.group ?? String(o.gid);
  const sameUserName = other !== null && user === (other.user ?? String(other.uid)) && o.uid !== other.uid;
  const sameGroupName = other !== null && group === (other.group ?? String(other.gid)) && o.gid !== other.gid;
  return `${sameUserName ? `${user}(${o.uid})` : user}:${sameGroupName ? `${group}(${o.gid})` : group} ${(o.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

/** `undone`: every apply on this node was rolled back (the accounts may have been kept), so nothing is "drift". */
export function staticFindings(plan: Plan, rootFlag: string, undone = false): Finding[] {
  const apply = `kubeadm-nonroot apply${rootFlag}`;
  const out: Finding[] = [];
  const anyMigrated = !undone && !neverMigrated(plan);
  // Manifests that run without the identity the node's accounts say they had (kubeadm regenerated them).
  const regenerated = plan.manifests.filter((m) => m.identityLost).map((m) => m.component);
  for (const p of plan.problems) {
    out.push({ kind: 'problem', subject: p.path ?? '', message: p.message, cause: 'the node cannot be brought to the desired state as it is', fix: p.fix ?? 'see the message' });
  }
  for (const a of plan.accounts) {
    if (a.action === 'create-user' || a.action === 'create-group') {
      out.push({ kind: 'account', subject: a.action === 'create-user' ? PASSWD_PATH : GROUP_PATH, message: `${a.action === 'create-user' ? 'user' : 'group'} ${a.name} does not exist`, cause: anyMigrated ? CAUSE.accountsRemoved : CAUSE.notMigrated, fix: apply });
    } else if (a.action === 'add-group-members') {
      out.push({ kind: 'account', subject: GROUP_PATH, message: `group ${a.name} lacks members ${a.members.join(', ')}`, cause: CAUSE.accountsRemoved, fix: apply });
    }
  }
  for (const f of plan.files) {
    const cur = f.current;
    const secretExposed = f.secret && cur !== null && (cur.mode & 0o007) !== 0;
    const others = f.tree?.owners.filter((o) => o.uid !== f.desired.uid || o.gid !== f.desired.gid).reduce((n, o) => n + o.count, 0) ?? 0;
    const topRight = cur !== null && describeOwnership(cur, f.desired) === describeOwnership(f.desired, cur);
    const below = f.action === 'set-owner-recursive' && f.tree ? `${others} of ${f.tree.entries} entries below have another owner` : '';
    const what = cur === null ? 'does not exist' : `is ${describeOwnership(cur, f.desired)}`;
    const drift = topRight && below ? `${what} as it should be, but ${below}` : `${what}, should be ${describeOwnership(f.desired, cur)}${below ? ` (${below})` : ''}`;
    out.push({
      kind: secretExposed ? 'secret-exposed' : f.action === 'set-owner-recursive' ? 'data-dir' : 'file',
      subject: f.path,
      message: `${secretExposed ? 'secret readable by other users: ' : ''}${drift}`,
      cause: f.newGrant ? `a NEW GRANT the migration record does not hold, requested by ${f.newGrant.source}` : fileCause(f, anyMigrated, regenerated),
      fix: f.newGrant ? `do not just apply: check why ${f.newGrant.source} names ${f.path} (a component may have edited a file it could write); only if it must have it: ${apply} --grant ${f.path}` : apply,
    });
  }
  for (const m of plan.manifests) {
    out.push({ kind: 'manifest', subject: m.path, message: `securityContext differs from the plan: ${m.changes.join('; ')}`, cause: manifestCause(plan, m, undone), fix: `${apply} (and pass kubeadm-nonroot patches to kubeadm upgrade --patches next time)` });
  }
  return out;
}
