// buildPlan: node state + config + clock → Plan. Pure: no I/O, no clock, no environment.
import { semver } from '../model/semver.js';
import { analyzeAccess, implicitWrites } from '../model/access.js';
import { expandConfigAccesses } from '../model/config-refs.js';
import type { FileAccess } from '../model/access.types.js';
import { COMPONENTS, type Component } from '../model/components.js';
import type { Config } from '../model/config.js';
import type { NodeState } from '../model/node.js';
import { identify } from '../model/identify.js';
import { runsAsUid } from '../model/pod.js';
import type { PodInfo } from '../model/pod.types.js';
import { listenPorts } from '../model/ports.js';
import { kubernetesSupport, KNOWN_KUBERNETES, targetNotes } from '../model/support.js';
import { etcdVersionFromImage, kubeVersionFromImage, seccompStyle } from '../model/version.js';
import { unifiedDiff } from './diff.js';
import { fingerprintInputs, sha256 } from './fingerprint.js';
import { configDifferences } from './config.js';
import { planIdentities, sharedGroupName, type SharedGroupSpec } from './identities.js';
import { applySecurity, type DesiredSecurity } from './manifest-edit.js';
import { groupUses, planFiles, sharedReaderSets } from './ownership.js';
import { markNewGrants } from './consent.js';
import { PLAN_API_VERSION, PLAN_KIND, type AccountAction, type ComponentPlan, type FileAction, type Identity, type IgnoredManifest, type ManifestAction, type Plan, type Problem } from './types.js';
import { compareText } from '../model/order.js';
import { normalizeNodePath } from '../paths.js';
import { userNamespaceMode, type UserNamespaceMode } from '../model/userns.js';
import { userNamespaceProblems, withHostUsers } from './userns-plan.js';

export interface PlanOptions {
  /** The clock, injected: planning never reads it. */
  now: Date;
  /** An upgrade target to assess (plan --kubernetes-version). */
  targetVersion?: string;
  /**
   * The node's migration record (src/state/record.ts), null when never migrated. Read from the tool's
   * root-owned state dir, never from a file a component can write: what it granted is restored without
   * asking; anything beyond it is a new grant that needs the operator's consent.
   */
  record?: import('../state/record.types.js').MigrationRecord | null;
  /** Paths the operator consents to grant beyond the record (apply --grant PATH, config `grants:`). */
  consentedGrants?: readonly string[];
}

interface FoundComponent {
  component: Component;
  path: string;
  text: string;
  pod: PodInfo;
}

/** Static pods that are not kubeadm's are left byte-identical (kube-vip, haproxy, a second scheduler…), each with its reason. */
export function findComponents(node: NodeState): { found: FoundComponent[]; ignored: IgnoredManifest[]; refused: Problem[]; warnings: Problem[] } {
  const found: FoundComponent[] = [];
  const ignored: IgnoredManifest[] = [];
  const refused: Problem[] = [];
  const warnings: Problem[] = [];
  for (const m of node.manifests) {
    if (!m.parsed.ok) {
      // discovery already rejected malformed files named like a component
      ignored.push({ file: m.fileName, reason: `not a Pod manifest the tool can read (${m.parsed.error.replace(`${m.path}: `, '')})` });
      continue;
    }
    const { pod, schemaIssues } = m.parsed;
    const id = identify(m.fileName, pod);
    // A manifest the kubelet would reject or misread blocks the plan when it is a component's; a pod
    // left alone only gets a warning (it is not ours to fix, and the plan does not touch it).
    for (const issue of schemaIssues) {
      const at = issue.line === null ? m.fileName : `${m.fileName} line ${issue.line}`;
      (id.kind === 'ignored' ? warnings : refused).push({ code: 'invalid-pod-spec', message: `${at}: ${issue.message}`, path: m.path, ...(id.kind === 'ignored' ? {} : { component: id.component }), fix: issue.fix });
    }
    if (id.kind === 'component') {
      found.push({ component: id.component, path: m.path, text: m.text, pod });
    } else if (id.kind === 'refused') {
      refused.push({ code: id.code, message: id.reason, path: m.path, component: id.component, fix: id.fix });
    } else {
      ignored.push({ file: m.fileName, reason: id.reason });
      if (id.kubeadmNamed) {
        warnings.push({ code: 'kubeadm-manifest-left-alone', message: `${m.fileName} is left untouched: ${id.reason}; if it is a control-plane component, it keeps running as it does today`, path: m.path });
      }
    }
  }
  found.sort((a, b) => COMPONENTS.indexOf(a.component) - COMPONENTS.indexOf(b.component));
  return { found, ignored: ignored.sort((a, b) => compareText(a.file, b.file)), refused, warnings };
}

