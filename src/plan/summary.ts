// Decisions about a plan, in one place, so no renderer or command re-derives them.
import { stableStringify } from './fingerprint.js';
import type { Plan } from './types.js';

/** Is there anything to do? Reused accounts are not changes. */
export function hasChanges(plan: Plan): boolean {
  return (
    plan.accounts.some((a) => a.action !== 'reuse-user' && a.action !== 'reuse-group') ||
    plan.files.length > 0 ||
    plan.manifests.length > 0
  );
}

/** A plan with problems must not be applied. */
export function isBlocked(plan: Plan): boolean {
  return plan.problems.length > 0;
}

interface PlanCounts {
  accountsToCreate: number;
  accountsReused: number;
  filesToChange: number;
  manifestsToEdit: number;
  problems: number;
}

export function countPlan(plan: Plan): PlanCounts {
  const reused = plan.accounts.filter((a) => a.action === 'reuse-user' || a.action === 'reuse-group').length;
  return {
    accountsToCreate: plan.accounts.length - reused,
    accountsReused: reused,
    filesToChange: plan.files.length,
    manifestsToEdit: plan.manifests.length,
    problems: plan.problems.length,
  };
}

/**
 * Actions of a saved plan that the node's current plan does not contain, word for word. apply --plan
 * runs a reviewed plan; a plan file may leave actions out, but one that adds or alters an action (a
 * hand-edited or foreign file) is refused: the tool only ever does what its own planning derives.
 */
export function actionsNotIn(saved: Plan, current: Plan): string[] {
  const key = stableStringify;
  const known = new Set([...current.accounts, ...current.files, ...current.manifests].map(key));
  const describe = (a: { action: string; name?: string; path?: string }) => `${a.action} ${a.name ?? a.path ?? ''}`.trim();
  return [...saved.accounts, ...saved.files, ...saved.manifests].filter((a) => !known.has(key(a))).map(describe);
}
