// The ownership rules: from what each component reads and writes (the access analysis) and the
// planned identities, decide the owner, group and mode every host path must have. See
// docs/ownership.md for the rules with their reasons.
//
//  - a secret read by exactly one component: that component's user:group, 0600 (as kubeadm's gate did: cmd/kubeadm/app/util/staticpod/utils_linux.go);
//  - a secret read by several: root:<shared reader group> 0640 (sa.key → kubeadm-sa-key-readers);
//  - a public file is changed only if a reader cannot read it today (sa.pub is 0600 root as kubeadm
//    writes it, so kube-apiserver gets it, as with kubeadm's gate);
//  - system trust stores are never changed (they belong to the distribution's ca-certificates);
//  - a directory a component writes (etcd data dir, audit log dir) is owned by it, recursively, 0700;
//  - every parent directory must be searchable by the component, else a blocking problem — the tool
//    never loosens directories it does not own.
import type { FileAccess } from '../model/access.types.js';
import { sortComponents, type Component } from '../model/components.js';
import type { FileStat, NodeState } from '../model/node.js';
import { can, formatMode, type ProcessIdentity } from '../model/perms.js';
import type { FileAction, Identity, Ownership, Problem } from './types.js';
import { compareText } from '../model/order.js';

/** Everything the migrated components do with one host path. */
export interface PathUse {
  path: string;
  readers: Component[];
  access: 'read' | 'write';
  target: 'file' | 'dir';
  secret: boolean;
  flags: string[];
}

