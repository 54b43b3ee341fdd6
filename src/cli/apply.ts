// kubeadm-nonroot apply: lock → (continue an unfinished run) → plan → confirm → journaled apply with
// health gates; automatic rollback on failure or signal.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, RefusedError } from '../errors.js';
import type { Outcome, Wrap } from './main.js';
import { parseDuration, type GlobalOptions } from './options.js';
import { confirm } from './confirm.js';
import { loadConfig, loadNode, requireProc, requirePrograms, requireRoot } from './inputs.js';
import { emit, note, noteBlocked, style } from './output.js';
import { withProgress } from './progress.js';
import { rollbackCommandLine } from '../apply/rollback-hint.js';
import { withInterrupts } from './signals.js';
import { recordInputs } from '../state/record.js';

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
  if (!o.dryRun) requireRoot(verb);
  if (o.wait && !o.dryRun) requireProc(o.proc);
  if (!o.dryRun) requirePrograms();
  const [{ acquireLock }, { listBackups, unfinished }, { Journal, JOURNAL_FILE }, { assertJournalTrusted }, { applyPlan }, { buildPlan }, { buildRevertPlan }, { hasChanges, isBlocked }, { renderPlanHuman }, { acceptSavedPlan }, { createdAccounts }] = await Promise.all([
    import('../state/lock.js'), import('../state/backups.js'), import('../state/journal.js'), import('../state/journal-check.js'), import('../apply/run.js'), import('../plan/plan.js'), import('../plan/revert.js'), import('../plan/summary.js'), import('../render/plan-human.js'), import('../plan/saved-plan.js'), import('../state/created-accounts.js'),
  ]);
  const lock = o.dryRun ? null : await acquireLock(opts.root, verb, note);
  try {
    const { config, record } = await loadConfig(opts, o.userNamespaces);
    const node = await loadNode(opts, config, verb === 'apply' ? { proc: o.proc, ...(o.nodeStatus === undefined ? {} : { nodeStatus: o.nodeStatus }) } : undefined);
    // Decisions (blocked? identities?) always come from the node's own plan, never from a plan file.
    // revert removes only the accounts the tool's own journals say it created.
    const created = verb === 'revert' ? await createdAccounts(await listBackups(opts.root)) : undefined;
    const fresh = verb === 'apply'
      ? buildPlan(node, config, { now: new Date(), record, consentedGrants: [...(config.grants ?? []), ...(o.grant ?? [])] })
      : buildRevertPlan(node, config, { now: new Date(), created, record });
    let plan = fresh;
    if (o.plan) {
      let saved: unknown;
      try {
        saved = JSON.parse(readFileSync(o.plan, 'utf8'));
      } catch (e) {
        throw new InputError(`cannot read a plan from it: ${(e as Error).message}`, o.plan);
      }
      const accepted = acceptSavedPlan(saved, { verb, fresh, node, config });
      if (!accepted.accepted) {
        if (accepted.refusal === 'changed') throw new RefusedError(`${o.plan}: ${accepted.message}`);
        throw new InputError(accepted.message, o.plan);
      }
      plan = accepted.plan;
    }
    const previous = o.dryRun ? null : unfinished(await listBackups(opts.root));
    if (previous?.status === 'rollback-unfinished' || previous?.status === 'rollback-failed') {
      throw new RefusedError(`a rollback of run ${previous.id} did not ${previous.status === 'rollback-failed' ? 'succeed' : 'finish'}; complete it first with: ${rollbackCommandLine(opts.root)}`);
    }
    // The resume path acts on the unfinished journal: checked exactly as rollback checks it.
    const resumeJournal = previous ? await Journal.open(previous.dir) : null;
    if (previous && resumeJournal) assertJournalTrusted(resumeJournal.entries, join(previous.dir, JOURNAL_FILE));
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
      const resume = previous && resumeJournal ? { id: previous.id, journal: resumeJournal } : undefined;
      const result = await withProgress(verb === 'apply' ? 'Applying plan' : 'Reverting', opts, (events) =>
        applyPlan(plan, { root: opts.root, wait: o.wait, timeoutMs, proc: o.proc, signal, gateSignal, now: () => new Date(), events, record: recordInputs(plan, config, node) }, resume),
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
