// Read a node (mounted at --root) into a NodeState. Discovery only reads: no file under the root is
// created, changed or touched, so `plan` and `verify` are safe to run at any time.
import path from 'node:path';
import { InputError, errorMessage } from '../errors.js';
import { analyzeAccess } from '../model/access.js';
import { configRefs, expandConfigAccesses, type ConfigRef } from '../model/config-refs.js';
import type { FileAccess } from '../model/access.types.js';
import type { Component } from '../model/components.js';
import type { FileStat, ManifestFile, NodeState, NssIds, TreeSummary } from '../model/node.js';
import { identifyComponent, looksLikeComponentFile } from '../model/pod.js';
import type { PodInfo } from '../model/pod.types.js';
import { normalizeNodePath, resolveUnderRoot } from '../paths.js';
import { parseGroup, parsePasswd, unreadableLines } from './accounts.js';
import { classifyFiles } from './content.js';
import { parentsOf, readNodeText, statNode, statNodeFollow, treeSummary } from './fs.js';
import { parseLoginDefs } from './login-defs.js';
import { readManifests } from './manifests.js';
import { readNss } from './nss.js';
import { GROUP_PATH, LOGIN_DEFS_PATH, PASSWD_PATH } from '../model/node-paths.js';


interface DiscoverOptions {
  /** Host directory the node is mounted at; "/" for the live node. */
  root: string;
  /** Node path of the static-pod manifests directory. */
  manifestsDir: string;
}

/** One kubeadm component found in the manifests dir, with the files it touches. */
interface FoundComponent {
  manifest: ManifestFile;
  component: Component;
  pod: PodInfo;
  accesses: FileAccess[];
}

export async function discoverNode(opts: DiscoverOptions): Promise<NodeState> {
  const { root } = opts;
  const manifestsDir = normalizeNodePath(opts.manifestsDir);

  const loginDefsText = readNodeText(root, LOGIN_DEFS_PATH);
  const passwdText = readNodeText(root, PASSWD_PATH);
  const groupText = readNodeText(root, GROUP_PATH);
  const loginDefs = parseLoginDefs(loginDefsText, LOGIN_DEFS_PATH);
  const passwd = parsePasswd(requireText(root, PASSWD_PATH, passwdText), PASSWD_PATH);
  const group = parseGroup(requireText(root, GROUP_PATH, groupText), GROUP_PATH);
  const unreadable = [...unreadableLines(passwdText!, PASSWD_PATH, 'passwd'), ...unreadableLines(groupText!, GROUP_PATH, 'group')];
  // getent asks the RUNNING system, so it says nothing about a sandbox root. Its two subprocesses run
  // while the manifests are read (readNss never rejects).
  const nssPending: Promise<NssIds | null> = path.resolve(root) === '/' ? readNss() : Promise.resolve(null);

  // The census of each write dir (etcd's data dir) runs GNU find in a child process: it is started as
  // soon as a manifest naming the dir is parsed (etcd.yaml sorts first), so that it runs on another core
  // while the other manifests and the followed configs are read and parsed and the paths are stat'ed
  // below. A followed config never adds a write dir (it names files a component reads). Never left
  // unobserved: awaited at the end, or its failure dropped when a read or parse fails first and that
  // error is the one reported.
  const found: FoundComponent[] = [];
  const censuses = new Map<string, Promise<TreeSummary | null>>();
  const manifests = readManifests(root, manifestsDir, (m) => {
    for (const f of identify(m)) {
      found.push(f);
      for (const dir of writeDirs([f])) {
        if (censuses.has(dir)) continue;
        const census = summariseTree(root, dir);
        census.catch(() => undefined);
        censuses.set(dir, census);
      }
    }
  });
  const configs = readConfigs(root, found);
  const wanted = new Set<string>();
  for (const f of found) {
    for (const p of referencedPaths(f)) {
      wanted.add(p);
      for (const parent of parentsOf(p)) wanted.add(parent);
    }
  }
  const paths = statAll(root, wanted);
  // Secret or public by content too, not only by flag (src/discover/content.ts).
  const contents = classifyFiles(root, readFiles(found), paths);
  const nss = await nssPending;
  const trees: Record<string, TreeSummary> = {};
  for (const dir of [...censuses.keys()].sort()) {
    const tree = await censuses.get(dir)!;
    if (tree !== null) trees[dir] = tree;
  }

  return { root, manifestsDir, loginDefs, passwd, group, ...(unreadable.length ? { unreadableAccountLines: unreadable } : {}), nss, manifests, paths, trees, configs, contents };
}

/** The directories components write into (etcd's data dir), sorted: their contents get a census. */
function writeDirs(found: FoundComponent[]): string[] {
  const dirs = new Set<string>();
  for (const f of found) {
    for (const a of f.accesses) {
      if (a.access === 'write' && a.target === 'dir') dirs.add(normalizeNodePath(a.hostPath));
    }
  }
  return [...dirs].sort();
}

/** The single files components read, whose content is classified. */
function readFiles(found: FoundComponent[]): string[] {
  return found.flatMap((f) => f.accesses.filter((a) => a.access === 'read' && a.target === 'file').map((a) => normalizeNodePath(a.hostPath)));
}

