// Accounts for the migrated components: reuse what exists, allocate what is missing.
//
// Compatible with kubeadm's RootlessControlPlane allocation (KEP-2568; cmd/kubeadm/app/util/users/users_linux.go):
// lowest free IDs, ascending, inside [SYS_*_MIN, SYS_*_MAX]; UIDs and GIDs allocated independently;
// groups in the order etcd, kas, kcm, ks, sa-key-readers; users in the order etcd, kas, kcm, ks; an
// account that already exists under the name is reused with its IDs. Better than kubeadm where it is
// weak: IDs known to NSS are avoided too, pinned IDs from the config are honoured, an existing
// group missing a member gets it added instead of aborting, and only accounts for components that are
// actually migrated are created (kubeadm creates kubeadm-etcd even with external etcd).
import { DEFAULT_ACCOUNT, SA_KEY_READERS_GROUP, SHORT_NAME, sortComponents, type Component } from '../model/components.js';
import type { Config } from '../model/config.js';
import type { GroupEntry, NodeState, PasswdEntry } from '../model/node.js';
import type { AccountAction, Identity, Problem } from './types.js';
import { GROUP_PATH, LOGIN_DEFS_PATH, PASSWD_PATH } from '../model/node-paths.js';
import { compareText } from '../model/order.js';
import type { RecordedAccount } from '../state/record.types.js';

/**
 * Did the tool create this account, with these IDs, according to the node's migration record? Such an
 * account is the tool's whatever its ID: a fleet config may pin IDs above UID_MIN (docs/config.md),
 * which would otherwise look like a login account on the next run.
 */
export function createdByTool(recorded: readonly RecordedAccount[], kind: 'user' | 'group', name: string, id: number): boolean {
  return recorded.some((a) => a.kind === kind && a.name === name && a.id === id && a.created);
}
import { MAX_POD_ID } from '../model/account-names.js';

/** Shells that cannot log in; an existing account with any other shell is a human or service login. */
/** The shell kubeadm's RootlessControlPlane gate writes and insists on for its accounts. */
const KUBEADM_SHELL = '/bin/false';

export const NOLOGIN_SHELLS = ['/bin/false', '/usr/bin/false', '/usr/sbin/nologin', '/sbin/nologin', '/bin/nologin', '/usr/bin/nologin'];

/**
 * Groups whose members are root in all but name, or can read what only root should: a component's
 * account never belongs to one (as primary or supplementary group), and the tool never reuses one as a
 * component's or reader group. Reasons (Debian's base-passwd README and the distributions' udev rules):
 */
const PRIVILEGED_GROUPS: Readonly<Record<string, string>> = {
  root: 'GID 0: owns most of the system',
  shadow: 'reads /etc/shadow (password hashes)',
  disk: 'raw access to block devices: reads and writes any filesystem',
  kmem: 'reads kernel and physical memory (/dev/mem, /dev/kmem, /dev/port)',
  tty: 'writes to every terminal',
  adm: 'reads the system logs (which carry secrets); an administrators group on Ubuntu',
  'systemd-journal': 'reads the whole system journal',
  sudo: 'sudo rights (Debian, Ubuntu)',
  wheel: 'sudo/su rights (RHEL, SUSE, Arch)',
  admin: 'sudo rights (older Ubuntu)',
  staff: 'writes /usr/local, whose programs root runs (Debian)',
  docker: 'controls the Docker daemon: root on the host',
  lxd: 'controls LXD: root on the host',
  incus: 'controls Incus: root on the host',
  libvirt: 'controls libvirt virtual machines and their disks',
  bin: 'owns system programs on some distributions',
  sys: 'owns system files on some distributions',
  utmp: 'writes the login records',
};

/** Why a group is privileged (PRIVILEGED_GROUPS, or GID 0 under any name), or null. */
export function privilegedGroup(name: string, gid: number): string | null {
  if (gid === 0) return PRIVILEGED_GROUPS.root!;
  return Object.hasOwn(PRIVILEGED_GROUPS, name) ? PRIVILEGED_GROUPS[name]! : null;
}

