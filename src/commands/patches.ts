// patches as a command: plan the node, then write kubeadm patch files with its planned identities into
// --output-dir (never into the node). Refused (InputError, nothing written) when no component has a
// planned identity or a name the patches would use does not exist on the node. The caller
// (src/cli/patches.ts) renders what was written.
import { prepareOutputDir, writeOutputFile } from '../fs/output-dir.js';
import { loadConfig, loadNode } from '../inputs.js';
import { InputError } from '../errors.js';
import { seccompStyle } from '../model/version.js';
import { patchFileName, patchRefusal, renderHostUsersPatch, renderPatch } from '../plan/patches.js';
import { buildPlan } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { readTemplate } from '../templates.js';
import { VERSION } from '../version.js';

export interface PatchesCommandInputs {
  /** Host path of the node's root. */
  root: string;
  /** -c: host path of the config file, or null. */
  config: string | null;
  /** --output-dir: host path of the directory to write to (created if missing). */
  outputDir: string;
}

type Identity = NonNullable<Plan['components'][number]['identity']>;

export async function writePatches(inputs: PatchesCommandInputs): Promise<{ written: string[]; identities: Identity[] }> {
  const { config, record } = await loadConfig(inputs);
  const node = await loadNode(inputs, config);
  const plan = buildPlan(node, config, { now: new Date(), record });
  if (plan.userNamespaces === 'only') {
    // userNamespaces: only — no identities: each migrated component's patch is hostUsers: false alone.
    await prepareOutputDir(inputs.outputDir);
    const only = plan.components.filter((c) => c.migrate);
    const written = await Promise.all(only.map((c) => writeOutputFile(inputs.outputDir, patchFileName(c.component), renderHostUsersPatch(c.component, VERSION), 0o644)));
    return { written, identities: [] };
  }
  const ids = plan.components.flatMap((c) => (c.identity ? [c.identity] : []));
  if (ids.length === 0) throw new InputError('no component has a planned identity; run plan to see why', node.manifestsDir);
  const refusal = patchRefusal(ids, node);
  if (refusal) throw new InputError(refusal);
  await prepareOutputDir(inputs.outputDir);
  const written: string[] = [];
  for (const id of ids) {
    const name = patchFileName(id.component);
    written.push(await writeOutputFile(inputs.outputDir, name, renderPatch(await readTemplate(`patches/${name}`), id, VERSION, seccompStyle(plan.kubernetesVersion), plan.userNamespaces), 0o644));
  }
  return { written, identities: ids };
}