export function desiredSecurity(identity: Identity, kubernetesVersion: string | null): DesiredSecurity {
  const apiserver = identity.component === 'kube-apiserver';
  return {
    runAsUser: identity.uid,
    runAsGroup: identity.gid,
    supplementalGroups: identity.supplementalGroups.map((g) => g.gid).sort((a, b) => a - b),
    seccomp: seccompStyle(kubernetesVersion),
    // The kube-apiserver binary carries the file capability cap_net_bind_service (image setcap since
    // v1.21, kubernetes#99145); exec fails with EPERM when it is not in the bounding set (#100914).
    capabilitiesAdd: apiserver ? ['NET_BIND_SERVICE'] : [],
    // no_new_privs would stop the apiserver from gaining that file capability (it could then not bind
    // a port below 1024); kubeadm leaves allowPrivilegeEscalation unset for it for the same reason.
    allowPrivilegeEscalation: apiserver ? null : false,
  };
}

export function buildPlan(node: NodeState, config: Config, opts: PlanOptions): Plan {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const findings: Findings = { problems, warnings };
  const { found, ignored, refused, warnings: identifyWarnings } = findComponents(node);
  const usernsMode = userNamespaceMode(config);
  problems.push(...refused);
  warnings.push(...identifyWarnings);
  if (opts.record) warnings.push(...recordDifferences(opts.record.config, config, node.manifestsDir));

  const { kubeImage, kubernetesVersion, etcdVersion } = versionsOf(found);
  checkNodeHasComponents(node, found, refused, kubeImage, kubernetesVersion, findings);
  const migrating = found.filter((f) => config.components.includes(f.component));
  problems.push(...userNamespaceProblems(node, config, opts.record, migrating, kubernetesVersion));
  warnAbsentSelected(node, found, config, findings);

  const layout = usernsMode === 'only' ? hostUsersOnly(migrating) : nonRootLayout(node, config, opts, found, migrating, kubernetesVersion, usernsMode, findings);
  const components = found.map((f): ComponentPlan => ({ component: f.component, manifest: f.path, migrate: migrating.includes(f), image: f.pod.image, version: f.component === 'etcd' ? etcdVersion : kubeVersionFromImage(f.pod.image), identity: layout.identities.find((i) => i.component === f.component) ?? null }));

  const byPath = (a: Problem, b: Problem) => compareText(a.path ?? '', b.path ?? '') || compareText(a.code, b.code) || compareText(a.message, b.message);
  return {
    apiVersion: PLAN_API_VERSION,
    kind: PLAN_KIND,
    createdAt: opts.now.toISOString(),
    root: node.root,
    manifestsDir: node.manifestsDir,
    fingerprint: fingerprintInputs(node, config),
    kubernetesVersion,
    etcdVersion,
    components,
    ignoredManifests: ignored,
    accounts: layout.accounts,
    files: layout.files,
    manifests: layout.manifests,
    problems: dedupe(problems).sort(byPath),
    warnings: dedupe(warnings).sort(byPath),
    ...(opts.targetVersion !== undefined ? { target: targetOf(kubernetesVersion, opts.targetVersion) } : {}),
    ...(usernsMode === 'off' ? {} : { userNamespaces: usernsMode }),
  };
}

/** What a plan changes on the node: the accounts, the files' owners and modes, the manifest edits. */
interface Layout {
  identities: Identity[];
  accounts: AccountAction[];
  files: FileAction[];
  manifests: ManifestAction[];
}

/** userNamespaces: only — each selected component gets hostUsers: false, and nothing else changes. */
function hostUsersOnly(migrating: readonly FoundComponent[]): Layout {
  const manifests = migrating.flatMap((f) => {
    const edit = withHostUsers({ text: f.text, changes: [] }, 'only', f.path);
    return edit.changes.length ? [manifestAction(f, edit, false)] : [];
  });
  return { identities: [], accounts: [], files: [], manifests };
}