/**
 * Groups the distributions create for their own use (Debian base-passwd's static groups and the
 * dynamic ones its packages add, Fedora/RHEL setup and systemd's sysusers.d, Arch filesystem): each
 * grants something (ssl-cert reads the host's TLS keys, input/video/render/kvm open devices, src
 * writes /usr/src), so none is ever a component's group, whatever GID it has. Checked with GIDs
 * below SYS_GID_MIN (the distributions' static range), which are refused whatever their name.
 */
const DISTRIBUTION_GROUPS: ReadonlySet<string> = new Set([
  ...Object.keys(PRIVILEGED_GROUPS),
  'daemon', 'lp', 'mail', 'news', 'uucp', 'man', 'proxy', 'dialout', 'fax', 'voice', 'cdrom', 'floppy', 'tape', 'audio', 'dip',
  'www-data', 'backup', 'operator', 'list', 'irc', 'src', 'gnats', 'video', 'sasl', 'plugdev', 'games', 'users', 'nogroup', 'nobody',
  'ssl-cert', 'input', 'kvm', 'render', 'sgx', 'netdev', 'crontab', 'messagebus', 'dbus', 'polkitd', 'lpadmin', 'sambashare',
  'mlocate', 'plocate', 'syslog', 'uuidd', 'tss', 'rdma', 'avahi', 'bluetooth', 'pulse', 'pulse-access', 'scanner', 'ftp', 'http',
  'systemd-network', 'systemd-resolve', 'systemd-timesync', 'systemd-coredump', 'systemd-oom', '_ssh', 'ssh_keys', 'sshd',
  'printadmin', 'cgred', 'chrony', '_chrony', 'unbound', 'sssd', 'lock', 'mem', 'utempter', 'log', 'rfkill', 'certs',
  'ssl', 'tcpdump', 'wireshark', 'dnsmasq', 'landscape', 'cdrw', 'usb', 'optical', 'storage', 'power',
]);

/**
 * Why an existing group may not be reused (allow-list: only a group dedicated to the component, or to
 * the components sharing a reader group), or null. `allowedMembers`: the users the plan puts in it;
 * `ownUser`: the component user whose own group it is (null for a reader group). Dedicated: not a
 * distribution group (by name, or by a GID below SYS_GID_MIN), no members but those, and no other
 * account's primary group.
 */
function notDedicatedGroup(node: NodeState, e: GroupEntry, allowedMembers: readonly string[], ownUser: string | null): { code: 'account-system-group' | 'group-unexpected-members' | 'account-not-dedicated'; why: string; extra: string[] } | null {
  const extra = e.members.filter((m) => !allowedMembers.includes(m) && m !== ownUser);
  if (DISTRIBUTION_GROUPS.has(e.name)) return { code: 'account-system-group', why: `${e.name} is a group the distribution creates for its own use`, extra };
  if (e.gid < node.loginDefs.sysGidMin) return { code: 'account-system-group', why: `GID ${e.gid} is below SYS_GID_MIN ${node.loginDefs.sysGidMin} of ${LOGIN_DEFS_PATH}, the distribution's static range`, extra };
  if (extra.length) return { code: 'group-unexpected-members', why: `it also lists ${extra.join(', ')} as members, who would be able to read what it guards`, extra };
  const primaryOf = node.passwd.filter((p) => p.gid === e.gid && p.name !== ownUser && !allowedMembers.includes(p.name)).map((p) => p.name);
  if (primaryOf.length) return { code: 'account-not-dedicated', why: `it is the primary group of ${primaryOf.join(', ')}`, extra };
  return null;
}

/**
 * Groups an existing account belongs to that the plan does not give it (allow-list: its own group and
 * the reader groups planned for it). A reused account must be dedicated to its component.
 */
function extraMemberships(node: NodeState, user: PasswdEntry, planned: readonly string[]): string[] {
  return node.group.filter((g) => g.members.includes(user.name) && !planned.includes(g.name)).map((g) => g.name);
}

