// npm run k8s:build -- v1.36.3 [--only kubeadm,kubelet,etcd,…]
//
// Builds the real Kubernetes components the real-node tests run, from the Go module proxy, and caches
// them outside the repository keyed by version AND recipe:
//   /var/cache/kubeadm-nonroot-k8s/v1.36.3-<recipe>/bin/{kubeadm,kubelet,kube-apiserver,kube-controller-manager,kube-scheduler}
//   /var/cache/kubeadm-nonroot-k8s/etcd-v3.6.8-<recipe>/bin/{etcd,etcdctl,etcdutl}
//   /var/cache/kubeadm-nonroot-k8s/pause-3.10.2-<recipe>/bin/pause
//   (and scripts/runtime-build.ts's containerd-v2.4.2-<recipe>, runc-v1.5.3-<recipe>, through buildModules)
// <recipe> is a hash of everything besides the version that decides the binaries' bytes: the Go
// version, the build flags, environment and ldflags, the dependency fixes (REBUILD_FIXES) and
// WRAPPER_REVISION (bumped when the wrapper module this script writes changes); recipe.json in the
// directory spells it out. Each binary also carries a stamp (bin/.<name>.module) of the wrapper module
// it was built from (go.mod, go.sum, the substituted staging modules): a later re-tidy for more binaries
// that changes the module makes the older binaries stale, so they are rebuilt too (from Go's build cache
// when nothing they compile changed). A binary whose recipe and stamp match is reused; a build publishes
// each binary by rename, so a killed build never leaves a half-written one behind, and the next build of
// that directory removes what a killed one left. KUBEADM_NONROOT_K8S_CACHE moves the cache.
//
// Why a wrapper module: k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, …)
// at v0.0.0 and replaces them with ./staging/src/k8s.io/<name>; the module zip the proxy serves leaves
// those nested modules out, so `go install k8s.io/kubernetes/cmd/kubeadm@v1.36.3` refuses. A module that
// requires k8s.io/kubernetes v1.X.Y and replaces each staging module (the list read from the release's
// own go.mod, it changes between releases) with its published v0.X.Y builds the cmd packages. Replace
// directives of a dependency are ignored by Go, so etcd's modules build the same way.
//
// Built with CGO_ENABLED=0. Upstream links the server binaries statically too (hack/lib/golang.sh,
// KUBE_STATIC_BINARIES) except the kubelet; nothing the kubelet does on a test node needs cgo.
// The version is stamped like hack/lib/version.sh does (component-base/version and
// client-go/pkg/version): kubeadm writes its own version as the default kubernetesVersion.
//
// Importable: buildKubernetes({ version, binaries, onProgress }) and buildEtcd(version) return the
// directory holding the binaries; etcdVersionFor(version) reads the etcd kubeadm pins for a release;
// buildModules(ModuleBuild) builds any module without replace directives of its own the same way (etcd,
// and the runtime in scripts/runtime-build.ts), with its own environment, flags and C toolchain keyed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { withPidLock } from './lib/pid-lock.js';
import { run } from './lib/run.js';

