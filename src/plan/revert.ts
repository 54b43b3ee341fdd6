// The revert plan: the opposite migration, for operators who want out long after the backups are gone.
// Manifests back to running as root (identity and capability fields removed; the pod seccompProfile
// kept where kubeadm itself writes it, i.e. from v1.22), files back to kubeadm's defaults (root;
// private keys, sa.pub and kubeconfigs 0600; certificates 0644; data dir root 0700), and the tool's
// accounts removed. Pure, like buildPlan.
import { semver } from '../model/semver.js';
import { analyzeAccess } from '../model/access.js';
import { expandConfigAccesses } from '../model/config-refs.js';
import type { FileAccess } from '../model/access.types.js';
import { DEFAULT_ACCOUNT } from '../model/components.js';
import type { Config } from '../model/config.js';
import type { NodeState } from '../model/node.js';
import { KUBEADM_WRITES_SECCOMP_SINCE } from '../model/support.js';
import { kubeVersionFromImage } from '../model/version.js';
import { fingerprintInputs } from './fingerprint.js';
import { createdByTool, NOLOGIN_SHELLS } from './identities.js';
import { removeSecurity } from './manifest-edit.js';
import { groupUses, handoverRefusal, hostCredential, isTrustStore, satisfies, type HandoverContext, type PathUse } from './ownership.js';
import { findComponents, manifestAction } from './plan.js';
import { PLAN_API_VERSION, REVERT_PLAN_KIND, type AccountAction, type FileAction, type ManifestAction, type Ownership, type Plan, type Problem } from './types.js';
import { GROUP_PATH, PASSWD_PATH } from '../model/node-paths.js';
import { compareText } from '../model/order.js';
import type { MigrationRecord, RecordedAccount } from '../state/record.types.js';

/** What the tool's journals (or migration record) say it created and has not removed since. */
export interface CreatedAccounts {
  users: readonly string[];
  groups: readonly string[];
}

const ROOT_IDENTITY = { user: 'root', uid: 0, group: 'root', gid: 0, supplementalGroups: [] };

/** kubeadm's own modes (pkiutil/keyutil/kubeconfig writers): keys, sa.pub and kubeconfigs 0600, certificates 0644. */
function kubeadmDefaultMode(path: string, secret: boolean): number {
  return secret || path.endsWith('.pub') ? 0o600 : 0o644;
}

/**
 * `opts.created`: the accounts the tool created on this node (src/state/created-accounts.ts); only those
 * are ever removed — none when unknown (the backups are gone): a name alone proves nothing.
 */
export function buildRevertPlan(node: NodeState, config: Config, opts: { now: Date; created?: CreatedAccounts; record?: MigrationRecord | null }): Plan {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const { found, ignored, refused } = findComponents(node);
  problems.push(...refused);
  const selected = found.filter((f) => config.components.includes(f.component));
  const kubeImage = found.find((f) => f.component !== 'etcd')?.pod.image ?? null;
  const version = kubeImage ? kubeVersionFromImage(kubeImage) : null;
  const keepSeccompField = version !== null && semver.gte(version, KUBEADM_WRITES_SECCOMP_SINCE);
  const manifests = manifestReverts(selected, keepSeccompField);
  const files = fileReverts(node, groupUses(selected.flatMap((f) => accessesOf(node, f)), node.contents));
  const accounts = revertAccounts(node, config, found, selected, opts.created ?? { users: [], groups: [] }, { problems, warnings }, opts.record?.accounts ?? []);
  const byPath = (a: Problem, b: Problem) => compareText(a.path ?? '', b.path ?? '') || compareText(a.code, b.code);
  return {
    apiVersion: PLAN_API_VERSION,
    kind: REVERT_PLAN_KIND,
    createdAt: opts.now.toISOString(),
    root: node.root,
    manifestsDir: node.manifestsDir,
    fingerprint: fingerprintInputs(node, config),
    kubernetesVersion: version,
    etcdVersion: null,
    components: found.map((f) => ({ component: f.component, manifest: f.path, migrate: selected.includes(f), image: f.pod.image, version: null, identity: selected.includes(f) ? { component: f.component, ...ROOT_IDENTITY } : null })),
    ignoredManifests: ignored,
    accounts,
    files,
    manifests,
    problems: problems.sort(byPath),
    warnings: warnings.sort(byPath),
  };
}

