// kubeadm-nonroot patches --output-dir DIR: kubeadm patch files with this node's IDs, for
// `kubeadm upgrade apply|node --patches DIR` (writePatches, src/commands/patches.ts). See docs/upgrade.md.
import type { Command } from 'commander';
import type { Outcome, Wrap } from './main.js';
import type { GlobalOptions } from './options.js';
import { emit } from './output.js';

export function register(program: Command, run: Wrap): void {
  program
    .command('patches')
    .description("write kubeadm patch files (<component>+strategic.yaml) with this node's IDs, for kubeadm upgrade --patches")
    .requiredOption('--output-dir <dir>', 'directory to write the patch files to (created if missing)')
    .action(run(patchesCommand));
}

export async function patchesCommand(opts: GlobalOptions, cmd: Command): Promise<Outcome> {
  const o = cmd.opts<{ outputDir: string }>();
  const { writePatches } = await import('../commands/patches.js');
  const { written, identities } = await writePatches({ root: opts.root, config: opts.config, outputDir: o.outputDir });
  await emit(opts, { written, identities }, () => written.map((w) => `wrote ${w}`).join('\n') + `\nUse: kubeadm upgrade apply|node --patches ${o.outputDir}\n`);
  return 'done';
}
