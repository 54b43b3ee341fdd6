// Static checks: the node's accounts, files and manifests against the desired state. The desired state
// is what plan computes, so "is there anything to do?" and "is there drift?" are the same question,
// answered by one function (src/plan/summary.ts) — verify only explains it.
import type { ManifestAction, Plan } from '../plan/types.js';
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
    const what = cur === null ? 'does not exist' : `is ${cur.user ?? cur.uid}:${cur.group ?? cur.gid} ${cur.mode.toString(8).padStart(4, '0')}`;
    const below = f.action === 'set-owner-recursive' && f.tree ? ` (${f.tree.owners.filter((o) => o.uid !== f.desired.uid || o.gid !== f.desired.gid).reduce((n, o) => n + o.count, 0)} of ${f.tree.entries} entries below have another owner)` : '';
    out.push({
      kind: secretExposed ? 'secret-exposed' : f.action === 'set-owner-recursive' ? 'data-dir' : 'file',
      subject: f.path,
      message: `${secretExposed ? 'secret readable by other users: ' : ''}${what}, should be ${f.desired.user ?? f.desired.uid}:${f.desired.group ?? f.desired.gid} ${f.desired.mode.toString(8).padStart(4, '0')}${below}`,
      cause: f.newGrant ? `a NEW GRANT the migration record does not hold, requested by ${f.newGrant.source}` : fileCause(f, anyMigrated, regenerated),
      fix: f.newGrant ? `do not just apply: check why ${f.newGrant.source} names ${f.path} (a component may have edited a file it could write); only if it must have it: ${apply} --grant ${f.path}` : apply,
    });
  }
  for (const m of plan.manifests) {
    out.push({ kind: 'manifest', subject: m.path, message: `securityContext differs from the plan: ${m.changes.join('; ')}`, cause: manifestCause(plan, m, undone), fix: `${apply} (and pass kubeadm-nonroot patches to kubeadm upgrade --patches next time)` });
  }
  return out;
}
