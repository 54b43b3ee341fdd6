// The one place that turns outcomes into exit codes (docs/exit-codes.md), one meaning each:
//   0 done / nothing to do
//   1 did not succeed, and the node is as it was before the command: apply/revert failed and was
//     rolled back completely; verify found the node differs from the desired state
//   2 refused or bad input before any change (not root, blocking problem, "n" or Ctrl-C at the prompt)
//   3 failed and the rollback is incomplete: manual steps printed
//   4 internal error (a bug): how to report it, and the state of the latest run's journal
import { Command, CommanderError } from 'commander';
import { describeUnconfirmed, InputError, RefusedError, RollbackFailedError, RolledBackError } from '../errors.js';
import { VERSION, versionText } from '../version.js';
import { parseGlobalOptions, type GlobalOptions } from './options.js';
import { survivePeerGone } from './output.js';
// Each command module is thin wiring (what it needs to run is imported when it runs), so all of them
// are loaded up front: one file to read in the bundle (scripts/bundle.ts), not one chunk per command.
import * as applyCmd from './apply.js';
import * as backupsCmd from './backups.js';
import * as completionCmd from './completion.js';
import * as patchesCmd from './patches.js';
import * as planCmd from './plan.js';
import * as revertCmd from './revert.js';
import * as rollbackCmd from './rollback.js';
import * as statusCmd from './status.js';
import * as verifyCmd from './verify.js';

export const EXIT = { ok: 0, failed: 1, refused: 2, rollbackFailed: 3, internal: 4 } as const;

export function exitCodeFor(e: unknown): number {
  if (e instanceof InputError || e instanceof RefusedError) return EXIT.refused;
  if (e instanceof RollbackFailedError) return EXIT.rollbackFailed;
  if (e instanceof RolledBackError) return EXIT.failed;
  // Anything else was not foreseen: a bug, whatever it says.
  return EXIT.internal;
}

/**
 * How a command ended when it did not throw: done (also "nothing to do"), refused (blocking problems,
 * declined confirmation: nothing changed), drift (verify found the node differs).
 */
export type Outcome = 'done' | 'refused' | 'drift';
const OUTCOME_EXIT: Record<Outcome, number> = { done: 0, refused: 2, drift: 1 };

type Action = (opts: GlobalOptions, cmd: Command) => Promise<Outcome>;

export function buildProgram(): Command {
  const program = new Command('kubeadm-nonroot');
  program
    .description('Run a kubeadm control plane as dedicated non-root users, and keep it that way.')
    .version(versionText(), '--version', 'print the version')
    .option('--root <dir>', "the node's filesystem root; every path resolves under it", '/')
    .option('-c, --config <file>', 'config file (YAML): components, account names, pinned IDs')
    .option('-o, --output <format>', 'text, json or yaml', 'text')
    .option('-v, --verbose', 'more detail, stack traces on errors')
    .option('--no-color', 'no colors in text output')
    .showHelpAfterError()
    .exitOverride();
  return program.addHelpText('after', '\nExit codes: 0 done, 1 failed and rolled back / verify found drift (node as before), 2 refused or bad input (nothing changed), 3 rollback incomplete (manual steps printed), 4 internal error (a bug).');
}

/** Wrap a command so it receives the validated global options and its return value becomes the exit code. */
export const action = (fn: Action) => async (...args: unknown[]) => {
  const cmd = args[args.length - 1] as Command;
  process.exitCode = OUTCOME_EXIT[await fn(parseGlobalOptions(cmd.optsWithGlobals()), cmd)];
};
export type Wrap = typeof action;

async function main(argv: string[]): Promise<void> {
  survivePeerGone();
  const program = buildProgram();
  // One module per command; each adds itself with register(program, action).
  for (const mod of [planCmd, applyCmd, rollbackCmd, backupsCmd, verifyCmd, statusCmd, revertCmd, patchesCmd, completionCmd]) mod.register(program, action);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT.refused;
      return;
    }
    const code = exitCodeFor(e);
    reportError(e, argv.includes('-v') || argv.includes('--verbose'));
    if (code === EXIT.internal) await reportBug(rootOf(argv));
    process.exitCode = code;
  }
}

export function reportError(e: unknown, verbose: boolean): void {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`kubeadm-nonroot: ${msg}\n`);
  if (e instanceof RolledBackError) {
    for (const u of e.unconfirmed) process.stderr.write(`  restored, health unconfirmed: ${describeUnconfirmed(u)}\n`);
  }
  if (e instanceof RollbackFailedError) {
    for (const f of e.failures) process.stderr.write(`  rollback failure: ${f}\n`);
    process.stderr.write('Manual steps to restore the node:\n');
    e.manualSteps.forEach((s, i) => process.stderr.write(`  ${i + 1}. ${s}\n`));
  }
  if (verbose && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
}

/** The --root of argv (commander has not necessarily parsed it when an error happens). */
function rootOf(argv: string[]): string {
  const i = argv.findIndex((a) => a === '--root' || a.startsWith('--root='));
  if (i < 0) return '/';
  return argv[i]!.includes('=') ? argv[i]!.slice('--root='.length) : (argv[i + 1] ?? '/');
}

/** Exit 4: say it is a bug, how to report it, and where the latest run's journal stands. */
async function reportBug(root: string): Promise<void> {
  process.stderr.write(`This is a bug in kubeadm-nonroot ${VERSION}. Please report it with the command line and this output (add -v for the stack trace).\n`);
  try {
    const { listBackups } = await import('../state/backups.js');
    const last = (await listBackups(root)).pop();
    if (!last) process.stderr.write(`Journal: no run recorded under ${root}; nothing was changed by this tool.\n`);
    else process.stderr.write(`Journal: latest run ${last.id} (${last.op}) is ${last.status}, ${last.changes} change(s) recorded in ${last.dir}; see "kubeadm-nonroot backups"${last.status === 'applied' || last.status === 'rolled-back' ? '' : ' and finish it with "kubeadm-nonroot rollback"'}.\n`);
  } catch (e) {
    process.stderr.write(`Journal: could not be read (${e instanceof Error ? e.message : String(e)}).\n`);
  }
}

main(process.argv).catch(async (e) => {
  reportError(e, true);
  await reportBug(rootOf(process.argv)).catch(() => undefined);
  process.exitCode = EXIT.internal;
});
