// kubeadm-nonroot patches --output-dir DIR: kubeadm patch files with this node's IDs, for
// `kubeadm upgrade apply|node --patches DIR`. See docs/upgrade.md.
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import type { Outcome, Wrap } from './main.js';
import type { GlobalOptions } from './options.js';
import { loadConfig, loadNode } from './inputs.js';
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
  const [{ buildPlan }, { patchFileName, patchRefusal, renderHostUsersPatch, renderPatch }, { readTemplate }, { VERSION }, { seccompStyle }, { prepareOutputDir, writeOutputFile }] = await Promise.all([import('../plan/plan.js'), import('../plan/patches.js'), import('../templates.js'), import('../version.js'), import('../model/version.js'), import('../fs/output-dir.js')]);
  const { config, record } = await loadConfig(opts);
  const node = await loadNode(opts, config);
  const plan = buildPlan(node, config, { now: new Date(), record });
  if (plan.userNamespaces === 'only') {
    await prepareOutputDir(o.outputDir);
    const only = plan.components.filter((c) => c.migrate);
    const written = await Promise.all(only.map((c) => writeOutputFile(o.outputDir, patchFileName(c.component), renderHostUsersPatch(c.component, VERSION), 0o644)));
    await emit(opts, { written, identities: [] }, () => written.map((w) => `wrote ${w}`).join('\n') + `\nUse: kubeadm upgrade apply|node --patches ${o.outputDir}\n`);
    return 'done';
  }
  const ids = plan.components.flatMap((c) => (c.identity ? [c.identity] : []));
  if (ids.length === 0) throw new InputError('no component has a planned identity; run plan to see why', node.manifestsDir);
  const refusal = patchRefusal(ids, node);
  if (refusal) throw new InputError(refusal);
  await prepareOutputDir(o.outputDir);
  const written: string[] = [];
  for (const id of ids) {
    const name = patchFileName(id.component);
    written.push(await writeOutputFile(o.outputDir, name, renderPatch(await readTemplate(`patches/${name}`), id, VERSION, seccompStyle(plan.kubernetesVersion), plan.userNamespaces), 0o644));
  }
  await emit(opts, { written, identities: ids }, () => written.map((w) => `wrote ${w}`).join('\n') + `\nUse: kubeadm upgrade apply|node --patches ${o.outputDir}\n`);
  return 'done';
}