export const K8S_CACHE = process.env.KUBEADM_NONROOT_K8S_CACHE ?? '/var/cache/kubeadm-nonroot-k8s';
export const K8S_BINARIES = ['kubeadm', 'kubelet', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type K8sBinary = (typeof K8S_BINARIES)[number];
/** etcd's binaries and the main package of each (etcd ≥ 3.5 layout). */
export const ETCD_PACKAGES = {
  etcd: 'go.etcd.io/etcd/server/v3',
  etcdctl: 'go.etcd.io/etcd/etcdctl/v3',
  etcdutl: 'go.etcd.io/etcd/etcdutl/v3',
} as const;
export type EtcdBinary = keyof typeof ETCD_PACKAGES;

export type Progress = (line: string) => void;
export interface BuildOptions {
  /** A release tag, e.g. v1.36.3. */
  version: string;
  /** Which binaries (default: all five). */
  binaries?: readonly K8sBinary[];
  onProgress?: Progress;
}

const VERSION_RE = /^v(\d+)\.(\d+)\.(\d+)$/;
const logTo = (p?: Progress): Progress => p ?? ((l) => process.stderr.write(`${l}\n`));

function parseVersion(version: string, what: string): { major: number; minor: number } {
  const m = VERSION_RE.exec(version);
  if (!m) throw new Error(`${what} version "${version}" is not a release tag like v1.36.3`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** Runs a command and returns its stdout; stderr lines go to onLine (go build -v names each package there). */
async function runGo(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (l: string) => void } = {}): Promise<string> {
  const r = await run(cmd, args, { cwd: opts.cwd, env: opts.env, onStderrLine: opts.onLine, missingHint: 'is the Go toolchain installed and on PATH?' });
  return r.stdout;
}

/** `go mod download -json` of one module version: where its source and go.mod are. */
async function goDownload(mod: string, cwd: string): Promise<{ Dir: string; GoMod: string }> {
  return JSON.parse(await runGo('go', ['mod', 'download', '-json', mod], { cwd, env: { GOFLAGS: '-mod=mod' } })) as { Dir: string; GoMod: string };
}

/**
 * One build at a time per cache directory (other scripts and tests may ask for the same version). The
 * temporary outputs a killed build left (out.tmp-<pid>, .pause.tmp-<pid>) are removed once the lock is
 * held: no other build can be writing them then.
 */
async function withLock<T>(dir: string, log: Progress, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'build.lock');
  return withPidLock(lock, async () => {
    removeLeftTemporaries(dir);
    return fn();
  }, { onWait: (holder) => log(`waiting for build pid ${holder} (${lock})`), pollMs: 2000 });
}

const TEMPORARY = /^(?:out\.tmp-|\.pause\.tmp-)\d+$/;

function removeLeftTemporaries(dir: string): void {
  for (const sub of [dir, join(dir, 'bin')]) {
    let names: string[];
    try { names = readdirSync(sub); } catch { continue; }
    for (const name of names) if (TEMPORARY.test(name)) rmSync(join(sub, name), { recursive: true, force: true });
  }
}

/**
 * `go build -v` of main packages (binary name → package) into a temporary dir under `dir`, then each
 * binary renamed into `dir/bin`. Progress: a line every 15 s with the number of packages compiled.
 */
async function goBuild(dir: string, label: string, pkgs: Record<string, string>, ldflags: string, log: Progress, how: GoBuildHow = { env: GO_BUILD_ENV, flags: GO_BUILD_FLAGS }): Promise<void> {
  const tmp = join(dir, `out.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const t0 = Date.now();
  let count = 0;
  let last = t0;
  log(`${label}: go build ${Object.keys(pkgs).join(' ')} (a cold build takes many minutes on 2 cores)`);
  const names = Object.keys(pkgs);
  const out = names.length === 1 ? join(tmp, names[0]!) : `${tmp}/`;
  await runGo('nice', ['-n', '10', 'go', 'build', ...how.flags, '-ldflags', ldflags, '-o', out, ...Object.values(pkgs)], {
    cwd: dir,
    env: how.env,
    onLine: (l) => {
      if (/^[\w.\-/]+$/.test(l)) count++;
      const now = Date.now();
      if (now - last >= 15_000) {
        last = now;
        log(`${label}: ${count} packages compiled, ${Math.round((now - t0) / 1000)} s`);
      }
    },
  });
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const name of Object.keys(pkgs)) renameSync(join(tmp, name), join(bin, name));
  writeStamps(dir, names);
  rmSync(tmp, { recursive: true, force: true });
  log(`${label}: built ${Object.keys(pkgs).join(' ')} in ${Math.round((Date.now() - t0) / 1000)} s (${count} packages compiled, the rest from Go's build cache)`);
}

/** Of `names`, those not in `dir/bin` or built from another wrapper module than `dir`'s current one. */
function missing(dir: string, names: readonly string[]): string[] {
  const stamp = moduleStamp(dir);
  return names.filter((n) => {
    try {
      return !statSync(join(dir, 'bin', n)).isFile() || readFileSync(stampFile(dir, n), 'utf8').trim() !== stamp;
    } catch {
      return true;
    }
  });
}

/**
 * Writes the wrapper module for k8s.io/kubernetes `version` in `dir` and tidies it for the cmd packages
 * of `binaries` (once; again with the union when a later build asks for more). Only the commands asked
 * for: the module proxy does not serve every staging module of every old release (it refuses
 * k8s.io/kube-controller-manager v0.22.17), and kubeadm alone needs none of the other commands' modules.
 * `.tidy-done` lists the commands the module was tidied for (empty: all five, as before it listed them).
 */
async function k8sWrapper(dir: string, version: string, minor: number, log: Progress, binaries: readonly K8sBinary[] = K8S_BINARIES): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const kmod = await goDownload(`k8s.io/kubernetes@${version}`, dir);
  const doneFile = join(dir, '.tidy-done');
  const listed = existsSync(join(dir, 'go.sum')) && existsSync(doneFile) ? readFileSync(doneFile, 'utf8').split('\n').filter(Boolean) : null;
  const tidiedFor: readonly string[] = listed === null ? [] : listed.length === 0 ? K8S_BINARIES : listed;
  if (binaries.every((b) => tidiedFor.includes(b))) return kmod.Dir;
  const cmds = K8S_BINARIES.filter((b) => binaries.includes(b) || tidiedFor.includes(b));
  const upstream = readFileSync(kmod.GoMod, 'utf8');
  const staging = [...upstream.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\/src\/k8s\.io\/[\w.-]+\s*$/gm)].map((m) => m[1]!);
  if (staging.length === 0) throw new Error(`no staging replace directives found in ${kmod.GoMod}: has the layout of k8s.io/kubernetes changed?`);
  // Up to v1.25 kubernetes pinned EVERY dependency with a replace directive (hack/pin-dependency.sh wrote
  // `x => x vN` next to the require); from v1.26 the go.mod has none but the staging ones. Replace
  // directives of a dependency are ignored, so the release's own pins are copied: the wrapper then
  // builds with exactly the dependency versions the release was built and tested with.
  const pins = [...upstream.matchAll(/^\s*([\w.\-/~]+)(?:\s+v\S+)?\s+=>\s+([\w.\-/~]+)\s+(v\S+)\s*(?:\/\/.*)?$/gm)]
    .filter((m) => !staging.includes(m[1]!))
    .map((m) => `\t${REBUILD_FIXES[`${m[2]} ${m[3]}`] ?? m[0]!.trim()}`);
  log(`k8s ${version}: wrapper module with ${staging.length} staging modules at v0.${minor}.x${pins.length ? ` and the release's ${pins.length} pinned dependencies` : ''}`);
  const patch = VERSION_RE.exec(version)![3];
  // The release's own `go` line: without one, Go reads the module as go 1.16 — no module graph
  // pruning — and tidy selects newer indirect dependencies than the release was built and tested with.
  const goLine = /^go\s+(\S+)\s*$/m.exec(upstream)?.[1];
  if (!goLine) throw new Error(`no go directive in ${kmod.GoMod}`);
  writeFileSync(join(dir, 'go.mod'), [
    'module kubeadm-nonroot/k8s-build',
    '',
    `go ${goLine}`,
    // kubernetes' godebug defaults (e.g. `godebug default=go1.26`) shape the binaries' runtime behaviour.
    ...[...upstream.matchAll(/^godebug\s.*$/gm)].map((m) => m[0]),
    '',
    `require k8s.io/kubernetes ${version}`,
    '',
    'replace (',
    ...staging.map((m) => `\t${m} => ${m} v0.${minor}.${patch}`),
    ...pins,
    ')',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'tools.go'), [
    '//go:build tools',
    '',
    '// Package tools pins the cmd packages this module builds.',
    'package tools',
    '',
    'import (',
    ...cmds.map((b) => `\t_ "k8s.io/kubernetes/cmd/${b}"`),
    ')',
    '',
  ].join('\n'));
  log(`k8s ${version}: go mod tidy (${cmds.join(', ')})`);
  rmSync(doneFile, { force: true });
  rmSync(join(dir, SUBSTITUTED), { force: true });
  const substituted: string[] = [];
  for (;;) {
    try {
      await runGo('go', ['mod', 'tidy'], { cwd: dir, env: { GOFLAGS: '-mod=mod' } });
      break;
    } catch (e) {
      const sub = await substituteUnserved((e as Error).message, dir, minor, Number(patch), log);
      if (!sub) throw e;
      substituted.push(sub.line);
      const mod = readFileSync(join(dir, 'go.mod'), 'utf8');
      writeFileSync(join(dir, 'go.mod'), mod.replace(`\t${sub.module} => ${sub.module} v0.${minor}.${patch}\n`, `\t${sub.module} => ${sub.module} ${sub.version}\n`));
    }
  }
  if (substituted.length) writeFileSync(join(dir, SUBSTITUTED), substituted.map((l) => `${l}\n`).join(''));
  writeFileSync(doneFile, cmds.map((c) => `${c}\n`).join(''));
  return kmod.Dir;
}

/** In a release's cache dir: the staging modules built at another patch release (see substituteUnserved). */
export const SUBSTITUTED = 'substituted-modules.txt';

/**
 * The module proxy these machines reach does not serve every staging module of every release (it
 * refuses e.g. k8s.io/kube-proxy v0.31.14 with 403 "not available"). When `go mod tidy` fails on one, the
 * newest earlier patch release of that same staging module that IS served replaces it: a patch release
 * changes no API types (kubeadm only imports the kube-proxy and kubelet config types from them), and the
 * substitution is printed and recorded in the cache dir (SUBSTITUTED), from where the fixtures generator
 * copies it next to the fixtures. Returns null when the failure is not such a refusal.
 */
async function substituteUnserved(message: string, dir: string, minor: number, patch: number, log: Progress): Promise<{ module: string; version: string; line: string } | null> {
  const m = /(k8s\.io\/[\w.-]+)@v0\.(\d+)\.(\d+): reading \S+: (?:403|404|410) /.exec(message);
  if (!m || Number(m[2]) !== minor || Number(m[3]) !== patch) return null;
  const module = m[1]!;
  for (let p = patch - 1; p >= 0; p--) {
    const version = `v0.${minor}.${p}`;
    try {
      await goDownload(`${module}@${version}`, dir);
    } catch {
      continue;
    }
    const line = `${module} v0.${minor}.${patch} is not served by the module proxy: built with ${version}`;
    log(`k8s: ${line}`);
    return { module, version, line };
  }
  return null;
}

/**
 * Pinned dependencies a release cannot be rebuilt with on today's Go, and the smallest fix. Keyed by
 * "module version" as the release pins it.
 * - reflect2 v1.0.0/v1.0.1 call reflect.mapiterinit with its pre-Go-1.18 signature (modern-go/reflect2#24);
 *   built with Go ≥ 1.18, json-iterator faults iterating any map at run time (kubeadm v1.22 crashes). v1.0.2
 *   is the fix (modern-go/reflect2#25), the version Kubernetes itself moved to for v1.23 (kubernetes#104949).
 */
const REBUILD_FIXES: Record<string, string> = {
  'github.com/modern-go/reflect2 v1.0.0': 'github.com/modern-go/reflect2 => github.com/modern-go/reflect2 v1.0.2',
  'github.com/modern-go/reflect2 v1.0.1': 'github.com/modern-go/reflect2 => github.com/modern-go/reflect2 v1.0.2',
};

/** The ldflags hack/lib/version.sh passes, for a clean tree at `version`. */
function versionLdflags(version: string, major: number, minor: number): string {
  const vars = { gitVersion: version, gitMajor: String(major), gitMinor: String(minor), gitTreeState: 'clean' };
  const x = Object.entries(vars).flatMap(([k, v]) => [`-X k8s.io/component-base/version.${k}=${v}`, `-X k8s.io/client-go/pkg/version.${k}=${v}`]);
  return ['-s', '-w', ...x].join(' ');
}

/** Bump when k8sWrapper or buildEtcd change the wrapper module they write (its lines, the tidy). */
const WRAPPER_REVISION = 1;
/** The environment and flags of every `go build` here (goBuild) unless a ModuleBuild says otherwise. */
export const GO_BUILD_ENV: Readonly<Record<string, string>> = { CGO_ENABLED: '0', GOFLAGS: '-mod=mod' };
export const GO_BUILD_FLAGS: readonly string[] = ['-v', '-trimpath'];
/** How one `go build` runs: its environment and flags (besides -ldflags and -o). */
export interface GoBuildHow { env: Readonly<Record<string, string>>; flags: readonly string[] }
/** The flags of build/pause/Makefile (buildPause). */
const PAUSE_CFLAGS = ['-Os', '-Wall', '-Werror', '-static'] as const;
/** etcd's binaries are linked stripped, without version variables (etcd has its own version.go). */
const ETCD_LDFLAGS = '-s -w';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

let goVersionSeen: string | undefined;
/** `go env GOVERSION` (e.g. go1.26.1): part of every recipe. Throws when Go cannot be run. */
export function goVersion(): string {
  goVersionSeen ??= execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  return goVersionSeen;
}

/** What decides the bytes of Kubernetes' binaries at `version`, besides the version itself. */
function recipeOf(version: string): Record<string, unknown> {
  const { major, minor } = parseVersion(version, 'Kubernetes');
  return {
    go: goVersion(),
    wrapperRevision: WRAPPER_REVISION,
    env: GO_BUILD_ENV,
    flags: GO_BUILD_FLAGS,
    ldflags: versionLdflags(version, major, minor),
    rebuildFixes: REBUILD_FIXES,
  };
}

/** `name-<hash of recipe>`, with recipe.json written into it for whoever wonders what the hash holds. */
function keyedDir(name: string, recipe: Record<string, unknown>): string {
  return join(K8S_CACHE, `${name}-${sha256(JSON.stringify(recipe)).slice(0, 12)}`);
}

/** Writes recipe.json into a cache dir being built: what its hash stands for, for whoever wonders. */
function writeRecipe(dir: string, recipe: Record<string, unknown>): void {
  writeFileSync(join(dir, 'recipe.json'), `${JSON.stringify(recipe, null, 2)}\n`);
}

/** The cache directory of Kubernetes `version` under the current recipe (needs Go: see goVersion). */
export function kubernetesCacheDir(version: string): string {
  return keyedDir(version, recipeOf(version));
}

/**
 * A binary of Kubernetes `version` already built under the current recipe, or null (not built, stale,
 * or Go cannot be run to know the recipe). For readers that never build (the fixtures' checks).
 */
export function cachedKubernetesBinary(version: string, name: K8sBinary): string | null {
  let dir: string;
  try {
    dir = kubernetesCacheDir(version);
  } catch {
    return null;
  }
  return missing(dir, [name]).length === 0 ? join(dir, 'bin', name) : null;
}

/** The stamp of the wrapper module a binary is built from: go.mod, go.sum and the substitutions. */
function moduleStamp(dir: string): string {
  const read = (f: string): string => { try { return readFileSync(join(dir, f), 'utf8'); } catch { return ''; } };
  return sha256(JSON.stringify([read('go.mod'), read('go.sum'), read(SUBSTITUTED)]));
}

const stampFile = (dir: string, name: string): string => join(dir, 'bin', `.${name}.module`);

function writeStamps(dir: string, names: readonly string[]): void {
  const stamp = moduleStamp(dir);
  for (const n of names) writeFileSync(stampFile(dir, n), `${stamp}\n`);
}

/** Builds (or reuses) the Kubernetes binaries of `version`; returns the directory holding them. */
export async function buildKubernetes(opts: BuildOptions): Promise<string> {
  const { major, minor } = parseVersion(opts.version, 'Kubernetes');
  const log = logTo(opts.onProgress);
  const binaries = opts.binaries ?? K8S_BINARIES;
  for (const b of binaries) if (!(K8S_BINARIES as readonly string[]).includes(b)) throw new Error(`unknown binary "${b}" (known: ${K8S_BINARIES.join(', ')})`);
  const recipe = recipeOf(opts.version);
  const dir = keyedDir(opts.version, recipe);
  const bin = join(dir, 'bin');
  if (missing(dir, binaries).length === 0) {
    log(`k8s ${opts.version}: cached in ${bin}`);
    return bin;
  }
  return withLock(dir, log, async () => {
    writeRecipe(dir, recipe);
    // Tidied for the binaries asked for; a re-tidy that changes the module makes the others stale too.
    await k8sWrapper(dir, opts.version, minor, log, missing(dir, binaries) as K8sBinary[]);
    const todo = missing(dir, binaries);
    if (todo.length === 0) return bin;
    const pkgs = Object.fromEntries(todo.map((b) => [b, `k8s.io/kubernetes/cmd/${b}`]));
    await goBuild(dir, `k8s ${opts.version}`, pkgs, versionLdflags(opts.version, major, minor), log);
    return bin;
  });
}

/** Where Go's module cache holds the source of k8s.io/kubernetes `version` (downloaded if needed). */
async function kubernetesSource(version: string): Promise<{ Dir: string }> {
  const scratch = kubernetesCacheDir(version);
  mkdirSync(scratch, { recursive: true });
  return goDownload(`k8s.io/kubernetes@${version}`, scratch);
}

/**
 * The etcd kubeadm of `version` deploys: `SupportedEtcdVersion[minor]` in
 * cmd/kubeadm/app/constants/constants.go, e.g. { image: '3.6.8-0', module: 'v3.6.8' }.
 */
export async function etcdVersionFor(version: string): Promise<{ image: string; module: string }> {
  const { minor } = parseVersion(version, 'Kubernetes');
  const { Dir } = await kubernetesSource(version);
  const src = readFileSync(join(Dir, 'cmd/kubeadm/app/constants/constants.go'), 'utf8');
  const map = /SupportedEtcdVersion\s*=\s*map\[uint8\]string\{([^}]*)\}/.exec(src)?.[1] ?? '';
  const image = new RegExp(`\\b${minor}:\\s*"([^"]+)"`).exec(map)?.[1] ?? /DefaultEtcdVersion\s*=\s*"([^"]+)"/.exec(src)?.[1];
  if (!image) throw new Error(`no etcd version for v1.${minor} in kubeadm's constants.go (${Dir})`);
  return { image, module: `v${image.replace(/-\d+$/, '')}` };
}