/** The non-root layout: each component's accesses, its identity, the grants, and the manifest edits. */
function nonRootLayout(node: NodeState, config: Config, opts: PlanOptions, found: FoundComponent[], migrating: readonly FoundComponent[], kubernetesVersion: string | null, usernsMode: UserNamespaceMode, findings: Findings): Layout {
  // What each migrated component reads and writes, from its own manifest.
  const accesses = migrating.flatMap((f) => componentAccesses(node, f, kubernetesVersion, findings));
  const uses = groupUses(accesses, node.contents);
  const sharedSets = sharedReaderSets(uses, node.paths);
  const shared: SharedGroupSpec[] = sharedSets.map((s) => ({ name: sharedGroupName(s.members, config, s.saKey), members: s.members, saKey: s.saKey }));

  const ids = planIdentities(node, config, migrating.map((f) => f.component), shared, opts.record?.accounts ?? []);
  findings.problems.push(...ids.problems);
  findings.warnings.push(...ids.warnings);
  const filePlan = planFiles(node, uses, ids.identities, sharedReaderGids(shared, sharedSets, ids.accounts), accountNames(node, ids.accounts), { manifestsDir: node.manifestsDir, used: usedByAll(found, node) }, config.allowPaths ?? []);
  findings.problems.push(...filePlan.problems);
  findings.warnings.push(...filePlan.warnings);
  findings.problems.push(...sharedWithRootPods(filePlan.files, rootPodWritableDirs(node, found)));
  const consent = markNewGrants(filePlan.files, uses, opts.record, opts.consentedGrants);
  findings.problems.push(...consent.problems);

  const manifests = found.flatMap((f) => {
    const identity = ids.identities.find((i) => i.component === f.component);
    return identity ? manifestEdit(node, f, identity, ids.accounts, kubernetesVersion, usernsMode, findings) : [];
  });
  return { identities: ids.identities, accounts: ids.accounts, files: consent.files, manifests };
}

/** The problems and warnings a plan collects, appended to by each step. */
interface Findings {
  problems: Problem[];
  warnings: Problem[];
}

/** The Kubernetes release (from the first of kas, kcm, ks found) and etcd's, read from the images. */
function versionsOf(found: readonly FoundComponent[]): { kubeImage: string | undefined; kubernetesVersion: string | null; etcdVersion: string | null } {
  const imageOf = (c: Component) => found.find((f) => f.component === c)?.pod.image;
  const kubeImage = imageOf('kube-apiserver') ?? imageOf('kube-controller-manager') ?? imageOf('kube-scheduler');
  const etcdImage = imageOf('etcd');
  return { kubeImage, kubernetesVersion: kubeImage ? kubeVersionFromImage(kubeImage) : null, etcdVersion: etcdImage ? etcdVersionFromImage(etcdImage) : null };
}

/** No kubeadm manifest at all is a problem; a release outside the known ones a warning. */
function checkNodeHasComponents(node: NodeState, found: readonly FoundComponent[], refused: readonly Problem[], kubeImage: string | undefined, kubernetesVersion: string | null, findings: Findings): void {
  if (found.length === 0 && refused.length === 0) {
    findings.problems.push({ code: 'no-components', message: `no kubeadm control-plane manifests in ${node.manifestsDir}`, path: node.manifestsDir, fix: 'run on a kubeadm control-plane node, or point --root / manifestsDir at one' });
  } else if (kubernetesSupport(kubernetesVersion) !== 'known' && kubeImage) {
    findings.warnings.push({ code: 'kubernetes-version', message: `Kubernetes version ${kubernetesVersion ?? `of image ${kubeImage}`} is outside the versions this tool knows (${KNOWN_KUBERNETES}); review the plan carefully`, path: node.manifestsDir });
  }
}

/** A component the config selects (not all four) that the node does not run. */
function warnAbsentSelected(node: NodeState, found: readonly FoundComponent[], config: Config, findings: Findings): void {
  for (const c of config.components) {
    if (!found.some((f) => f.component === c) && config.components.length < 4) {
      findings.warnings.push({ code: 'component-absent', message: `${c} was selected in the config but has no kubeadm manifest on this node`, path: node.manifestsDir });
    }
  }
}

/**
 * What one migrated component reads and writes (its flags, its implicit writes and the files its config
 * files name), with what about them the plan must refuse or warn of.
 */
