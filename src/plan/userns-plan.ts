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
import { etcdVersionFromImage, kubeVersionFromImage } from '../model/version.js';
import { compareText } from '../model/order.js';
import type { MigrationRecord } from '../state/record.types.js';
import { Editor, type EditResult } from '../yaml/splice.js';
import { fingerprintInputs } from './fingerprint.js';
import { HOST_USERS } from './manifest-edit.js';
import { PLAN_API_VERSION, PLAN_KIND, type IgnoredManifest, type ManifestAction, type Plan, type Problem } from './types.js';
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

/** What the userns-only plan takes from the migration plan's own reading of the node (src/plan/plan.ts). */
export interface OnlyPlanInput {
  node: NodeState;
  config: Config;
  now: Date;
  record?: MigrationRecord | null;
  /** The kubeadm components found, sorted in rollout order, and what findComponents refused or warned. */
  found: ReadonlyArray<UsernsComponent & { text: string }>;
  ignored: IgnoredManifest[];
  refused: Problem[];
  warnings: Problem[];
  /** The write-manifest action of an edit (src/plan/plan.ts manifestAction). */
  manifestAction: (f: UsernsComponent & { text: string }, edit: EditResult) => ManifestAction;
}

/** The plan of userNamespaces: only — hostUsers: false on each selected component, nothing else. */
export function buildOnlyPlan(input: OnlyPlanInput): Plan {
  const { node, config, found } = input;
  const image = (c: string) => found.find((f) => f.component === c)?.pod.image;
  const kubeImage = image('kube-apiserver') ?? image('kube-controller-manager') ?? image('kube-scheduler');
  const kubernetesVersion = kubeImage ? kubeVersionFromImage(kubeImage) : null;
  const etcdImage = image('etcd');
  const migrating = found.filter((f) => config.components.includes(f.component));
  const problems = [...input.refused, ...userNamespaceProblems(node, config, input.record, migrating, kubernetesVersion)];
  if (found.length === 0 && input.refused.length === 0) problems.push({ code: 'no-components', message: `no kubeadm control-plane manifests in ${node.manifestsDir}`, path: node.manifestsDir, fix: 'run on a kubeadm control-plane node, or point --root / manifestsDir at one' });
  const manifests = migrating.flatMap((f) => {
    const edit = withHostUsers({ text: f.text, changes: [] }, 'only', f.path);
    return edit.changes.length ? [input.manifestAction(f, edit)] : [];
  });
  const byPath = (a: Problem, b: Problem) => compareText(a.path ?? '', b.path ?? '') || compareText(a.code, b.code) || compareText(a.message, b.message);
  return {
    apiVersion: PLAN_API_VERSION,
    kind: PLAN_KIND,
    createdAt: input.now.toISOString(),
    root: node.root,
    manifestsDir: node.manifestsDir,
    fingerprint: fingerprintInputs(node, config),
    kubernetesVersion,
    etcdVersion: etcdImage ? etcdVersionFromImage(etcdImage) : null,
    components: found.map((f) => ({ component: f.component, manifest: f.path, migrate: migrating.includes(f), image: f.pod.image, version: f.component === 'etcd' ? (etcdImage ? etcdVersionFromImage(etcdImage) : null) : kubeVersionFromImage(f.pod.image), identity: null })),
    ignoredManifests: input.ignored,
    accounts: [],
    files: [],
    manifests,
    problems: problems.sort(byPath),
    warnings: input.warnings.sort(byPath),
    userNamespaces: 'only',
  };
}