/** Distribution trust stores: read by components through hostPath, owned by ca-certificates, never touched. */
// Only the CA bundle directories themselves: /etc/ssl and /etc/pki also hold private keys (Kubespray
// keeps etcd client keys in /etc/ssl/etcd/ssl), and those follow the secret rules like any other key.
export const TRUST_STORES = ['/etc/ssl/certs', '/etc/pki/tls/certs', '/etc/pki/ca-trust', '/etc/pki/tls/cert.pem', '/etc/ca-certificates', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates', '/usr/share/pki/ca-trust-source', '/etc/pki/ca-trust-source'];

/** Directories that must never be taken over as a component's write dir. */
export const SYSTEM_DIRS = ['/', '/bin', '/boot', '/dev', '/etc', '/etc/kubernetes', '/home', '/lib', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var', '/var/lib', '/var/log', '/var/run', '/var/tmp'];

export function isUnder(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(dir + '/');
}

export function groupUses(accesses: FileAccess[]): PathUse[] {
  const byPath = new Map<string, PathUse>();
  for (const a of accesses) {
    const u = byPath.get(a.hostPath);
    if (!u) {
      byPath.set(a.hostPath, { path: a.hostPath, readers: [a.component], access: a.access, target: a.target, secret: a.secret, flags: [a.flag] });
      continue;
    }
    if (!u.readers.includes(a.component)) u.readers = sortComponents([...u.readers, a.component]);
    if (a.access === 'write') u.access = 'write';
    if (a.target === 'dir') u.target = 'dir';
    u.secret ||= a.secret;
    if (!u.flags.includes(a.flag)) u.flags.push(a.flag);
  }
  return [...byPath.values()].sort((a, b) => compareText(a.path, b.path));
}

/** Reader sets of secrets read by more than one component: each needs a shared group. */
export function sharedReaderSets(uses: PathUse[]): Component[][] {
  const sets = new Map<string, Component[]>();
  for (const u of uses) {
    if (u.secret && u.access === 'read' && u.readers.length > 1) sets.set(u.readers.join(','), u.readers);
  }
  return [...sets.values()];
}

export function isTrustStore(path: string): boolean {
  return TRUST_STORES.some((t) => isUnder(path, t));
}

/** Does the current ownership already give what `desired` asks, without granting more? */
export function satisfies(current: FileStat, desired: Ownership): boolean {
  return current.uid === desired.uid && current.gid === desired.gid && (current.mode & 0o7777 & ~desired.mode) === 0 && (current.mode & 0o400) !== 0 && (desired.mode & 0o040 ? (current.mode & 0o040) !== 0 : true);
}

export interface FilePlan {
  files: FileAction[];
  problems: Problem[];
  warnings: Problem[];
}

export function planFiles(node: NodeState, uses: PathUse[], identities: Identity[], sharedGids: Map<string, number>, names: { user(uid: number): string | undefined; group(gid: number): string | undefined }): FilePlan {
  const files: FileAction[] = [];
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const idOf = new Map(identities.map((i) => [i.component, i]));
  const proc = (i: Identity): ProcessIdentity => ({ uid: i.uid, gid: i.gid, groups: i.supplementalGroups.map((g) => g.gid) });
  const own = (uid: number, gid: number, mode: number): Ownership => ({ uid, gid, mode, user: uid === 0 ? 'root' : names.user(uid), group: gid === 0 ? 'root' : names.group(gid) });
  const current = (s: FileStat): Ownership => own(s.uid, s.gid, s.mode);
  // Paths whose ownership this plan changes, so parent checks see the planned state.
  const planned = new Map<string, Ownership>();

  for (const use of uses) {
    const readers = use.readers.filter((c) => idOf.has(c));
    if (readers.length === 0) continue;
    const stat = node.paths[use.path];
    const ids = readers.map((c) => idOf.get(c)!);

    if (use.access === 'write') {
      const writers = readers;
      if (writers.length > 1) {
        problems.push({ code: 'shared-write-dir', message: `${use.path} is written by ${writers.join(' and ')}; a directory can be owned by only one of them`, path: use.path, fix: 'give each component its own directory (extraVolumes / flags in the kubeadm config)' });
        continue;
      }
      if (SYSTEM_DIRS.includes(use.path)) {
        problems.push({ code: 'system-write-dir', message: `${writers[0]} writes directly into system directory ${use.path} (${use.flags.join(', ')}); taking it over would change a directory other software relies on`, path: use.path, component: writers[0], fix: `point ${use.flags.join(', ')} at a dedicated directory, e.g. ${use.path.replace(/\/$/, '')}/kubernetes` });
        continue;
      }
      const id = ids[0]!;
      const desired = own(id.uid, id.gid, 0o700);
      if ((stat === null || stat === undefined) && use.target === 'file') {
        problems.push({ code: 'missing-file', message: `${use.path} is written by ${writers[0]} (${use.flags.join(', ')}), mounted as a single file, and does not exist; the kubelet would create it root-owned`, path: use.path, component: writers[0], fix: `create it first: install -m 0600 /dev/null ${use.path}` });
        continue;
      }
      if (stat === null || stat === undefined) {
        files.push({ action: 'create-directory', path: use.path, current: null, desired, readers: writers, access: 'write', secret: false, reason: `${writers[0]} writes here (${use.flags.join(', ')}); the kubelet would create it root-owned (DirectoryOrCreate)` });
        planned.set(use.path, desired);
        continue;
      }
      if (stat.type === 'file' && use.target === 'file') {
        // A log file mounted on its own (FileOrCreate): the component appends to it. Rotation by the
        // component cannot work through a single-file mount; that is the layout's limit, not ours.
        const want = own(id.uid, id.gid, 0o600);
        if (!satisfies(stat, want)) files.push({ action: 'set-owner-mode', path: use.path, current: current(stat), desired: want, readers: writers, access: 'write', secret: false, reason: `${writers[0]} appends to it (${use.flags.join(', ')}); mounted as a single file` });
        planned.set(use.path, want);
        continue;
      }
      if (stat.type !== 'dir') {
        problems.push({ code: 'not-a-directory', message: `${use.path} should be a directory written by ${writers[0]} but is a ${stat.type}`, path: use.path, component: writers[0], fix: stat.type === 'symlink' ? `point the hostPath volume (and ${use.flags.join(', ')}) at the directory the link points to; the tool does not change ownership through symbolic links` : undefined });
        continue;
      }
      const tree = node.trees[use.path] ?? { entries: 0, owners: [] };
      const treeOk = tree.owners.every((o) => o.uid === id.uid && o.gid === id.gid);
      if (stat.uid !== id.uid || stat.gid !== id.gid || (stat.mode & 0o7777) !== 0o700 || !treeOk) {
        files.push({ action: 'set-owner-recursive', path: use.path, current: current(stat), desired, tree, readers: writers, access: 'write', secret: false, reason: `${writers[0]} writes here (${use.flags.join(', ')}): owned by it, recursively; directory 0700` });
      }
      planned.set(use.path, desired);
      continue;
    }

    // read access
    if (stat === null || stat === undefined) {
      problems.push({ code: 'missing-file', message: `${use.path} is referenced by ${readers.join(', ')} (${use.flags.join(', ')}) but does not exist`, path: use.path, fix: 'create the file (kubeadm init phase certs/kubeconfig) or fix the flag in the manifest' });
      continue;
    }
    if (isTrustStore(use.path) && !use.secret) {
      const blind = ids.filter((i) => !can(stat, proc(i), 'read'));
      if (blind.length > 0) {
        problems.push({ code: 'trust-store-unreadable', message: `${use.path} (system trust store, ${formatMode(stat.mode)}) is not readable by ${blind.map((i) => i.user).join(', ')}; the tool never changes trust stores`, path: use.path, fix: `make it world-readable (chmod a+r ${use.path}), as ca-certificates does` });
      }
      continue;
    }
    if (stat.type === 'symlink') {
      problems.push({ code: 'symlink', message: `${use.path} is a symbolic link; refusing to change the ownership of its target implicitly`, path: use.path, fix: 'point the flag at the real file' });
      continue;
    }
    if (stat.type === 'dir' || use.target === 'dir') {
      const blind = ids.filter((i) => !can(stat, proc(i), 'read') || !can(stat, proc(i), 'search'));
      if (blind.length > 0) {
        problems.push({ code: 'dir-unreadable', message: `directory ${use.path} (${formatMode(stat.mode)}) is not readable by ${blind.map((i) => i.user).join(', ')}`, path: use.path, fix: `chmod a+rx ${use.path}` });
      }
      continue;
    }
    let desired: Ownership | null = null;
    let reason = '';
    if (use.secret) {
      if (ids.length === 1) {
        desired = own(ids[0]!.uid, ids[0]!.gid, 0o600);
        reason = `secret read only by ${readers[0]} (${use.flags.join(', ')})`;
      } else {
        const gid = sharedGids.get(readers.join(','));
        if (gid === undefined) continue; // group allocation failed: already a problem
        desired = own(0, gid, 0o640);
        reason = `secret shared by ${readers.join(' and ')}: readable through group ${names.group(gid) ?? gid}`;
      }
    } else if (ids.some((i) => !can(stat, proc(i), 'read'))) {
      if (ids.length === 1) {
        desired = own(ids[0]!.uid, ids[0]!.gid, (stat.mode & 0o777) | 0o400);
        reason = `public, but not readable by ${readers[0]} today (${use.flags.join(', ')})`;
      } else {
        desired = own(stat.uid, stat.gid, (stat.mode & 0o777) | 0o444);
        reason = `public, but not readable by all of ${readers.join(', ')} today: made world-readable`;
      }
    }
    if (desired && !satisfies(stat, desired)) {
      files.push({ action: 'set-owner-mode', path: use.path, current: current(stat), desired, readers, access: 'read', secret: use.secret, reason });
      planned.set(use.path, desired);
    }
  }

  // Every parent directory must be searchable by the component (path resolution needs +x on each).
  const seen = new Set<string>();
  for (const use of uses) {
    for (const c of use.readers) {
      const id = idOf.get(c);
      if (!id) continue;
      for (const dir of parents(use.path)) {
        const key = `${c}\0${dir}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const s = node.paths[dir];
        if (!s) continue; // missing parents are reported as a missing file / created by create-directory
        const eff = planned.get(dir) ?? s;
        if (!can(eff, proc(id), 'search')) {
          problems.push({ code: 'parent-not-traversable', message: `${dir} (${formatMode(s.mode)} ${names.user(s.uid) ?? s.uid}:${names.group(s.gid) ?? s.gid}) is not searchable by ${id.user}, which needs ${use.path}`, path: dir, component: c, fix: `move ${use.path} out of ${dir}, or allow traversal yourself (chmod o+x ${dir}) if that is acceptable; the tool does not loosen directories it does not own` });
        }
      }
    }
  }
  files.sort((a, b) => compareText(a.path, b.path));
  return { files, problems, warnings };
}

export function parents(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const out = ['/'];
  for (let i = 1; i < parts.length; i++) out.push('/' + parts.slice(0, i).join('/'));
  return out;
}
