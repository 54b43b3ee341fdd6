// kubeadm-nonroot apply (and revert, which shares it): the options, the question, the progress and
// signal handling, and how the outcome of runApply (src/commands/apply.ts) is shown.
import type { Command } from 'commander';
import type { ApplyOutcome } from '../commands/apply.js';
import type { Plan } from '../plan/types.js';
import { rollbackCommandLine } from '../apply/rollback-hint.js';
import type { Outcome, Wrap } from './main.js';
import { parseDuration, type GlobalOptions } from './options.js';
import { confirm } from './confirm.js';
import { emit, note, noteBlocked, style } from './output.js';
import { withProgress } from './progress.js';
import { withInterrupts } from './signals.js';

export function register(program: Command, run: Wrap): void {
  withRunOptions(
    program.command('apply').description('migrate the node: create accounts, change file ownership, rewrite manifests one component at a time with health gates'),
    'apply a plan saved with "plan -o json"; refused if the node changed since',
  )
    .option('--user-namespaces <mode>', 'off, with-accounts or only: run the static pods in user namespaces (hostUsers: false); overrides the config\'s userNamespaces')
    .option('--node-status <file>', 'with --user-namespaces: the node\'s `kubectl get node NAME -o json`, for the runtime\'s user-namespace support (default: asked with kubectl and admin.conf when --root is /)')
    .option('--grant <path>', 'consent to a NEW GRANT the plan lists (a path beyond the migration record); repeat for each path', (v: string, all: string[]) => [...all, v], [] as string[])
    .action(run((opts, cmd) => runPlanCommand(opts, cmd, 'apply')));
}

/** Options shared by apply and revert. */
export function withRunOptions(cmd: Command, planHelp: string): Command {
  return cmd
    .option('--plan <file>', planHelp)
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--no-wait', 'skip the health gates (offline images, sandboxes)')
    .option('--timeout <duration>', 'health gate timeout per component', '5m')
    .option('--proc <dir>', 'where to look for component processes', '/proc');
}

export async function runPlanCommand(opts: GlobalOptions, cmd: Command, verb: 'apply' | 'revert'): Promise<Outcome> {
  const o = cmd.opts<{ plan?: string; yes?: boolean; dryRun?: boolean; wait: boolean; timeout: string; proc: string; grant?: string[]; userNamespaces?: string; nodeStatus?: string }>();
  const timeoutMs = parseDuration(o.timeout);
  const [{ runApply }, { renderPlanHuman }] = await Promise.all([import('../commands/apply.js'), import('../render/plan-human.js')]);
  const planText = (plan: Plan) => renderPlanHuman(plan, style(opts));
  const outcome = await runApply(
    { verb, root: opts.root, config: opts.config, planFile: o.plan, dryRun: o.dryRun === true, wait: o.wait, timeoutMs, proc: o.proc, grants: o.grant ?? [], userNamespaces: o.userNamespaces, nodeStatus: o.nodeStatus },
    {
      note,
      confirm: async (ready) => {
        if (opts.output === 'text') process.stdout.write(planText(ready.plan));
        if (ready.continues) note(`An earlier apply (run ${ready.continues.id}) did not finish; it will be continued with this plan, keeping its record of the original state for rollback.`);
        return confirm(verb === 'apply' ? 'Apply this plan?' : 'Revert the node to running as root?', o.yes === true);
      },
      run: (_ready, change) => withInterrupts(verb, ({ signal, gateSignal }) => withProgress(verb === 'apply' ? 'Applying plan' : 'Reverting', opts, (events) => change({ signal, gateSignal, events }))),
    },
  );
  return showApplyOutcome(outcome, opts, verb, planText);
}

/** Show how apply/revert ended; its exit code follows from the Outcome (src/cli/main.ts). */
async function showApplyOutcome(outcome: ApplyOutcome, opts: GlobalOptions, verb: 'apply' | 'revert', planText: (plan: Plan) => string): Promise<Outcome> {
  switch (outcome.outcome) {
    case 'blocked':
      await emit(opts, outcome.plan, () => planText(outcome.plan));
      // stdout carries the plan (maybe as JSON); the reason for exit 2 belongs on stderr too, naming the path.
      noteBlocked(outcome.plan);
      return 'refused';
    case 'nothing-to-do':
      await emit(opts, { outcome: 'nothing-to-do', backupId: null, steps: [], gates: [] }, () => 'Nothing to do: the node already runs its control plane as planned.\n');
      return 'done';
    case 'dry-run':
      await emit(opts, outcome.plan, () => planText(outcome.plan));
      return 'done';
    case 'declined':
      note('Nothing changed.');
      return 'refused';
    case 'applied': {
      const { result, healthChecked } = outcome;
      const rootFlag = opts.root === '/' ? '' : ` --root ${opts.root}`;
      // --no-wait: nothing confirmed the components came back as their new users; say so, and how to check.
      const unchecked = healthChecked ? '' : `The components were NOT health-checked (--no-wait): check that each runs as its new user with: kubeadm-nonroot verify${rootFlag}\n`;
      await emit(opts, { ...result, healthChecked }, () => `${verb === 'apply' ? 'Applied' : 'Reverted'} (backup ${result.backupId}; undo with: ${rollbackCommandLine(opts.root)}).\n${unchecked}`);
      if (unchecked && opts.output !== 'text') note(unchecked);
      return 'done';
    }
  }
}