/** The migration's securityContext fields taken out of each selected manifest that has them. */
function manifestReverts(selected: Found, keepSeccompField: boolean): ManifestAction[] {
  return selected.flatMap((f) => {
    const edit = removeSecurity(f.text, { keepSeccompField, removeSeccompAnnotation: true }, f.path);
    return edit.changes.length ? [manifestAction(f, edit, false)] : [];
  });
}

/** What a component reads and writes: its flags' paths, and those named in the config files they name. */
function accessesOf(node: NodeState, f: Found[number]): FileAccess[] {
  const direct = analyzeAccess(f.pod, f.component).accesses;
  return [...direct, ...expandConfigAccesses(f.pod, f.component, direct, node.configs).accesses];
}

/** Each used path back to kubeadm's owner and mode, where it is not already; sorted by path. */
function fileReverts(node: NodeState, uses: PathUse[]): FileAction[] {
  const handover = { manifestsDir: node.manifestsDir, used: uses.flatMap((u) => u.readers.map((component) => ({ path: u.path, component }))) };
  const files = uses.flatMap((use) => {
    const action = fileRevert(node, use, handover);
    return action ? [action] : [];
  });
  return files.sort((a, b) => compareText(a.path, b.path));
}

function fileRevert(node: NodeState, use: PathUse, handover: HandoverContext): FileAction | null {
  const stat = node.paths[use.path];
  if (!stat || isTrustStore(use.path) || stat.type === 'symlink') return null;
  // What migrate never hands over, revert never "restores" either (/etc/shadow named by a flag is
  // root:shadow 0640, not kubeadm's 0644; /usr/bin named as a data dir is not root 0700).
  if (hostCredential(use.path) !== null) return null;
  if (use.access === 'write' && handoverRefusal(use.path, use.readers[0]!, handover, { stat, tree: node.trees[use.path] }) !== null) return null;
  const own = (uid: number, gid: number, mode: number): Ownership => ({ uid, gid, mode, user: uid === 0 ? 'root' : node.passwd.find((p) => p.uid === uid)?.name, group: gid === 0 ? 'root' : node.group.find((g) => g.gid === gid)?.name });
  const current = own(stat.uid, stat.gid, stat.mode);
  if (use.access === 'write') {
    if (stat.type !== 'dir') return null;
    const tree = node.trees[use.path] ?? { entries: 0, owners: [] };
    if (stat.uid === 0 && stat.gid === 0 && (stat.mode & 0o7777) === 0o700 && tree.owners.every((o) => o.uid === 0 && o.gid === 0)) return null;
    return { action: 'set-owner-recursive', path: use.path, current, desired: own(0, 0, 0o700), tree, readers: use.readers, access: 'write', secret: false, reason: 'back to kubeadm\'s default: root, 0700' };
  }
  if (stat.type !== 'file') return null;
  const desired = own(0, 0, kubeadmDefaultMode(use.path, use.secret));
  // Public files still owned by root keep their mode (it may have been set by the operator).
  if (!use.secret && stat.uid === 0 && stat.gid === 0) return null;
  if (satisfies(stat, desired)) return null;
  return { action: 'set-owner-mode', path: use.path, current, desired, readers: use.readers, access: 'read', secret: use.secret, reason: `back to kubeadm's default: root, ${use.secret ? 'private ' : ''}${desired.mode === 0o600 ? '0600' : '0644'}` };
}

type Found = ReturnType<typeof findComponents>['found'];

/**
 * The account removals of a revert: of the configured (or kubeadm's) names of the selected components and
 * the reader groups, only what `created` says the tool created — never an account matched by its name
 * (an operator's own kubeadm-foo-readers stays). A reader group goes only when none of its members stays
 * migrated: a partial revert must not leave sa.key group-owned by a GID the next system group receives.
 */