function requireText(root: string, nodePath: string, text: string | null): string {
  if (text !== null) return text;
  const under = path.resolve(root) === '/' ? '' : ` under --root ${root}`;
  throw new InputError(`${nodePath}: no such file${under}; the node's account database is needed to pick IDs`, nodePath);
}


/**
 * Parse a manifest and decide whether it is a kubeadm component. A file NAMED like a component
 * (etcd.yaml) that does not parse is an error: we are asked to migrate it and cannot read it. Any
 * other file that does not parse is not ours; it stays in `manifests` and is never touched.
 */
function identify(manifest: ManifestFile): FoundComponent[] {
  const { parsed } = manifest;
  if (!parsed.ok) {
    if (looksLikeComponentFile(manifest.fileName) === null) return [];
    throw new InputError(parsed.error, manifest.path);
  }
  const { pod } = parsed;
  const component = identifyComponent(manifest.fileName, pod);
  if (component === null) return [];
  if (manifest.stat.type === 'symlink') {
    // Apply rewrites a manifest by renaming a new file over it, never through a link (src/paths.ts
    // safeHostPath): refuse now, before any change, instead of failing half-way through an apply.
    throw new InputError(`is a symbolic link (${component}'s static-pod manifest); the tool rewrites manifests in place and never through a link — replace the link with the file it points to (cp --remove-destination "$(readlink -f ${manifest.path})" ${manifest.path})`, manifest.path);
  }
  const { accesses } = analyzeAccess(pod, component);
  for (const a of accesses) checkHostPath(manifest, a.flag, a.hostPath);
  for (const v of pod.volumes) checkHostPath(manifest, `volume ${v.name}`, v.path);
  return [{ manifest, component, pod, accesses }];
}

/** The kubelet itself rejects relative hostPaths and ".." (API validation); say which manifest has one. */
function checkHostPath(manifest: ManifestFile, what: string, hostPath: string): void {
  try {
    normalizeNodePath(hostPath);
  } catch (e) {
    throw new InputError(`${what} uses host path "${hostPath}": ${errorMessage(e)}`, manifest.path);
  }
}

/** Configs larger than this are not followed (a kubeconfig or admission config is a few KiB). */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Read the followed config files (src/model/config-refs.ts) level by level, each parsed once into the
 * paths named inside it, adding those files to each component's accesses so they are stat'ed like flag paths.
 */
function readConfigs(root: string, found: FoundComponent[]): Record<string, ConfigRef[]> {
  const configs: Record<string, ConfigRef[]> = {};
  const tried = new Set<string>();
  // Each component's own accesses (from its manifest), computed once by identify().
  const direct = new Map(found.map((f) => [f, f.accesses]));
  for (let round = 0; round < 4; round++) {
    let missing = false;
    for (const f of found) {
      const ex = expandConfigAccesses(f.pod, f.component, direct.get(f)!, configs);
      f.accesses = [...direct.get(f)!, ...ex.accesses];
      for (const w of ex.wanted) {
        if (tried.has(w)) continue;
        tried.add(w);
        missing = true;
        const st = statNodeFollow(root, w);
        if (st?.type !== 'file' || st.size > MAX_CONFIG_BYTES) continue;
        const text = readNodeText(root, w);
        if (text !== null) configs[w] = configRefs(text);
      }
    }
    if (!missing) break;
  }
  return configs;
}

/**
 * Every host path a component's manifest references: each flag's resolved host path and each
 * hostPath volume (the planner checks the mounted directories too, e.g. etcd-certs).
 */
function referencedPaths(f: FoundComponent): string[] {
  return [...f.accesses.map((a) => a.hostPath), ...f.pod.volumes.map((v) => v.path)].map(normalizeNodePath);
}

/**
 * lstat every wanted path once. When a path runs through a symlink, the directories it really lives
 * in are what the kernel checks permissions on, so the resolved path and its parents are stat'ed as well.
 */
function statAll(root: string, wanted: Set<string>): Record<string, FileStat | null> {
  const result = new Map<string, FileStat | null>();
  let pending = new Set(wanted);
  while (pending.size > 0) {
    const stats = [...pending].map((p) => ({ p, stat: statNode(root, p), resolved: resolveUnderRoot(root, p) }));
    const next = new Set<string>();
    for (const { p, stat } of stats) result.set(p, stat);
    for (const { resolved } of stats) {
      for (const extra of [resolved, ...parentsOf(resolved)]) {
        if (!result.has(extra) && !pending.has(extra)) next.add(extra);
      }
    }
    pending = next;
  }
  const paths: Record<string, FileStat | null> = {};
  for (const p of [...result.keys()].sort()) paths[p] = result.get(p)!;
  return paths;
}

/** Census of a directory a component writes into; null when it does not exist (after following symlinks). */
async function summariseTree(root: string, dir: string): Promise<TreeSummary | null> {
  if (statNodeFollow(root, dir)?.type !== 'dir') return null;
  return treeSummary(root, dir);
}
