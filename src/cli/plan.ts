// kubeadm-nonroot plan: show what apply would do (runPlan, src/commands/plan.ts). Never writes anything.
import type { Command } from 'commander';
import type { Outcome, Wrap } from './main.js';
import type { GlobalOptions } from './options.js';
import { emit, note, noteBlocked, style } from './output.js';

export function register(program: Command, run: Wrap): void {
  program
    .command('plan')
    .description('show the migration plan: accounts, file ownership changes and manifest edits (read-only)')
    .option('--kubernetes-version <version>', 'also tell whether this upgrade target is one the tool handles, and what changes for it')
    .option('--user-namespaces <mode>', 'off, with-accounts or only: run the static pods in user namespaces (hostUsers: false); overrides the config\'s userNamespaces')
    .option('--proc <dir>', 'with --user-namespaces: read the kernel release and unprivileged port start from this procfs', '/proc')
    .option('--node-status <file>', 'with --user-namespaces: the node\'s `kubectl get node NAME -o json`, for the runtime\'s user-namespace support (default: asked with kubectl and admin.conf when --root is /)')
    .action(run(planCommand));
}

export async function planCommand(opts: GlobalOptions, cmd: Command): Promise<Outcome> {
  const o = cmd.opts<{ kubernetesVersion?: string; userNamespaces?: string; proc: string; nodeStatus?: string }>();
  const [{ runPlan }, { renderPlanHuman }] = await Promise.all([import('../commands/plan.js'), import('../render/plan-human.js')]);
  const { plan, verdict } = await runPlan({ root: opts.root, config: opts.config, targetVersion: o.kubernetesVersion, userNamespaces: o.userNamespaces, proc: o.proc, nodeStatus: o.nodeStatus });
  await emit(opts, plan, () => renderPlanHuman(plan, style(opts)));
  // Exit 2 always comes with its reason on stderr, also when stdout carries JSON or YAML for a script.
  if (verdict === 'blocked') {
    noteBlocked(plan);
    return 'refused';
  }
  if (verdict === 'unsupported-target' && plan.target) {
    note(`kubeadm-nonroot: the upgrade target ${plan.target.version} is not one this tool handles (${plan.target.support}); ${plan.target.notes[0] ?? 'see the plan'}`);
    return 'refused';
  }
  return 'done';
}