/** The pause image tag kubeadm of `version` uses (constants.PauseVersion). */
export async function pauseVersionFor(version: string): Promise<string> {
  const { Dir } = await kubernetesSource(version);
  const src = readFileSync(join(Dir, 'cmd/kubeadm/app/constants/constants.go'), 'utf8');
  const v = /PauseVersion\s*=\s*"([^"]+)"/.exec(src)?.[1];
  if (!v) throw new Error(`no PauseVersion in kubeadm's constants.go (${Dir})`);
  return v;
}

/**
 * Binaries of Go modules that build with `go build <module>/<package>` from a plain wrapper module (no
 * replace directives of their own to honour, unlike k8s.io/kubernetes): etcd, containerd, runc.
 */
export interface ModuleBuild {
  /** What the log lines and errors call it, e.g. "containerd v2.4.2". */
  label: string;
  /** The cache directory's name before the recipe hash, e.g. containerd-v2.4.2. */
  name: string;
  /** Wrapper module path (its go.mod `module` line). */
  wrapper: string;
  /** The modules required, all at `version`. */
  modules: readonly string[];
  /** A release tag of those modules, e.g. v2.4.2. */
  version: string;
  /** Binary name → main package. */
  packages: Readonly<Record<string, string>>;
  env: Readonly<Record<string, string>>;
  flags: readonly string[];
  ldflags: string;
  /** Further inputs that decide the bytes (a cgo build's C compiler and static libraries), in the recipe. */
  native?: Readonly<Record<string, string>>;
}

