// kubeadm-nonroot rollback: the options, the preview and question, the progress and signal handling,
// and how the outcome of runRollback (src/commands/rollback.ts) is shown.
import type { Command } from 'commander';
import type { RollbackOutcome, RollbackReady } from '../commands/rollback.js';
import { describeUnconfirmed } from '../errors.js';
import type { Outcome, Wrap } from './main.js';
import { parseDuration, type GlobalOptions } from './options.js';
import { confirm } from './confirm.js';
import { emit, note } from './output.js';
import { withProgress } from './progress.js';
import { withInterrupts } from './signals.js';
import { describeUndo } from '../render/undo.js';

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

export async function rollbackCommand(opts: GlobalOptions, cmd: Command): Promise<Outcome> {
  const o = cmd.opts<{ backup?: string; keepAccounts?: boolean; yes?: boolean; wait: boolean; timeout: string; proc: string }>();
  const timeoutMs = parseDuration(o.timeout);
  const { runRollback } = await import('../commands/rollback.js');
  const outcome = await runRollback(
    { root: opts.root, backup: o.backup, keepAccounts: o.keepAccounts === true, wait: o.wait, timeoutMs, proc: o.proc },
    {
      note,
      confirm: (ready) => {
        if (opts.output === 'text') process.stdout.write(previewText(ready));
        return confirm('Roll back?', o.yes === true);
      },
      run: (ready, change) => withInterrupts('rollback', ({ signal, gateSignal }) => withProgress(`Rolling back ${ready.run.id}`, opts, (events) => change({ signal, gateSignal, events }))),
    },
  );
  return showRollbackOutcome(outcome, opts);
}

/** What the rollback will restore (each undo's result), and what --keep-accounts keeps. */
function previewText({ run, undos, kept }: RollbackReady): string {
  const restores = `Rollback of run ${run.id} will restore:\n${undos.map((i) => `  ↶ ${describeUndo(i.undo!)}`).join('\n')}\n`;
  return restores + (kept.length ? `Kept (--keep-accounts):\n${kept.map((i) => `  = ${i.title}`).join('\n')}\n` : '');
}

/** Show how the rollback ended; its exit code follows from the Outcome (src/cli/main.ts). */
async function showRollbackOutcome(outcome: RollbackOutcome, opts: GlobalOptions): Promise<Outcome> {
  switch (outcome.outcome) {
    case 'nothing-to-do':
      await emit(opts, { outcome: 'nothing-to-do' }, () => 'Nothing to roll back.\n');
      return 'done';
    case 'declined':
      note('Nothing changed.');
      return 'refused';
    case 'rolled-back': {
      const { run, result: res, kept, healthChecked } = outcome;
      const lines = [
        `Rolled back run ${run.id} (${res.undone} change(s) undone${kept.length ? `, ${kept.length} account change(s) kept` : ''}).`,
        ...res.warnings.map((w) => `! ${w}`),
        ...res.unconfirmed.map((u) => `? restored, health unconfirmed: ${describeUnconfirmed(u)}`),
        ...(healthChecked ? [] : [`The restored components were NOT health-checked (--no-wait): check them with crictl ps -a and journalctl -u kubelet.`]),
      ];
      await emit(opts, { outcome: 'rolled-back', backupId: run.id, undone: res.undone, kept: kept.map((i) => i.title), warnings: res.warnings, healthUnconfirmed: res.unconfirmed, healthChecked }, () => lines.join('\n') + '\n');
      if (opts.output !== 'text') for (const u of res.unconfirmed) note(`restored, health unconfirmed: ${describeUnconfirmed(u)}`);
      return 'done';
    }
  }
}