function componentAccesses(node: NodeState, f: FoundComponent, kubernetesVersion: string | null, findings: Findings): FileAccess[] {
  const direct = analyzeAccess(f.pod, f.component);
  const implicit = implicitWrites(f.pod, f.component);
  const own = [...direct.accesses, ...implicit.accesses];
  const inner = expandConfigAccesses(f.pod, f.component, own, node.configs);
  for (const n of inner.notes) findings.warnings.push(configNoteWarning(f, n));
  reportUnmapped(f, [...direct.unmapped, ...implicit.unmapped], findings);
  findings.problems.push(...privilegedPortProblems(f, kubernetesVersion));
  findings.warnings.push(...unanalysedMountWarnings(f, own, inner.notes));
  return [...own, ...inner.accesses];
}

type ConfigNote = ReturnType<typeof expandConfigAccesses>['notes'][number];

function configNoteWarning(f: FoundComponent, n: ConfigNote): Problem {
  return n.why === 'socket'
    ? { code: 'socket-reference', message: `${f.component} connects to the unix socket ${n.path} (${n.via}); connecting needs write permission on the socket, which its owner (the plugin) creates — make it accessible to the component's user`, path: n.path, component: f.component }
    : { code: 'path-not-on-host', message: `${f.component}: ${n.via} names ${n.path}, which is on no hostPath volume of the pod`, path: f.path, component: f.component };
}

/** Paths inside the image: a write there is a problem, a read only a warning. */
function reportUnmapped(f: FoundComponent, unmapped: ReturnType<typeof analyzeAccess>['unmapped'], findings: Findings): void {
  for (const u of unmapped) {
    if (u.access === 'write') {
      // A non-root process cannot create files in the image's directories (root-owned): the
      // component would exit at start (kube-apiserver: "open /var/log/…: permission denied").
      findings.problems.push({ code: 'write-path-in-image', message: `${f.component} must write ${u.containerPath} (${u.flag}), which is on no hostPath volume: inside the image, where the non-root ${f.component} cannot create it`, path: f.path, component: f.component, fix: `mount the directory of ${u.containerPath} from the host (a hostPath volume, type DirectoryOrCreate, and a volumeMount without readOnly) in ${f.path}, or remove ${u.flag}` });
      continue;
    }
    findings.warnings.push({ code: 'path-not-on-host', message: `${f.component} ${u.flag}${u.flag.startsWith('--') ? '=' : ' '}${u.containerPath} is not on a hostPath volume (it is inside the image); nothing to change for it`, path: f.path, component: f.component });
  }
}

function privilegedPortProblems(f: FoundComponent, kubernetesVersion: string | null): Problem[] {
  // Only kube-apiserver images from v1.21 carry cap_net_bind_service on the binary (kubernetes#99145);
  // before that, a non-root apiserver has no way to gain it (no ambient capabilities are set).
  const apiserverCanBind = f.component === 'kube-apiserver' && (kubernetesVersion === null || semver.gte(kubernetesVersion, '1.21.0'));
  return listenPorts(f.pod, f.component)
    .filter((p) => p.port < 1024 && !apiserverCanBind)
    .map((p) => ({ code: 'privileged-port', message: `${f.component} listens on port ${p.port} (${p.flag}); only kube-apiserver from v1.21 can bind below 1024 as non-root (its binary carries cap_net_bind_service)`, path: f.path, component: f.component, fix: `move ${p.flag} to a port >= 1024` }));
}

/** Read-write mounts no flag names a path in (a KMS plugin socket?): what runs there must suit the new user. */
function unanalysedMountWarnings(f: FoundComponent, accesses: readonly FileAccess[], notes: readonly ConfigNote[]): Problem[] {
  const out: Problem[] = [];
  for (const m of f.pod.allContainers.flatMap((c) => c.mounts).filter((x) => !x.readOnly)) {
    const v = f.pod.volumes.find((x) => x.name === m.name);
    if (!v || v.path === '/usr/libexec/kubernetes/kubelet-plugins/volume/exec') continue; // kcm's flexvolume dir: only read
    if (accesses.some((a) => a.volume === m.name) || notes.some((n) => n.why === 'socket' && n.path.startsWith(v.path))) continue;
    out.push({ code: 'writable-mount-unanalysed', message: `${f.component} mounts ${v.path} read-write but no flag names a path in it (a KMS plugin socket?); after the migration it runs as a non-root user, so sockets and files there must be accessible to it`, path: v.path, component: f.component });
  }
  return out;
}

