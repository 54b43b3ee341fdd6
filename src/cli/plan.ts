// kubeadm-nonroot plan: show what apply would do. Never writes anything.
import type { Command } from 'commander';
import { loadConfig, loadNode } from './inputs.js';
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
  const [{ buildPlan }, { isBlocked }, { renderPlanHuman }] = await Promise.all([import('../plan/plan.js'), import('../plan/summary.js'), import('../render/plan-human.js')]);
  const { config, record } = await loadConfig(opts, o.userNamespaces);
  const node = await loadNode(opts, config, { proc: o.proc, ...(o.nodeStatus === undefined ? {} : { nodeStatus: o.nodeStatus }) });
  const plan = buildPlan(node, config, { now: new Date(), targetVersion: o.kubernetesVersion, record, consentedGrants: config.grants ?? [] });
  await emit(opts, plan, () => renderPlanHuman(plan, style(opts)));
  // Exit 2 always comes with its reason on stderr, also when stdout carries JSON or YAML for a script.
  if (isBlocked(plan)) {
    noteBlocked(plan);
    return 'refused';
  }
  if (plan.target && plan.target.support !== 'known') {
    note(`kubeadm-nonroot: the upgrade target ${plan.target.version} is not one this tool handles (${plan.target.support}); ${plan.target.notes[0] ?? 'see the plan'}`);
    return 'refused';
  }
  return 'done';
}