export interface SharedGroupSpec {
  name: string;
  members: Component[];
  /** The group for the service-account signing key shared by kube-apiserver and kube-controller-manager. */
  saKey: boolean;
}

/** Flags through which kube-apiserver and kube-controller-manager read the service-account key pair. */
const SA_KEY_FLAGS = new Set(['--service-account-private-key-file', '--service-account-signing-key-file', '--service-account-key-file']);

/**
 * Which reader group a secret read by several components goes to: one group per set of readers, and
 * for kube-apiserver + kube-controller-manager the service-account key apart from any other secret
 * they share (a cloud config, a CA key in a custom path), so that kubeadm-sa-key-readers grants
 * exactly what kubeadm's gate granted (sa.key) and its name never hides what else a group opens.
 */
export function sharedGroupKey(readers: readonly Component[], flags: readonly string[]): string {
  const sorted = sortComponents(readers);
  return `${sorted.join(',')}${isKasKcm(sorted) && flags.some((f) => SA_KEY_FLAGS.has(f)) ? '/sa-key' : ''}`;
}

function isKasKcm(sorted: readonly Component[]): boolean {
  return sorted.length === 2 && sorted[0] === 'kube-apiserver' && sorted[1] === 'kube-controller-manager';
}

/**
 * Name of a shared reader group. The service-account key shared by kas and kcm: kubeadm's
 * kubeadm-sa-key-readers (cmd/kubeadm/app/constants/constants.go, or config saKeyReaders.group).
 * Any other secret shared by a set of components: kubeadm-<short names>-readers, e.g.
 * kubeadm-kas-kcm-readers for an Azure cloud config, kubeadm-etcd-kas-readers for a key both use.
 */
export function sharedGroupName(members: Component[], config: Config, saKey: boolean): string {
  const sorted = sortComponents(members);
  if (saKey && isKasKcm(sorted)) return config.saKeyReaders.group ?? SA_KEY_READERS_GROUP;
  return `kubeadm-${sorted.map((c) => SHORT_NAME[c]).join('-')}-readers`;
}

interface IdentityPlan {
  identities: Identity[];
  accounts: AccountAction[];
  problems: Problem[];
  warnings: Problem[];
}

interface GroupDecision {
  name: string;
  gid: number | null; // null until allocated
  members: string[]; // wanted members (user names)
  existing: GroupEntry | null;
  pinned: number | undefined;
}

/** What every step of planIdentities reads, and the problems and warnings they collect. */
interface IdentityContext {
  node: NodeState;
  config: Config;
  shared: SharedGroupSpec[];
  recorded: readonly RecordedAccount[];
  /** The components to migrate, in kubeadm's order. */
  ordered: Component[];
  problems: Problem[];
  warnings: Problem[];
}

interface UserDecision {
  component: Component;
  name: string;
  uid: number | null;
  existing: PasswdEntry | null;
  pinned?: number;
}

const userNameOf = (ctx: IdentityContext, c: Component): string => ctx.config.accounts[c]?.user ?? DEFAULT_ACCOUNT[c];
const groupNameOf = (ctx: IdentityContext, c: Component): string => ctx.config.accounts[c]?.group ?? userNameOf(ctx, c);
const passwdEntry = (node: NodeState, name: string): PasswdEntry | null => node.passwd.find((p) => p.name === name) ?? null;
const groupEntry = (node: NodeState, name: string): GroupEntry | null => node.group.find((g) => g.name === name) ?? null;

