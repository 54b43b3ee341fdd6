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
    .option('--kubernetes-version <version>', 'also tell whether this upgrade target is one the tool handles, and what changes for it')
    .action(run(planCommand));
}

export async function planCommand(opts: GlobalOptions, cmd: Command): Promise<number> {
  const o = cmd.opts<{ kubernetesVersion?: string }>();
  const config = await loadConfig(opts);
  const node = await loadNode(opts, config);
  const plan = buildPlan(node, config, { now: new Date(), targetVersion: o.kubernetesVersion });
  emit(opts, plan, () => renderPlanHuman(plan, style(opts)));
  return isBlocked(plan) || (plan.target && plan.target.support !== 'known') ? 2 : 0;
}
