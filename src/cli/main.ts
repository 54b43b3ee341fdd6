// The one place that turns outcomes into exit codes (docs/exit-codes.md):
//   0 done / nothing to do   1 failed and rolled back (or verify found drift)
//   2 bad input, blocking problem or refused — nothing changed   3 failed and could not roll back
import { Command, CommanderError } from 'commander';
import { InputError, RefusedError, RollbackFailedError, RolledBackError } from '../errors.js';
import { versionText } from '../version.js';
import { parseGlobalOptions, type GlobalOptions } from './options.js';
// Each command module is thin wiring (what it needs to run is imported when it runs), so all of them
// are loaded up front: one file to read in the bundle (scripts/bundle.ts), not one chunk per command.
import * as applyCmd from './apply.js';
import * as backupsCmd from './backups.js';
import * as completionCmd from './completion.js';
import * as patchesCmd from './patches.js';
import * as planCmd from './plan.js';
import * as revertCmd from './revert.js';
import * as rollbackCmd from './rollback.js';
import * as verifyCmd from './verify.js';

export const EXIT = { ok: 0, failed: 1, refused: 2, rollbackFailed: 3 } as const;

export function exitCodeFor(e: unknown): number {
  if (e instanceof InputError || e instanceof RefusedError) return EXIT.refused;
  if (e instanceof RollbackFailedError) return EXIT.rollbackFailed;
  if (e instanceof RolledBackError) return EXIT.failed;
  return EXIT.failed;
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
  return program.addHelpText('after', '\nExit codes: 0 done, 1 failed and rolled back (verify: drift), 2 bad input/blocked/refused (nothing changed), 3 failed and could not roll back.');
}

/** Wrap a command so it receives the validated global options and its return value becomes the exit code. */
export const action = (fn: Action) => async (...args: unknown[]) => {
  const cmd = args[args.length - 1] as Command;
  process.exitCode = OUTCOME_EXIT[await fn(parseGlobalOptions(cmd.optsWithGlobals()), cmd)];
};
export type Wrap = typeof action;

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  // One module per command; each adds itself with register(program, action).
  for (const mod of [planCmd, applyCmd, rollbackCmd, backupsCmd, verifyCmd, revertCmd, patchesCmd, completionCmd]) mod.register(program, action);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT.refused;
      return;
    }
    reportError(e, argv.includes('-v') || argv.includes('--verbose'));
    process.exitCode = exitCodeFor(e);
  }
}

export function reportError(e: unknown, verbose: boolean): void {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`kubeadm-nonroot: ${msg}\n`);
  if (e instanceof RollbackFailedError) {
    for (const f of e.failures) process.stderr.write(`  rollback failure: ${f}\n`);
    process.stderr.write('Manual steps to restore the node:\n');
    e.manualSteps.forEach((s, i) => process.stderr.write(`  ${i + 1}. ${s}\n`));
  }
  if (verbose && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
}

main(process.argv).catch((e) => {
  reportError(e, true);
  process.exitCode = EXIT.failed;
});