/** What decides the bytes of a ModuleBuild's binaries besides the version (etcd's key order kept: same hash as before). */
export function moduleRecipe(b: ModuleBuild): Record<string, unknown> {
  return { go: goVersion(), wrapperRevision: WRAPPER_REVISION, env: b.env, flags: b.flags, ldflags: b.ldflags, ...(b.native ? { native: b.native } : {}) };
}

/** The cache directory of a ModuleBuild under the current recipe (needs Go: see goVersion). */
export function moduleCacheDir(b: ModuleBuild): string {
  return keyedDir(b.name, moduleRecipe(b));
}

/** Of a ModuleBuild's `binaries`, those not built under the current recipe (all of them when Go cannot be run). */
export function missingModuleBinaries(b: ModuleBuild, binaries: readonly string[] = Object.keys(b.packages)): string[] {
  let dir: string;
  try {
    dir = moduleCacheDir(b);
  } catch {
    return [...binaries];
  }
  return missing(dir, binaries);
}

/** Builds (or reuses) `binaries` (default: all) of a ModuleBuild; returns the directory holding them. */
export async function buildModules(b: ModuleBuild, opts: { binaries?: readonly string[]; onProgress?: Progress } = {}): Promise<string> {
  parseVersion(b.version, b.label);
  const log = logTo(opts.onProgress);
  const binaries = opts.binaries ?? Object.keys(b.packages);
  for (const n of binaries) if (!(n in b.packages)) throw new Error(`unknown ${b.label} binary "${n}" (known: ${Object.keys(b.packages).join(', ')})`);
  const recipe = moduleRecipe(b);
  const dir = keyedDir(b.name, recipe);
  const bin = join(dir, 'bin');
  if (missing(dir, binaries).length === 0) {
    log(`${b.label}: cached in ${bin}`);
    return bin;
  }
  return withLock(dir, log, async () => {
    writeRecipe(dir, recipe);
    const todo = missing(dir, binaries);
    if (todo.length === 0) return bin;
    if (!existsSync(join(dir, '.tidy-done'))) {
      // The first module's own `go` line, for the same module graph pruning as the release (see k8sWrapper).
      const mainMod = readFileSync((await goDownload(`${b.modules[0]}@${b.version}`, dir)).GoMod, 'utf8');
      const goLine = /^go\s+(\S+)\s*$/m.exec(mainMod)?.[1] ?? '1.23';
      writeFileSync(join(dir, 'go.mod'), [`module ${b.wrapper}`, '', `go ${goLine}`, '', 'require (', ...b.modules.map((m) => `\t${m} ${b.version}`), ')', ''].join('\n'));
      writeFileSync(join(dir, 'tools.go'), ['//go:build tools', '', 'package tools', '', 'import (', ...Object.values(b.packages).map((p) => `\t_ "${p}"`), ')', ''].join('\n'));
      log(`${b.label}: go mod tidy`);
      await runGo('go', ['mod', 'tidy'], { cwd: dir, env: { GOFLAGS: '-mod=mod' } });
      writeFileSync(join(dir, '.tidy-done'), '');
    }
    const how = { env: b.env, flags: b.flags };
    // `go build -o dir/` names each binary after its package's last path element (etcd's are all "v3"):
    // together when those are the binaries' names, else one at a time.
    const together = todo.every((n) => b.packages[n]!.split('/').pop() === n);
    const groups = together ? [todo] : todo.map((n) => [n]);
    for (const g of groups) await goBuild(dir, b.label, Object.fromEntries(g.map((n) => [n, b.packages[n]!])), b.ldflags, log, how);
    return bin;
  });
}

