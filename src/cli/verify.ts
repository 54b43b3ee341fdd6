// kubeadm-nonroot verify: exit 0 when the node holds the desired state; 1 when it does not (drift, or
// never migrated): the check failed and nothing was changed; 2 on bad input.
import type { Command } from 'commander';
import type { Outcome, Wrap } from './main.js';
import type { GlobalOptions } from './options.js';
import { loadConfig, loadNode, requireProc } from '../inputs.js';
import { emit, style } from './output.js';
import { readRunJournals } from '../state/backups.js';
import { replayJournals, type NodeHistory } from '../state/history.js';

/**
 * What the tool's runs on this node add up to (replayJournals), for verify to name the rollback or
 * revert that left it unmigrated instead of blaming kubeadm for kept accounts. Only an explanation: a
 * journal that cannot be read leaves verify to judge by the node alone.
 */
export async function nodeHistory(root: string): Promise<NodeHistory | undefined> {
  try {
    return replayJournals(await readRunJournals(root));
  } catch {
    return undefined;
  }
}

export function register(program: Command, run: Wrap): void {
  withRuntimeOptions(program.command('verify').description('check accounts, file ownership, manifests and (with --proc or on /) running processes against the desired state')).action(run(verifyCommand));
}

/** --proc and --no-runtime, shared by verify and status. */
export function withRuntimeOptions(cmd: Command): Command {
  return cmd.option('--proc <dir>', 'check running processes in this proc filesystem (default: /proc when --root is /)').option('--no-runtime', 'skip the process checks');
}

/** What verify and status need to judge a node: its config, record and state, where to see its processes, and the undone run. */
export async function verifyInputs(opts: GlobalOptions, cmd: Command) {
  const o = cmd.opts<{ proc?: string; runtime: boolean }>();
  const { config, source, record } = await loadConfig(opts);
  const node = await loadNode(opts, config);
  const proc = !o.runtime ? null : (o.proc ?? (opts.root === '/' ? '/proc' : null));
  if (proc) requireProc(proc);
  const rootFlag = opts.root === '/' ? '' : ` --root ${opts.root}`;
  return { config, source, record, node, rootFlag, options: { now: new Date(), proc, rootFlag, history: await nodeHistory(opts.root), record } };
}

export async function verifyCommand(opts: GlobalOptions, cmd: Command): Promise<Outcome> {
  const [{ verifyNode }, { renderVerifyHuman }] = await Promise.all([import('../verify/verify.js'), import('../render/verify-human.js')]);
  const { config, node, rootFlag, options } = await verifyInputs(opts, cmd);
  const report = await verifyNode(node, config, options);
  await emit(opts, report, () => renderVerifyHuman(report, style(opts), rootFlag));
  return report.ok ? 'done' : 'drift';
}
