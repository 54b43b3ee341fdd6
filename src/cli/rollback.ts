// kubeadm-nonroot rollback: undo the latest (or a chosen) apply from its journal.
import type { Command } from 'commander';
import { join } from 'node:path';
import { describeUnconfirmed, RefusedError, RollbackFailedError } from '../errors.js';
import type { Outcome, Wrap } from './main.js';
import { parseDuration, type GlobalOptions } from './options.js';
import { confirm } from './confirm.js';
import { requireDir, requireProc, requirePrograms, requireRoot } from '../inputs.js';
import { emit, note } from './output.js';
import { withProgress } from './progress.js';
import { withInterrupts } from './signals.js';
import { describeUndo } from '../render/undo.js';
import { xattrToolsMissing } from '../fs/xattr.js';

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
  requireRoot('rollback');
  requireDir(opts.root, '--root');
  if (o.wait) requireProc(o.proc);
  requirePrograms();
  const [{ acquireLock }, { listBackups }, { Journal, JOURNAL_FILE }, { assertJournalTrusted }, { rollbackJournal }, { shadowUtils }] = await Promise.all([
    import('../state/lock.js'), import('../state/backups.js'), import('../state/journal.js'), import('../state/journal-check.js'), import('../apply/rollback.js'), import('../apply/accounts.js'),
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
    const missing = await xattrToolsMissing();
    if (missing) throw new RefusedError(`${missing}; nothing was changed`);
    const journal = await Journal.open(target.dir);
    assertJournalTrusted(journal.entries, join(target.dir, JOURNAL_FILE));
    if (target.status === 'unfinished') note(`Run ${target.id} did not finish (killed?); undoing what it recorded.`);
    if (target.status === 'rollback-unfinished') note(`A rollback of run ${target.id} did not finish; completing it.`);
    // --keep-accounts: the account undos are neither run nor journaled as undone (the journal keeps
    // saying what was NOT undone); the preview shows what will really be done: the state it restores.
    const keep = o.keepAccounts ? (u: { kind: string }) => KEEP_ACCOUNT_UNDOS.has(u.kind) : undefined;
    const pending = journal.intents().filter((i) => !i.undone && i.undo && !keep?.(i.undo));
    // A manifest rollback cannot undo safely (changed by hand since) refuses before the question.
    const { preflightManifestRestores } = await import('../apply/manifest-restore.js');
    await preflightManifestRestores(pending.map((i) => i.undo!).reverse(), { root: opts.root, backupDir: target.dir });
    const kept = o.keepAccounts ? journal.intents().filter((i) => !i.undone && i.undo && keep!(i.undo)) : [];
    if (opts.output === 'text') {
      process.stdout.write(`Rollback of run ${target.id} will restore:\n${pending.reverse().map((i) => `  ↶ ${describeUndo(i.undo!)}`).join('\n')}\n`);
      if (kept.length) process.stdout.write(`Kept (--keep-accounts):\n${kept.map((i) => `  = ${i.title}`).join('\n')}\n`);
    }
    if (!(await confirm('Roll back?', o.yes === true))) {
      note('Nothing changed.');
      return 'refused';
    }
    const res = await withInterrupts('rollback', ({ gateSignal }) =>
      withProgress(`Rolling back ${target.id}`, opts, (events) =>
        rollbackJournal(journal, { root: opts.root, backupDir: target.dir, tools: shadowUtils(opts.root), wait: o.wait, timeoutMs, proc: o.proc, now: () => new Date(), events, reason: o.keepAccounts ? 'rollback command (--keep-accounts: account changes kept)' : 'rollback command', keep, gateSignal }),
      ),
    );
    if (res.failures.length) throw new RollbackFailedError(`rollback of run ${target.id} failed`, res.failures, res.manualSteps);
    const lines = [
      `Rolled back run ${target.id} (${res.undone} change(s) undone${kept.length ? `, ${kept.length} account change(s) kept` : ''}).`,
      ...res.warnings.map((w) => `! ${w}`),
      ...res.unconfirmed.map((u) => `? restored, health unconfirmed: ${describeUnconfirmed(u)}`),
      ...(o.wait ? [] : [`The restored components were NOT health-checked (--no-wait): check them with crictl ps -a and journalctl -u kubelet.`]),
    ];
    await emit(opts, { outcome: 'rolled-back', backupId: target.id, undone: res.undone, kept: kept.map((i) => i.title), warnings: res.warnings, healthUnconfirmed: res.unconfirmed, healthChecked: o.wait }, () => lines.join('\n') + '\n');
    if (opts.output !== 'text') for (const u of res.unconfirmed) note(`restored, health unconfirmed: ${describeUnconfirmed(u)}`);
    return 'done';
  } finally {
    await lock.release();
  }
}
