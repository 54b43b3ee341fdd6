// kubeadm-nonroot revert: the opposite migration, without needing the backups — its own plan,
// confirmation, journal and rollback, like apply.
import type { Command } from 'commander';
import { runPlanCommand, withRunOptions } from './apply.js';
import type { Wrap } from './main.js';

export function register(program: Command, run: Wrap): void {
  withRunOptions(
    program.command('revert').description("run the control plane as root again: manifests, kubeadm's default file owners and modes, accounts removed"),
    'apply a revert plan saved with "revert --dry-run -o json"; refused if the node changed since',
  ).action(run((opts, cmd) => runPlanCommand(opts, cmd, 'revert')));
}