export function planIdentities(node: NodeState, config: Config, components: Component[], shared: SharedGroupSpec[], recorded: readonly RecordedAccount[] = []): IdentityPlan {
  const ctx: IdentityContext = { node, config, shared, recorded, ordered: sortComponents(components), problems: [], warnings: [] };
  reportUnreadableAccountLines(ctx);
  const groups = plannedGroups(ctx);
  for (const g of groups) reuseExistingGroup(ctx, g);
  allocateGids(ctx, groups);
  const users = ctx.ordered.map((c): UserDecision => ({ component: c, name: userNameOf(ctx, c), uid: null, existing: passwdEntry(node, userNameOf(ctx, c)), pinned: config.accounts[c]?.uid }));
  for (const u of users) reuseExistingUser(ctx, u, groups);
  allocateUids(ctx, users);
  const accounts = groupActions(node, groups);
  const identities: Identity[] = [];
  for (const u of users) {
    const g = groups.find((x) => x.name === groupNameOf(ctx, u.component))!;
    if (u.uid === null || g.gid === null) continue;
    const supplementary = groups.filter((x) => x.members.includes(u.name) && x.gid !== null);
    accounts.push(userAction(u, u.uid, g.name, g.gid, supplementary));
    identities.push({ component: u.component, user: u.name, uid: u.uid, group: g.name, gid: g.gid, supplementalGroups: supplementary.map((x) => ({ name: x.name, gid: x.gid! })) });
  }
  return { identities, accounts, problems: ctx.problems, warnings: ctx.warnings };
}

/**
 * Broken account lines about root or an account this plan creates or reuses: the tool cannot tell what
 * that account is (glibc skips the line; shadow-utils keeps it, so useradd could add a second account of
 * the same name, and a skipped root line makes ID 0 look free).
 */
function reportUnreadableAccountLines(ctx: IdentityContext): void {
  const ours = new Set(['root', ...ctx.ordered.map((c) => userNameOf(ctx, c)), ...ctx.ordered.map((c) => groupNameOf(ctx, c)), ...ctx.shared.map((x) => x.name)]);
  for (const l of ctx.node.unreadableAccountLines ?? []) {
    if (!ours.has(l.name)) continue;
    ctx.problems.push({ code: 'account-line-unreadable', message: `line ${l.line + 1} of ${l.path} is about ${l.name} but cannot be read (${l.why})`, path: l.path, fix: `repair line ${l.line + 1} of ${l.path} (${l.path === GROUP_PATH ? 'grpck' : 'pwck'} -r lists broken lines)` });
  }
}

/**
 * The groups, in kubeadm's order: per-component groups, then shared reader groups (the sa-key readers
 * first). A user that exists without its group keeps its primary GID: the group is created with that
 * GID if it is free.
 */
function plannedGroups(ctx: IdentityContext): GroupDecision[] {
  const { node, config } = ctx;
  const groups: GroupDecision[] = [];
  for (const c of ctx.ordered) {
    const name = groupNameOf(ctx, c);
    if (!groups.some((g) => g.name === name)) groups.push({ name, gid: null, members: [], existing: groupEntry(node, name), pinned: config.accounts[c]?.gid });
  }
  const sharedSorted = [...ctx.shared].sort((a, b) => (a.saKey ? -1 : b.saKey ? 1 : compareText(a.name, b.name)));
  for (const s of sharedSorted) {
    const pinned = s.saKey ? config.saKeyReaders.gid : undefined;
    groups.push({ name: s.name, gid: null, members: sortComponents(s.members).map((c) => userNameOf(ctx, c)), existing: groupEntry(node, s.name), pinned });
  }
  for (const c of ctx.ordered) {
    const u = passwdEntry(node, userNameOf(ctx, c));
    const g = groups.find((x) => x.name === groupNameOf(ctx, c))!;
    if (u && u.gid !== 0 && !g.existing && g.pinned === undefined && !node.group.some((x) => x.gid === u.gid)) g.pinned = u.gid;
  }
  return groups;
}

