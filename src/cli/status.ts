// kubeadm-nonroot status: what the node's migration is — migrated or not, since when, by which version
// and operator, the config in force — and one line of health per component (verify's checks). A report:
// exit 0 whether migrated or not; exit 2 only on bad input (a malformed or untrusted record). The report
// is runStatus (src/commands/verify.ts); this file renders it.
import type { Command } from 'commander';
import type { Outcome, Wrap } from './main.js';
import type { GlobalOptions } from './options.js';
import { emit } from './output.js';
import { verifyCommandInputs, withRuntimeOptions } from './verify.js';

export function register(program: Command, run: Wrap): void {
  withRuntimeOptions(program.command('status').description("show the node's migration: migrated or not, since when, by whom, the config in force, and each component's health (read-only)")).action(run(statusCommand));
}

export async function statusCommand(opts: GlobalOptions, cmd: Command): Promise<Outcome> {
  const { runStatus } = await import('../commands/verify.js');
  const { status, record, rootFlag } = await runStatus(verifyCommandInputs(opts, cmd));
  await emit(opts, status, () => {
    const head = record
      ? `${record.status === 'migrated' ? 'Migrated' : record.status === 'rolled-back' ? 'Rolled back' : 'Reverted'}${record.status === 'migrated' ? ` since ${record.migratedAt}` : ` (${record.updatedAt})`}, by ${record.by} with kubeadm-nonroot ${record.toolVersion}; last change ${record.updatedAt}`
      : 'Not migrated by this tool (no migration record).';
    const { configSource: source } = status;
    const from = source.kind === 'defaults' ? 'defaults' : `${source.kind === 'file' ? '-c' : source.kind === 'default-file' ? 'default config file' : 'migration record'} ${source.path}`;
    const lines = [
      head,
      `Kubernetes ${status.kubernetesVersion ?? 'unknown'}, etcd ${status.etcdVersion ?? 'unknown'}.`,
      `Config in force: ${from}.`,
      `User namespaces: ${status.config.userNamespaces ?? 'off'}${record?.status === 'migrated' ? ` (applied: ${record.config.userNamespaces ?? 'off'})` : ''}.`,
      `Verify: ${status.verify.state}${status.verify.findings ? ` (${status.verify.findings} finding(s): kubeadm-nonroot verify${rootFlag})` : ''}${status.verify.runtimeChecked ? '' : ', processes not checked'}.`,
      ...status.components.map((c) => `  ${c.component.padEnd(24)} ${c.health.padEnd(13)} ${c.detail}`),
    ];
    return lines.join('\n') + '\n';
  });
  return 'done';
}
