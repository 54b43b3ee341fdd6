// kubeadm-nonroot rollback: undo the latest (or a chosen) apply from its journal.
import type { Command } from 'commander';
import { RefusedError, RollbackFailedError } from '../errors.js';
import type { Outcome, Wrap } from './main.js';
import type { GlobalOptions } from './options.js';
import { confirm, parseDuration } from './confirm.js';
import { requireDir } from './inputs.js';
import { emit, note } from './output.js';
import { withProgress } from './progress.js';

export function register(program: Command, run: Wrap): void {
  program
    .command('rollback')
    .description('restore manifests, owners and modes exactly as before an apply, and remove the accounts it created')
    .option('--backup <id>', 'which run to undo (default: the latest not yet rolled back); see "backups"')
    .option('--keep-accounts', 'keep the accounts the apply created')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-wait', 'skip the health gates')
    .option('--timeout <duration>', 'health gate timeout per component', '5m')
    .option('--proc <dir>', 'where to look for component processes', '/proc')
    .action(run(rollbackCommand));
}

const KEEP_ACCOUNT_UNDOS = new Set(['delete-user', 'delete-group', 'remove-members', 'restore-account-files']);

export async function rollbackCommand(opts: GlobalOptions, cmd: Command): Promise<Outcome> {
  const o = cmd.opts<{ backup?: string; keepAccounts?: boolean; yes?: boolean; wait: boolean; timeout: string; proc: string }>();
  const timeoutMs = parseDuration(o.timeout);
  if (o.wait) requireDir(o.proc, '--proc');
  const [{ acquireLock }, { listBackups }, { Journal }, { rollbackJournal }, { shadowUtils }] = await Promise.all([
    import('../apply/lock.js'), import('../apply/backups.js'), import('../apply/journal.js'), import('../apply/rollback.js'), import('../apply/accounts.js'),
  ]);
  const lock = await acquireLock(opts.root, 'rollback', note);
  try {
    const backups = await listBackups(opts.root);
    const open = backups.filter((b) => b.status !== 'rolled-back');
    const target = o.backup ? backups.find((b) => b.id === o.backup) : open[open.length - 1];
    if (!target) {
      if (o.backup) throw new RefusedError(`no backup ${o.backup} under ${opts.root}; list them with: kubeadm-nonroot backups`);
      await emit(opts, { outcome: 'nothing-to-do' }, () => 'Nothing to roll back.\n');
      return 'done';
    }
    if (target.status === 'rolled-back') throw new RefusedError(`run ${target.id} was already rolled back`);
    const newer = open.filter((b) => b.id > target.id);
    if (newer.length) throw new RefusedError(`run ${target.id} has newer runs on top of it (${newer.map((b) => b.id).join(', ')}); roll those back first`);
    const journal = await Journal.open(target.dir);
    if (target.status === 'unfinished') note(`Run ${target.id} did not finish (killed?); undoing what it recorded.`);
    if (target.status === 'rollback-unfinished') note(`A rollback of run ${target.id} did not finish; completing it.`);
    // The preview shows what will really be undone: --keep-accounts skips the account undos.
    const pending = journal.intents().filter((i) => !i.undone && i.undo && !(o.keepAccounts && KEEP_ACCOUNT_UNDOS.has(i.undo.kind)));
    if (opts.output === 'text') process.stdout.write(`Rollback of run ${target.id} will undo:\n${pending.reverse().map((i) => `  ↶ ${i.title}`).join('\n')}\n`);
    if (!(await confirm('Roll back?', o.yes === true))) {
      note('Nothing changed.');
      return 'refused';
    }
    if (o.keepAccounts) {
      for (const i of journal.intents()) {
        if (!i.undone && i.undo && KEEP_ACCOUNT_UNDOS.has(i.undo.kind)) await journal.record({ t: 'undone', step: i.step });
      }
    }
    const res = await withProgress(`Rolling back ${target.id}`, opts, (events) =>
      rollbackJournal(journal, { root: opts.root, backupDir: target.dir, tools: shadowUtils(opts.root), wait: o.wait, timeoutMs, proc: o.proc, now: () => new Date(), events, reason: 'rollback command' }),
    );
    if (res.failures.length) throw new RollbackFailedError(`rollback of run ${target.id} failed`, res.failures, res.manualSteps);
    await emit(opts, { outcome: 'rolled-back', backupId: target.id, undone: res.undone, warnings: res.warnings }, () => `Rolled back run ${target.id} (${res.undone} change(s) undone).\n${res.warnings.map((w) => `! ${w}\n`).join('')}`);
    return 'done';
  } finally {
    await lock.release();
  }
}