/** An existing group is reused (its GID taken) unless it cannot serve; a missing one only when NSS does not hold the name. */
function reuseExistingGroup(ctx: IdentityContext, g: GroupDecision): void {
  const { node, problems } = ctx;
  if (!g.existing) {
    if (node.nss?.groups.some((n) => n.name === g.name)) {
      problems.push({ code: 'account-only-in-nss', message: `group ${g.name} exists in NSS (LDAP/SSSD/…) but not in /etc/group, so groupadd cannot create it locally`, path: GROUP_PATH, fix: `remove ${g.name} from the directory service, or pick another name with accounts.<component>.group in the config` });
    }
    return;
  }
  const e = g.existing;
  if (e.gid === 0) {
    problems.push({ code: 'account-is-root', message: `group ${g.name} exists with GID 0 (root's group, line ${e.line + 1} of ${GROUP_PATH}); a component must not run with it`, path: GROUP_PATH, fix: `remove or renumber group ${g.name} (groupmod -g NEWGID ${g.name})` });
    return;
  }
  if (e.gid > MAX_POD_ID) {
    problems.push(idOutOfRange(`group ${g.name}`, 'GID', e.gid, GROUP_PATH, e.line));
    return;
  }
  const privileged = privilegedGroup(e.name, e.gid);
  if (privileged) {
    problems.push({ code: 'account-privileged-group', message: `group ${g.name} (GID ${e.gid}) is a privileged system group (${privileged}); a component must not run with it`, path: GROUP_PATH, fix: `choose another group name with accounts.<component>.group (or saKeyReaders.group) in the config` });
    return;
  }
  if (g.pinned !== undefined && g.pinned !== e.gid) {
    problems.push({ code: 'account-id-conflict', message: `group ${g.name} exists with GID ${e.gid} but the config pins GID ${g.pinned}`, path: GROUP_PATH, fix: `change the config to gid: ${e.gid}, or renumber the group (groupmod -g ${g.pinned} ${g.name})` });
    return;
  }
  if (e.gid > node.loginDefs.sysGidMax && !createdByTool(ctx.recorded, 'group', e.name, e.gid)) {
    ctx.warnings.push({ code: 'account-outside-system-range', message: `group ${g.name} has GID ${e.gid}, outside the system range ${node.loginDefs.sysGidMin}-${node.loginDefs.sysGidMax} of /etc/login.defs; reusing it`, path: GROUP_PATH });
  }
  const isShared = ctx.shared.some((s) => s.name === g.name);
  const owner = isShared ? undefined : ctx.ordered.find((c) => groupNameOf(ctx, c) === g.name);
  const ownUser = owner ? userNameOf(ctx, owner) : null;
  const notDedicated = notDedicatedGroup(node, e, g.members, ownUser);
  if (notDedicated) {
    const { code, why, extra } = notDedicated;
    problems.push({ code, message: `group ${g.name} (GID ${e.gid}, line ${e.line + 1} of ${GROUP_PATH}) is not dedicated to ${ownUser ?? 'the components sharing it'}: ${why}; a component runs only with its own group and the tool's reader groups`, path: GROUP_PATH, fix: code === 'group-unexpected-members' ? `remove them: ${extra.map((m) => `gpasswd -d ${m} ${g.name}`).join('; ')}` : `choose another name with accounts.<component>.group (or saKeyReaders.group) in the config; the tool then creates a dedicated group` });
    return;
  }
  g.gid = e.gid;
}

/**
 * GIDs for the groups to create: pinned first (validated), then the lowest free in the system range.
 * GID 0 is root's whether or not /etc/group has a line for it: never allocated (nor UID 0 below).
 */