/** etcd at `version` (e.g. v3.6.8) as a ModuleBuild: CGO off, stripped, as every etcd build here since the recipe key. */
export function etcdBuild(version: string): ModuleBuild {
  return {
    label: `etcd ${version}`, name: `etcd-${version}`, wrapper: 'kubeadm-nonroot/etcd-build', modules: Object.values(ETCD_PACKAGES), version,
    packages: ETCD_PACKAGES, env: GO_BUILD_ENV, flags: GO_BUILD_FLAGS, ldflags: ETCD_LDFLAGS,
  };
}

/** Builds (or reuses) etcd, etcdctl and etcdutl at `version` (e.g. v3.6.8); returns their directory. */
export async function buildEtcd(version: string, opts: { binaries?: readonly EtcdBinary[]; onProgress?: Progress } = {}): Promise<string> {
  return buildModules(etcdBuild(version), opts);
}

/**
 * The pause binary of kubeadm's sandbox image: the release's own build/pause/linux/pause.c, compiled
 * static as build/pause/Makefile does (-Os -static -DVERSION=…). Returns the directory holding `pause`.
 */
export async function buildPause(k8sVersion: string, onProgress?: Progress): Promise<string> {
  const log = logTo(onProgress);
  const tag = await pauseVersionFor(k8sVersion);
  const gcc = execFileSync('gcc', ['-dumpfullversion'], { encoding: 'utf8' }).trim();
  const recipe = { gcc, cflags: PAUSE_CFLAGS };
  const dir = keyedDir(`pause-${tag}`, recipe);
  const bin = join(dir, 'bin');
  if (missing(dir, ['pause']).length === 0) return bin;
  return withLock(dir, log, async () => {
    if (missing(dir, ['pause']).length === 0) return bin;
    writeRecipe(dir, recipe);
    const { Dir } = await kubernetesSource(k8sVersion);
    mkdirSync(bin, { recursive: true });
    const tmp = join(bin, `.pause.tmp-${process.pid}`);
    log(`pause ${tag}: gcc -static build/pause/linux/pause.c`);
    await runGo('gcc', [...PAUSE_CFLAGS, `-DVERSION=v${tag}`, '-o', tmp, join(Dir, 'build/pause/linux/pause.c')]);
    renameSync(tmp, join(bin, 'pause'));
    writeStamps(dir, ['pause']);
    return bin;
  });
}