/** Each shared reader set's GID (by its key), as the identity plan creates or reuses its group. */
function sharedReaderGids(shared: readonly SharedGroupSpec[], sharedSets: ReturnType<typeof sharedReaderSets>, accounts: readonly AccountAction[]): Map<string, number> {
  const sharedGids = new Map<string, number>();
  for (const [i, s] of shared.entries()) {
    const a = accounts.find((x) => x.name === s.name && x.action !== 'create-user' && x.action !== 'reuse-user');
    if (a && 'gid' in a) sharedGids.set(sharedSets[i]!.key, a.gid);
  }
  return sharedGids;
}

/** Names of IDs for the plan's words: the node's first account of each ID, then the accounts this plan creates. */
function accountNames(node: NodeState, accounts: readonly AccountAction[]): { user(uid: number): string | undefined; group(gid: number): string | undefined } {
  const userNames = new Map<number, string>();
  const groupNames = new Map<number, string>();
  for (const p of node.passwd) if (!userNames.has(p.uid)) userNames.set(p.uid, p.name);
  for (const g of node.group) if (!groupNames.has(g.gid)) groupNames.set(g.gid, g.name);
  for (const a of accounts) {
    if (a.action === 'create-user') userNames.set(a.uid, a.name);
    else if (a.action === 'create-group') groupNames.set(a.gid, a.name);
  }
  return { user: (u) => userNames.get(u), group: (g) => groupNames.get(g) };
}

/** A migrated component's manifest edit (none when it already holds the identity), and what about it to refuse or warn of. */
function manifestEdit(node: NodeState, f: FoundComponent, identity: Identity, accounts: readonly AccountAction[], kubernetesVersion: string | null, usernsMode: UserNamespaceMode, findings: Findings): ManifestAction[] {
  findings.problems.push(...containerOverrides(f, identity));
  const running = f.pod.podSecurityContext.runAsUser;
  if (running !== undefined && running !== 0 && running !== identity.uid) {
    const holder = node.passwd.find((p) => p.uid === running);
    findings.warnings.push({ code: 'identity-changes', message: `${f.component} runs as uid ${String(running)}${holder ? ` (${holder.name})` : ' (no such user here)'} today; the plan moves it to ${identity.user} (uid ${identity.uid})`, path: f.path, component: f.component, fix: `if uid ${String(running)} is the identity you want, pin it: accounts.${f.component}.uid in the config` });
  }
  const edit = withHostUsers(applySecurity(f.text, desiredSecurity(identity, kubernetesVersion), f.path), usernsMode, f.path);
  if (edit.changes.length === 0) return [];
  const accountExists = accounts.some((a) => a.action === 'reuse-user' && a.name === identity.user);
  return [manifestAction(f, edit, accountExists && runsAsUid(f.pod) !== identity.uid)];
}

/**
 * The config in force (-c, or the node's default config file) against the one the node was migrated
 * with: each difference is a change the operator reviews in the plan, one warning each.
 */
function recordDifferences(recorded: Config, config: Config, manifestsDir: string): Problem[] {
  return configDifferences(recorded, config).map((d) => ({
    code: 'config-differs-from-record',
    message: `config differs from the migration record: ${d}`,
    path: manifestsDir,
    fix: 'review the plan; apply makes the config the record\'s, or run without -c to keep the recorded config',
  }));
}

/** A host directory a non-kubeadm static pod running as root mounts read-write. */
interface RootPodMount {
  path: string;
  /** The manifest's node path. */
  manifest: string;
}

/**
 * Directories the static pods that are NOT kubeadm components (a log shipper, kube-vip) mount read-write
 * from a container that runs as root (no runAsUser, or 0: kubeadm-style images run as root).
 */
function rootPodWritableDirs(node: NodeState, found: readonly FoundComponent[]): RootPodMount[] {
  const out: RootPodMount[] = [];
  for (const m of node.manifests) {
    if (!m.parsed.ok || found.some((f) => f.path === m.path)) continue;
    const pod = m.parsed.pod;
    for (const c of pod.allContainers) {
      const uid = c.securityContext.runAsUser ?? pod.podSecurityContext.runAsUser ?? 0;
      if (uid !== 0 && uid !== '0') continue;
      for (const mount of c.mounts.filter((x) => !x.readOnly)) {
        const v = pod.volumes.find((x) => x.name === mount.name);
        if (v?.path.startsWith('/')) out.push({ path: normalizeNodePath(v.path), manifest: m.path });
      }
    }
  }
  return out;
}