function allocateGids(ctx: IdentityContext, groups: GroupDecision[]): void {
  const { node, problems } = ctx;
  const takenGids = new Set<number>([0, ...node.group.map((g) => g.gid), ...(node.nss?.groups.map((g) => g.gid) ?? [])]);
  for (const g of groups) {
    if (g.existing || g.pinned === undefined) continue;
    if (g.pinned === 0) {
      problems.push({ code: 'account-is-root', message: `GID 0 (root's group) is wanted for group ${g.name}; a component must not run with it`, path: GROUP_PATH, fix: `pin another gid for ${g.name} in the config` });
      continue;
    }
    const holder = node.group.find((x) => x.gid === g.pinned) ?? node.nss?.groups.find((x) => x.gid === g.pinned);
    if (holder) {
      problems.push({ code: 'account-id-conflict', message: `GID ${g.pinned} wanted for group ${g.name} already belongs to group ${holder.name}`, path: GROUP_PATH, fix: `pin another gid for ${g.name} in the config` });
      continue;
    }
    g.gid = g.pinned;
    takenGids.add(g.pinned);
  }
  const needGids = groups.filter((g) => g.gid === null && !g.existing && g.pinned === undefined);
  const gids = allocate(takenGids, node.loginDefs.sysGidMin, Math.min(node.loginDefs.sysGidMax, MAX_POD_ID), needGids.length);
  if (gids === null) {
    problems.push({ code: 'id-range-exhausted', message: `cannot allocate ${needGids.length} GIDs: the system range ${node.loginDefs.sysGidMin}-${node.loginDefs.sysGidMax} has fewer free IDs`, path: LOGIN_DEFS_PATH, fix: 'widen SYS_GID_MIN/SYS_GID_MAX in /etc/login.defs, or pin gids in the config' });
  } else {
    needGids.forEach((g, i) => (g.gid = gids[i]!));
  }
}

/**
 * The groups a component's user may belong to: its own, the reader groups this plan puts it in, and
 * kubeadm's gate's sa-key reader group (the gate put kas and kcm in it whatever is migrated now).
 */
function allowedGroupsOf(ctx: IdentityContext, u: UserDecision, groups: readonly GroupDecision[]): string[] {
  const gateReaders = ctx.config.saKeyReaders.group ?? SA_KEY_READERS_GROUP;
  const gateMember = u.component === 'kube-apiserver' || u.component === 'kube-controller-manager';
  return [groupNameOf(ctx, u.component), ...(gateMember ? [gateReaders] : []), ...groups.filter((x) => x.members.includes(u.name)).map((x) => x.name)];
}