function revertAccounts(node: NodeState, config: Config, found: Found, selected: Found, created: CreatedAccounts, out: { problems: Problem[]; warnings: Problem[] }, recorded: readonly RecordedAccount[] = []): AccountAction[] {
  const accounts: AccountAction[] = [];
  const userOf = (c: Found[number]) => config.accounts[c.component]?.user ?? DEFAULT_ACCOUNT[c.component];
  const groupOf = (c: Found[number]) => config.accounts[c.component]?.group ?? userOf(c);
  const gname = (gid: number) => node.group.find((g) => g.gid === gid)?.name;
  const userNames = selected.map(userOf);
  const groupNames = new Set(selected.map(groupOf));
  const ownGroups = new Set(found.map(groupOf));
  const keptUsers = found.filter((f) => !selected.includes(f) && f.pod.podSecurityContext.runAsUser !== undefined).map(userOf);
  // Reader groups: groups the tool created that are no component's own group.
  const readerGroups = node.group.filter((g) => created.groups.includes(g.name) && !ownGroups.has(g.name));
  for (const g of readerGroups) if (!g.members.some((m) => keptUsers.includes(m))) groupNames.add(g.name);
  const notCreated = (kind: string, name: string, id: number, path: string): Problem => ({ code: 'account-not-created', message: `${kind} ${name} (${kind === 'user' ? 'uid' : 'gid'} ${id}) was not created by kubeadm-nonroot (no journal under the backups directory says it was); it stays`, path, fix: 'remove it yourself if it is no longer needed' });
  const deleted: string[] = [];
  for (const u of node.passwd.filter((p) => userNames.includes(p.name))) {
    if (!created.users.includes(u.name)) {
      out.warnings.push(notCreated('user', u.name, u.uid, PASSWD_PATH));
      continue;
    }
    // The record says the tool created it with this uid: a pinned uid above UID_MIN is still the tool's.
    const pinnedByTool = createdByTool(recorded, 'user', u.name, u.uid);
    if (u.uid === 0 || !NOLOGIN_SHELLS.includes(u.shell) || (u.uid >= node.loginDefs.uidMin && !pinnedByTool)) {
      out.problems.push({ code: 'account-is-login', message: `user ${u.name} (uid ${u.uid}, shell ${u.shell}) is not a system account the tool would have created; refusing to delete it`, path: PASSWD_PATH, fix: 'remove it yourself if it is no longer needed, or leave it out with components in the config' });
      continue;
    }
    deleted.push(u.name);
    const supplementary = node.group.filter((g) => g.members.includes(u.name)).map((g) => g.name);
    accounts.push({ action: 'delete-user', name: u.name, uid: u.uid, gid: u.gid, group: gname(u.gid) ?? String(u.gid), supplementaryGroups: supplementary, shell: u.shell, home: u.home, comment: u.gecos });
  }
  for (const g of node.group.filter((x) => groupNames.has(x.name))) {
    // The tool's own group of a user it removes now must be nobody else's primary group and have no other members.
    const readers = readerGroups.includes(g);
    const ownGroup = created.groups.includes(g.name) && node.passwd.every((p) => p.gid !== g.gid || deleted.includes(p.name)) && g.members.every((m) => deleted.includes(m));
    if (!readers && !ownGroup) {
      out.warnings.push(created.groups.includes(g.name) ? { code: 'account-not-created', message: `group ${g.name} (gid ${g.gid}) is still used by accounts that stay (${g.members.filter((m) => !deleted.includes(m)).join(', ') || 'as a primary group'}); it stays`, path: GROUP_PATH, fix: 'remove it yourself once nothing uses it' } : notCreated('group', g.name, g.gid, GROUP_PATH));
      continue;
    }
    accounts.push({ action: 'delete-group', name: g.name, gid: g.gid, members: g.members });
  }
  return accounts;
}