const USAGE = 'usage: npm run k8s:build -- v1.36.3 [--only kubeadm,kubelet,kube-apiserver,kube-controller-manager,kube-scheduler,etcd,etcdctl,etcdutl]';

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv.filter((a) => a !== '--'), options: { only: { type: 'string' } }, allowPositionals: true });
  } catch (e) {
    process.stderr.write(`k8s:build: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const version = parsed.positionals[0];
  const onlyArg = parsed.values.only;
  if (!version || !VERSION_RE.test(version) || parsed.positionals.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const only = onlyArg?.split(',').filter(Boolean);
  const known = [...K8S_BINARIES, ...Object.keys(ETCD_PACKAGES)];
  const unknown = (only ?? []).filter((b) => !known.includes(b));
  if (unknown.length > 0) {
    process.stderr.write(`k8s:build: unknown binary ${unknown.join(', ')} (known: ${known.join(', ')})\n`);
    process.exit(2);
  }
  const k8s = (only ?? K8S_BINARIES).filter((b): b is K8sBinary => (K8S_BINARIES as readonly string[]).includes(b));
  const etcd = (only ?? Object.keys(ETCD_PACKAGES)).filter((b): b is EtcdBinary => b in ETCD_PACKAGES);
  const t0 = Date.now();
  if (k8s.length > 0) process.stdout.write(`${await buildKubernetes({ version, binaries: k8s })}\n`);
  if (etcd.length > 0) {
    const ev = await etcdVersionFor(version);
    process.stderr.write(`kubeadm ${version} pins etcd ${ev.image}\n`);
    process.stdout.write(`${await buildEtcd(ev.module, { binaries: etcd })}\n`);
  }
  process.stderr.write(`k8s:build done in ${Math.round((Date.now() - t0) / 1000)} s\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`k8s:build: ${e.message}\n`);
    process.exit(1);
  });
}