/**
 * A directory handed to a component for writing that a root static pod also mounts read-write (or that
 * holds, or sits inside, such a mount): the component could plant files and links the root pod then
 * reads, follows or runs. Blocking: the directory stays root's.
 */
function sharedWithRootPods(files: readonly FileAction[], mounts: readonly RootPodMount[]): Problem[] {
  const within = (a: string, b: string) => a === b || a.startsWith(b === '/' ? '/' : `${b}/`);
  const out: Problem[] = [];
  for (const f of files.filter((x) => x.access === 'write')) {
    for (const m of mounts.filter((x) => within(f.path, x.path) || within(x.path, f.path))) {
      const component = f.readers[0]!;
      out.push({ code: 'shared-with-root-pod', message: `${f.path} would be handed to ${f.readers.join(', ')} for writing, but the static pod ${m.manifest} mounts ${m.path} read-write and runs as root: ${component} could plant files and links that root pod reads or follows`, path: f.path, component, fix: `give ${component} a directory of its own (change the flag naming ${f.path}), or mount ${m.path} readOnly in ${m.manifest}` });
    }
  }
  return out;
}

/**
 * Containers of the pod that would not run as the migrated identity: a container-level runAsUser or
 * runAsGroup wins over the pod's (PodSecurityContext docs), and a privileged container is root in all
 * but name. Every container counts — init containers, sidecars and ephemeral ones run in the pod too.
 */
export function containerOverrides(f: Pick<FoundComponent, 'component' | 'path' | 'pod'>, identity: { uid: number; gid: number }): Problem[] {
  const out: Problem[] = [];
  for (const c of f.pod.allContainers) {
    const where = `${c.list}[${c.index}]`;
    const name = c.list === 'containers' && c.index === 0 ? `${f.component}'s container` : `${f.component}'s ${where} (${c.name || 'unnamed'})`;
    for (const key of ['runAsUser', 'runAsGroup'] as const) {
      const v = c.securityContext[key];
      if (v !== undefined && v !== (key === 'runAsUser' ? identity.uid : identity.gid)) {
        out.push({ code: 'container-identity-override', message: `${name} securityContext sets ${key}: ${String(v)}, which overrides the pod-level ${key} the migration writes`, path: f.path, component: f.component, fix: `remove ${where}.securityContext.${key} from ${f.path}` });
      }
    }
    if (c.securityContext.privileged === true) {
      out.push({ code: 'container-privileged', message: `${name} is privileged (securityContext.privileged: true): it keeps every capability and device whatever user it runs as`, path: f.path, component: f.component, fix: `remove ${where}.securityContext.privileged from ${f.path} (or that container)` });
    }
  }
  return out;
}

/** The write-manifest action for an edit of a found component's manifest (migration and revert plans). */
export function manifestAction(f: Pick<FoundComponent, 'component' | 'path' | 'text'>, edit: { text: string; changes: string[] }, identityLost: boolean): ManifestAction {
  return { action: 'write-manifest', component: f.component, path: f.path, beforeSha256: sha256(f.text), after: edit.text, diff: unifiedDiff(f.text, edit.text, `a${f.path}`, `b${f.path}`), changes: edit.changes, identityLost };
}

/** Every host path each kubeadm component on the node uses (flags, files named in configs, volumes), migrated or not. */
function usedByAll(found: FoundComponent[], node: NodeState): Array<{ path: string; component: Component }> {
  return found.flatMap((f) => {
    const direct = analyzeAccess(f.pod, f.component).accesses;
    const all = [...direct, ...expandConfigAccesses(f.pod, f.component, direct, node.configs).accesses].map((a) => a.hostPath);
    return [...all, ...f.pod.volumes.map((v) => v.path)].flatMap((p) => (p.startsWith('/') ? [{ path: normalizeNodePath(p), component: f.component }] : []));
  });
}

function targetOf(current: string | null, requested: string) {
  const version = requested.replace(/^v/, '');
  return { version, ...targetNotes(current, version) };
}

function dedupe(list: Problem[]): Problem[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const k = `${p.code}\0${p.path}\0${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
