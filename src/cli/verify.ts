// kubeadm-nonroot verify: exit 0 when the node holds the desired state; 1 when it does not (drift, or
// never migrated): the check failed and nothing was changed; 2 on bad input. The judging is runVerify
// (src/commands/verify.ts); this file wires the options and renders the report.
import type { Command } from 'commander';
import type { VerifyCommandInputs } from '../commands/verify.js';
import type { Outcome, Wrap } from './main.js';
import type { GlobalOptions } from './options.js';
import { emit, style } from './output.js';

export function register(program: Command, run: Wrap): void {
  withRuntimeOptions(program.command('verify').description('check accounts, file ownership, manifests and (with --proc or on /) running processes against the desired state')).action(run(verifyCommand));
}

/** --proc and --no-runtime, shared by verify and status. */
export function withRuntimeOptions(cmd: Command): Command {
  return cmd.option('--proc <dir>', 'check running processes in this proc filesystem (default: /proc when --root is /)').option('--no-runtime', 'skip the process checks');
}

/** The inputs of verify and status from their options. */
export function verifyCommandInputs(opts: GlobalOptions, cmd: Command): VerifyCommandInputs {
  const o = cmd.opts<{ proc?: string; runtime: boolean }>();
  return { root: opts.root, config: opts.config, proc: o.proc, runtime: o.runtime };
}

export async function verifyCommand(opts: GlobalOptions, cmd: Command): Promise<Outcome> {
  const [{ runVerify }, { renderVerifyHuman }] = await Promise.all([import('../commands/verify.js'), import('../render/verify-human.js')]);
  const { report, rootFlag } = await runVerify(verifyCommandInputs(opts, cmd));
  await emit(opts, report, () => renderVerifyHuman(report, style(opts), rootFlag));
  return report.ok ? 'done' : 'drift';
}
