// kubeadm-nonroot apply: lock → (continue an unfinished run) → plan → confirm → journaled apply with
// health gates; automatic rollback on failure or signal.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { InputError, RefusedError } from '../errors.js';
import type { Outcome, Wrap } from './main.js';
import { parseDuration, type GlobalOptions } from './options.js';
import { confirm } from './confirm.js';
import { loadConfig, loadNode, requireDir, requireRoot } from './inputs.js';
import { emit, note, noteBlocked, style } from './output.js';
import { withProgress } from './progress.js';
import { rollbackCommandLine } from '../apply/rollback-hint.js';
import { withInterrupts } from './signals.js';

export function register(program: Command, run: Wrap): void {
  withRunOptions(
    program.command('apply').description('migrate the node: create accounts, change file ownership, rewrite manifests one component at a time with health gates'),
    'apply a plan saved with "plan -o json"; refused if the node changed since',
  ).action(run((opts, cmd) => runPlanCommand(opts, cmd, 'apply')));
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
  const o = cmd.opts<{ plan?: string; yes?: boolean; dryRun?: boolean; wait: boolean; timeout: string; proc: string }>();
  const timeoutMs = parseDuration(o.timeout);
  if (!o.dryRun) requireRoot(verb);
  if (o.wait && !o.dryRun) requireDir(o.proc, '--proc');
  const [{ acquireLock }, { listBackups, unfinished }, { Journal }, { applyPlan }, { buildPlan }, { buildRevertPlan }, { actionsNotIn, hasChanges, isBlocked }, { renderPlanHuman }, { fingerprintInputs, stableStringify }, { PLAN_API_VERSION, PLAN_KIND, REVERT_PLAN_KIND }] = await Promise.all([
    import('../state/lock.js'), import('../state/backups.js'), import('../state/journal.js'), import('../apply/run.js'), import('../plan/plan.js'), import('../plan/revert.js'), import('../plan/summary.js'), import('../render/plan-human.js'), import('../plan/fingerprint.js'), import('../plan/types.js'),
  ]);
  const kind = verb === 'apply' ? PLAN_KIND : REVERT_PLAN_KIND;
  const lock = o.dryRun ? null : await acquireLock(opts.root, verb, note);
  try {
    const config = await loadConfig(opts);
    const node = await loadNode(opts, config);
    // Decisions (blocked? identities?) always come from the node's own plan, never from a plan file.
    const fresh = (verb === 'apply' ? buildPlan : buildRevertPlan)(node, config, { now: new Date() });
    let plan = fresh;
    if (o.plan) {
      let saved: typeof plan;
      try {
        saved = JSON.parse(readFileSync(o.plan, 'utf8'));
      } catch (e) {
        throw new InputError(`cannot read a plan from it: ${(e as Error).message}`, o.plan);
      }
      if (saved?.apiVersion !== PLAN_API_VERSION) throw new InputError(`not a plan of this tool (apiVersion ${String(saved?.apiVersion)}, expected ${PLAN_API_VERSION})`, o.plan);
      if (saved.kind !== kind) throw new InputError(`is a ${String(saved.kind)}, but ${verb} needs a ${kind}`, o.plan);
      if (saved.fingerprint !== fingerprintInputs(node, config)) {
        throw new RefusedError(`${o.plan}: the node changed since this plan was made (fingerprint differs); make a new plan and review it`);
      }
      const foreign = actionsNotIn(saved, fresh);
      if (stableStringify(saved.components) !== stableStringify(fresh.components)) foreign.unshift('components/identities differ');
      if (foreign.length) throw new InputError(`holds actions this node's plan does not (${foreign.slice(0, 3).join('; ')}${foreign.length > 3 ? '; …' : ''}); only plans made by "plan -o json" for this node, with actions at most removed, are applied`, o.plan);
      plan = saved;
    }
    const previous = o.dryRun ? null : unfinished(await listBackups(opts.root));
    if (previous?.status === 'rollback-unfinished' || previous?.status === 'rollback-failed') {
      throw new RefusedError(`a rollback of run ${previous.id} did not ${previous.status === 'rollback-failed' ? 'succeed' : 'finish'}; complete it first with: ${rollbackCommandLine(opts.root)}`);
    }
    if (isBlocked(fresh)) {
      await emit(opts, fresh, () => renderPlanHuman(fresh, style(opts)));
      // stdout carries the plan (maybe as JSON); the reason for exit 2 belongs on stderr too, naming the path.
      noteBlocked(fresh);
      return 'refused';
    }
    if (!hasChanges(plan) && !previous) {
      await emit(opts, { outcome: 'nothing-to-do', backupId: null, steps: [], gates: [] }, () => 'Nothing to do: the node already runs its control plane as planned.\n');
      return 'done';
    }
    if (opts.output === 'text') process.stdout.write(renderPlanHuman(plan, style(opts)));
    if (o.dryRun) {
      if (opts.output !== 'text') await emit(opts, plan, () => '');
      return 'done';
    }
    if (previous) note(`An earlier apply (run ${previous.id}) did not finish; it will be continued with this plan, keeping its record of the original state for rollback.`);
    if (!(await confirm(verb === 'apply' ? 'Apply this plan?' : 'Revert the node to running as root?', o.yes === true))) {
      note('Nothing changed.');
      return 'refused';
    }
    return await withInterrupts(verb, async ({ signal, gateSignal }) => {
      const resume = previous ? { id: previous.id, journal: await Journal.open(previous.dir) } : undefined;
      const result = await withProgress(verb === 'apply' ? 'Applying plan' : 'Reverting', opts, (events) =>
        applyPlan(plan, { root: opts.root, wait: o.wait, timeoutMs, proc: o.proc, signal, gateSignal, now: () => new Date(), events }, resume),
      );
      const rootFlag = opts.root === '/' ? '' : ` --root ${opts.root}`;
      // --no-wait: nothing confirmed the components came back as their new users; say so, and how to check.
      const unchecked = o.wait ? '' : `The components were NOT health-checked (--no-wait): check that each runs as its new user with: kubeadm-nonroot verify${rootFlag}\n`;
      await emit(opts, { ...result, healthChecked: o.wait }, () => `${verb === 'apply' ? 'Applied' : 'Reverted'} (backup ${result.backupId}; undo with: ${rollbackCommandLine(opts.root)}).\n${unchecked}`);
      if (unchecked && opts.output !== 'text') note(unchecked);
      return 'done' as const;
    });
  } finally {
    await lock?.release();
  }
}
