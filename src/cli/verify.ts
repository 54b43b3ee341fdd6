// kubeadm-nonroot verify: exit 0 when the node holds the desired state; 1 when it does not (drift, or
// never migrated): the check failed and nothing was changed; 2 on bad input.
import type { Command } from 'commander';
import type { Outcome, Wrap } from './main.js';
import type { GlobalOptions } from './options.js';
import { loadConfig, loadNode, requireProc } from './inputs.js';
import { emit, style } from './output.js';
import { listBackups, rolledBackApply } from '../state/backups.js';

/**
 * The id of the rolled-back apply that left this node unmigrated (rolledBackApply), for verify to say so
 * instead of blaming kubeadm for the kept accounts. Only an explanation: a journal that cannot be read
 * leaves verify to judge by the node alone.
 */
async function migrationRolledBack(root: string): Promise<string | undefined> {
  try {
    return rolledBackApply(await listBackups(root))?.id;
  } catch {
    return undefined;
  }
}

export function register(program: Command, run: Wrap): void {
  program
    .command('verify')
    .description('check accounts, file ownership, manifests and (with --proc or on /) running processes against the desired state')
    .option('--proc <dir>', 'check running processes in this proc filesystem (default: /proc when --root is /)')
    .option('--no-runtime', 'skip the process checks')
    .action(run(verifyCommand));
}

export async function verifyCommand(opts: GlobalOptions, cmd: Command): Promise<Outcome> {
  const o = cmd.opts<{ proc?: string; runtime: boolean }>();
  const [{ verifyNode }, { renderVerifyHuman }] = await Promise.all([import('../verify/verify.js'), import('../render/verify-human.js')]);
  const config = await loadConfig(opts);
  const node = await loadNode(opts, config);
  const proc = !o.runtime ? null : (o.proc ?? (opts.root === '/' ? '/proc' : null));
  if (proc) requireProc(proc);
  const rootFlag = opts.root === '/' ? '' : ` --root ${opts.root}`;
  const report = await verifyNode(node, config, { now: new Date(), proc, rootFlag, rolledBackRun: await migrationRolledBack(opts.root) });
  await emit(opts, report, () => renderVerifyHuman(report, style(opts), rootFlag));
  return report.ok ? 'done' : 'drift';
}
