// Decisions about a plan, in one place, so no renderer or command re-derives them.
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

export interface PlanCounts {
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
