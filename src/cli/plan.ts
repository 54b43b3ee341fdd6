// kubeadm-nonroot plan: show what apply would do. Never writes anything.
import type { Command } from 'commander';
import { buildPlan } from '../plan/plan.js';
import { isBlocked } from '../plan/summary.js';
import { renderPlanHuman } from '../render/plan-human.js';
import { loadConfig, loadNode } from './inputs.js';
import type { Wrap } from './main.js';
import type { GlobalOptions } from './options.js';
import { emit, style } from './output.js';

export function register(program: Command, run: Wrap): void {
  program
    .command('plan')
    .description('show the migration plan: accounts, file ownership changes and manifest edits (read-only)')
    .action(run(planCommand));
}

export async function planCommand(opts: GlobalOptions): Promise<number> {
  const config = await loadConfig(opts);
  const node = await loadNode(opts, config);
  const plan = buildPlan(node, config, { now: new Date() });
  emit(opts, plan, () => renderPlanHuman(plan, style(opts)));
  return isBlocked(plan) ? 2 : 0;
}