/** An existing user is reused (its UID taken) unless it cannot serve; a missing one only when NSS does not hold the name. */
function reuseExistingUser(ctx: IdentityContext, u: UserDecision, groups: readonly GroupDecision[]): void {
  const { node, problems } = ctx;
  const g = groups.find((x) => x.name === groupNameOf(ctx, u.component))!;
  if (!u.existing) {
    if (node.nss?.users.some((n) => n.name === u.name)) {
      problems.push({ code: 'account-only-in-nss', message: `user ${u.name} exists in NSS (LDAP/SSSD/…) but not in /etc/passwd, so useradd cannot create it locally`, path: PASSWD_PATH, fix: `pick another name with accounts.${u.component}.user in the config` });
    }
    return;
  }
  const e = u.existing;
  const where = `user ${u.name} (uid ${e.uid}, line ${e.line + 1} of /etc/passwd)`;
  // Created by the tool with this very uid (the record says so): its uid may be above UID_MIN, but a
  // login shell still means someone made it a login account since.
  const ours = createdByTool(ctx.recorded, 'user', e.name, e.uid);
  if (e.uid === 0) {
    problems.push({ code: 'account-is-root', message: `${where} is root; a component must not run as UID 0`, path: PASSWD_PATH, fix: `remove ${u.name} or choose another name with accounts.${u.component}.user` });
  } else if (e.uid > MAX_POD_ID || e.gid > MAX_POD_ID) {
    problems.push(idOutOfRange(`user ${u.name}`, e.uid > MAX_POD_ID ? 'UID' : 'primary GID', e.uid > MAX_POD_ID ? e.uid : e.gid, PASSWD_PATH, e.line));
  } else if ((e.uid >= node.loginDefs.uidMin && !ours) || !NOLOGIN_SHELLS.includes(e.shell)) {
    problems.push({ code: 'account-is-login', message: `${where} looks like a login account (shell ${e.shell || '(none)'}${e.uid >= node.loginDefs.uidMin ? `, uid >= UID_MIN ${node.loginDefs.uidMin}` : ''}); refusing to run a component as it`, path: PASSWD_PATH, fix: `choose another name with accounts.${u.component}.user, or make it a system account (usermod -s /usr/sbin/nologin ${u.name})` });
  } else if (privilegedMembership(node, e).length > 0) {
    const groupsOf = privilegedMembership(node, e);
    problems.push({ code: 'account-privileged-group', message: `${where} belongs to privileged group(s) ${groupsOf.map((x) => `${x.name} (${x.why})`).join('; ')}; refusing to run a component as it`, path: PASSWD_PATH, fix: `choose another name with accounts.${u.component}.user, or take ${u.name} out of them (${groupsOf.map((x) => (x.primary ? `usermod -g OTHERGROUP ${u.name}` : `gpasswd -d ${u.name} ${x.name}`)).join('; ')})` });
  } else if (extraMemberships(node, e, allowedGroupsOf(ctx, u, groups)).length > 0) {
    const extra = extraMemberships(node, e, allowedGroupsOf(ctx, u, groups));
    problems.push({ code: 'account-not-dedicated', message: `${where} also belongs to group(s) ${extra.join(', ')}; a component's account has only its own group and the tool's reader groups`, path: GROUP_PATH, fix: `choose another name with accounts.${u.component}.user, or take ${u.name} out of them (${extra.map((x) => `gpasswd -d ${u.name} ${x}`).join('; ')})` });
  } else if (u.pinned !== undefined && u.pinned !== e.uid) {
    problems.push({ code: 'account-id-conflict', message: `${where} exists but the config pins uid ${u.pinned}`, path: PASSWD_PATH, fix: `change the config to uid: ${e.uid}, or renumber the user (usermod -u ${u.pinned} ${u.name})` });
  } else if (g.gid !== null && e.gid !== g.gid) {
    const actual = node.group.find((x) => x.gid === e.gid);
    problems.push({ code: 'account-group-mismatch', message: `${where} has primary group ${actual ? actual.name : e.gid}, expected ${g.name} (GID ${g.gid})`, path: PASSWD_PATH, fix: `usermod -g ${g.name} ${u.name}, or remove the user so it is created afresh` });
  } else {
    if ((e.uid < node.loginDefs.sysUidMin || e.uid > node.loginDefs.sysUidMax) && !ours) {
      ctx.warnings.push({ code: 'account-outside-system-range', message: `${where} is outside the system range ${node.loginDefs.sysUidMin}-${node.loginDefs.sysUidMax}; reusing it`, path: PASSWD_PATH });
    }
    u.uid = e.uid;
  }
}

/** UIDs for the users to create: pinned first (validated), then the lowest free in the system range. */
function allocateUids(ctx: IdentityContext, users: UserDecision[]): void {
  const { node, problems } = ctx;
  const takenUids = new Set<number>([0, ...node.passwd.map((p) => p.uid), ...(node.nss?.users.map((u) => u.uid) ?? [])]);
  for (const u of users) {
    if (u.existing || u.pinned === undefined) continue;
    if (u.pinned === 0) {
      problems.push({ code: 'account-is-root', message: `UID 0 (root) is wanted for user ${u.name}; a component must not run as root`, path: PASSWD_PATH, fix: `pin another uid for ${u.name} in the config` });
      continue;
    }
    const holder = node.passwd.find((x) => x.uid === u.pinned) ?? node.nss?.users.find((x) => x.uid === u.pinned);
    if (holder) {
      problems.push({ code: 'account-id-conflict', message: `UID ${u.pinned} wanted for user ${u.name} already belongs to user ${holder.name}`, path: PASSWD_PATH, fix: `pin another uid for ${u.name} in the config` });
      continue;
    }
    u.uid = u.pinned;
    takenUids.add(u.pinned);
  }
  const needUids = users.filter((u) => !u.existing && u.pinned === undefined);
  const uids = allocate(takenUids, node.loginDefs.sysUidMin, Math.min(node.loginDefs.sysUidMax, MAX_POD_ID), needUids.length);
  if (uids === null) {
    problems.push({ code: 'id-range-exhausted', message: `cannot allocate ${needUids.length} UIDs: the system range ${node.loginDefs.sysUidMin}-${node.loginDefs.sysUidMax} has fewer free IDs`, path: LOGIN_DEFS_PATH, fix: 'widen SYS_UID_MIN/SYS_UID_MAX in /etc/login.defs, or pin uids in the config' });
  } else {
    needUids.forEach((u, i) => (u.uid = uids[i]!));
  }
}

