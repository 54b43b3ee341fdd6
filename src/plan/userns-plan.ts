// What the user-namespace mode changes in a plan (docs/user-namespaces.md):
//   - every migrated static pod gets `spec.hostUsers: false` (KEP-127; with hostNetwork, KEP-5607), a
//     manifest edit recorded and undone like the securityContext edits;
//   - `only` plans nothing else: no accounts, no owner or mode change, no runAsUser — the files stay
//     as kubeadm wrote them (root:root 0600) and the containers' root is an unprivileged host ID;
//   - the prerequisites (src/plan/userns.ts) and leaving a mode the node was migrated in are blocking
//     problems. Pure.
import type { Config } from '../model/config.js';
import type { NodeState } from '../model/node.js';
import { userNamespaceMode, type UserNamespaceMode } from '../model/userns.js';
import type { MigrationRecord } from '../state/record.types.js';
import { Editor, type EditResult } from '../yaml/splice.js';
import { HOST_USERS } from './manifest-edit.js';
import type { Problem } from './types.js';
import { userNamespacePrerequisites, type UsernsComponent } from './userns.js';

/** The edit with `hostUsers: false` added when the mode is not off (the edit unchanged when it is). */
export function withHostUsers(edit: EditResult, mode: UserNamespaceMode, source?: string): EditResult {
  if (mode === 'off') return edit;
  const ed = new Editor(edit.text, source);
  ed.set([...HOST_USERS], false, 'pod hostUsers');
  const more = ed.result();
  return { text: more.text, changes: [...edit.changes, ...more.changes] };
}

/** The mode the node was migrated in, from its record; null when it is not migrated now. */
export function migratedMode(record: MigrationRecord | null | undefined): UserNamespaceMode | null {
  return record?.status === 'migrated' ? userNamespaceMode(record.config) : null;
}

/**
 * Moving between modes on a migrated node: adding hostUsers to the non-root layout (off →
 * with-accounts) is a plain apply; anything else would have to undo part of the current layout (leave
 * user namespaces, drop the accounts and grants) or grant what the record does not hold (only →
 * with-accounts): it goes through rollback, which restores the node exactly, then a fresh apply.
 */
export function modeSwitchProblems(record: MigrationRecord | null | undefined, mode: UserNamespaceMode, manifestsDir: string): Problem[] {
  const from = migratedMode(record);
  if (from === null || from === mode || (from === 'off' && mode === 'with-accounts')) return [];
  return [{ code: 'userns-mode-switch', message: `the node was migrated with userNamespaces ${from} (migration record); going to ${mode} needs that migration undone first`, path: manifestsDir, fix: `run kubeadm-nonroot rollback first, then apply with --user-namespaces ${mode}; or keep --user-namespaces ${from}` }];
}

/** Every user-namespace problem of a plan: the mode switch, and the prerequisites when discovery read them. */
export function userNamespaceProblems(node: NodeState, config: Config, record: MigrationRecord | null | undefined, components: readonly UsernsComponent[], kubernetesVersion: string | null): Problem[] {
  const mode = userNamespaceMode(config);
  const switching = modeSwitchProblems(record, mode, node.manifestsDir);
  if (!node.userNamespaces) return switching;
  return [...switching, ...userNamespacePrerequisites({ mode, facts: node.userNamespaces, components, kubernetesVersion })];
}