/**
 * The group actions, in allocation order (before the users, which reference them). Users created in
 * this run join through useradd --groups; users that already exist must be added.
 */
function groupActions(node: NodeState, groups: readonly GroupDecision[]): AccountAction[] {
  const accounts: AccountAction[] = [];
  for (const g of groups) {
    if (g.gid === null) continue;
    if (!g.existing) {
      accounts.push({ action: 'create-group', name: g.name, gid: g.gid, members: [] });
      const existingMembers = g.members.filter((m) => passwdEntry(node, m) !== null);
      if (existingMembers.length) accounts.push({ action: 'add-group-members', name: g.name, gid: g.gid, members: existingMembers });
    } else {
      const missing = g.members.filter((m) => !g.existing!.members.includes(m) && passwdEntry(node, m) !== null);
      accounts.push(missing.length > 0 ? { action: 'add-group-members', name: g.name, gid: g.gid, members: missing } : { action: 'reuse-group', name: g.name, gid: g.gid, members: g.existing.members });
    }
  }
  return accounts;
}

/** A user's action: reuse it, or create it in its own group and its reader groups. */
function userAction(u: UserDecision, uid: number, group: string, gid: number, supplementary: readonly GroupDecision[]): AccountAction {
  if (u.existing) return { action: 'reuse-user', name: u.name, uid, gid, group };
  // Shaped exactly as kubeadm's gate requires of an existing account (users_linux.go validateEntries): shell
  // /bin/false, and the user listed as a member of its own group — so a cluster whose kubeadm config
  // still enables RootlessControlPlane accepts these accounts instead of aborting an upgrade.
  return { action: 'create-user', name: u.name, uid, gid, group, supplementaryGroups: [group, ...supplementary.map((x) => x.name)], shell: KUBEADM_SHELL, home: '/nonexistent', comment: `kubeadm-nonroot ${u.component}` };
}

/** Privileged groups an existing account belongs to: its primary group and every group listing it as a member. */
function privilegedMembership(node: NodeState, user: PasswdEntry): Array<{ name: string; why: string; primary: boolean }> {
  const out: Array<{ name: string; why: string; primary: boolean }> = [];
  const primary = node.group.find((g) => g.gid === user.gid);
  const primaryWhy = privilegedGroup(primary?.name ?? '', user.gid);
  if (primaryWhy) out.push({ name: primary?.name ?? `GID ${user.gid}`, why: primaryWhy, primary: true });
  for (const g of node.group) {
    if (g === primary || !g.members.includes(user.name)) continue;
    const why = privilegedGroup(g.name, g.gid);
    if (why) out.push({ name: g.name, why, primary: false });
  }
  return out;
}

/** An existing account whose ID no pod may carry (the API rejects it), naming the line it comes from. */
function idOutOfRange(what: string, kind: string, id: number, path: string, line: number): Problem {
  return { code: 'id-out-of-range', message: `${what} has ${kind} ${id} (line ${line + 1} of ${path}), above ${MAX_POD_ID}: the API server rejects a pod running with it`, path, fix: `choose another name in the config (accounts.<component>.user/group) so the tool creates the account, or renumber it below ${MAX_POD_ID + 1}` };
}

/** Lowest `count` IDs in [min, max] not in `taken`, ascending; null when the range has fewer. */
export function allocate(taken: ReadonlySet<number>, min: number, max: number, count: number): number[] | null {
  const out: number[] = [];
  if (count === 0) return out;
  // 0 is root whatever the range says (SYS_GID_MIN 0 in login.defs): never handed out.
  for (let id = Math.max(min, 1); id <= max && out.length < count; id++) {
    if (!taken.has(id)) out.push(id);
  }
  return out.length === count ? out : null;
}
