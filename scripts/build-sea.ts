// npm run build:sea → dist/kubeadm-nonroot-linux-x64 and dist/kubeadm-nonroot-linux-arm64: Node single
// executable applications (SEA), each a pinned official Node binary with the CLI injected into it.
//
//   node dist/scripts/build-sea.js [--arch x64|arm64]... [--force]
//
// Steps (Node's SEA guide, doc/api/single-executable-applications.md):
//   1. fetch node-linux-<arch>@NODE_VERSION with `npm pack` (the npm registry is the one place the
//      project may download from), check its integrity against the pin in scripts/lib/node-dist.ts, keep
//      bin/node in a cache;
//   2. bundle dist/scripts/sea-entry.js with esbuild into ONE CommonJS file (a SEA main script is run as
//      CommonJS, and inside a SEA require() reaches only built-in modules, so nothing may stay external);
//   3. make the preparation blob with `node --experimental-sea-config`, run by the embedded Node version
//      itself (the guide: "the version of the Node.js binary used to produce the blob must be the same
//      as the one to which the blob will be injected");
//   4. copy the pinned binary and inject the blob with postject at the NODE_SEA_FUSE sentinel.
// The binary is NOT stripped: stripping after injection segfaults (measured), and the x86-64
// binutils here cannot strip the arm64 binary before it.
//
// Cross-building arm64 on x64: the blob for the other architecture is made by the host's Node of the
// SAME version with useCodeCache (and useSnapshot) false — code cache and snapshots load only on the
// platform that compiled them, so the guide requires both off for cross-platform blobs (nodejs/node
// PR #53994). The host architecture's executable gets the code cache (a faster start).
//
// Rebuilds are skipped when nothing that goes into an executable changed (a stamp per architecture in
// the cache), so tests can call this on every run.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, closeSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NEWEST_LTS, nodeBinaryOf, withoutNodeOptions, type Arch } from './lib/node-dist.js';
import { withPidLock } from './lib/pid-lock.js';
import { runSync } from './lib/run.js';
import { VERSION } from '../src/version.js';

export type { Arch };
export const ARCHES: readonly Arch[] = ['x64', 'arm64'];

/**
 * The embedded Node: the newest LTS line (scripts/lib/node-dist.ts, NEWEST_LTS), >= 22.20 for the SEA
 * setting execArgvExtension "none" that makes it ignore NODE_OPTIONS (scripts/sea-entry.ts says why that
 * matters for a tool run as root).
 */
export const NODE_VERSION = NEWEST_LTS.version;
/** The sentinel Node's SEA loader looks for (node/src/node_sea.cc, same in 20 and 22). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** ELF e_machine of each architecture (elf.h: EM_X86_64, EM_AARCH64): a check that no binary got mixed up. */
const ELF_MACHINE: Record<Arch, number> = { x64: 0x3e, arm64: 0xb7 };

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = path.join(REPO, 'node_modules/.cache/kubeadm-nonroot-sea');
const OUT_DIR = path.join(REPO, 'dist');
const ENTRY = path.join(REPO, 'dist/scripts/sea-entry.js');

export const executablePath = (arch: Arch): string => path.join(OUT_DIR, `kubeadm-nonroot-linux-${arch}`);

function log(msg: string): void {
  process.stderr.write(`build-sea: ${msg}\n`);
}

async function timed<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
  const t0 = Date.now();
  const r = await fn();
  log(`${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return r;
}

/** An environment without NODE_OPTIONS, for every Node this script starts (the blob maker, postject). */
const cleanEnv = withoutNodeOptions;

/** The commit the executable is built from ("-dirty" when tracked files differ from it), or "unknown". */
export function gitCommit(cwd = REPO): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = spawnSync('git', ['diff', '--quiet', 'HEAD', '--'], { cwd, stdio: 'ignore' }).status === 1;
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** bin/node of node-linux-<arch>@NODE_VERSION, fetched once into the cache. */
export function nodeBinary(arch: Arch): string {
  return nodeBinaryOf(NEWEST_LTS, arch, CACHE);
}

export function hostArch(): Arch {
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) return process.arch;
  throw new Error(`build-sea runs on linux x64 or arm64 (it must run the embedded Node to make the blob), not ${process.platform}-${process.arch}`);
}

/** The one-file CommonJS bundle of the CLI; fails when anything but a Node built-in would stay a run-time import. */
async function bundle(commit: string, outfile: string): Promise<void> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} missing: run "npm run build" first (npm run build:sea does)`);
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${NODE_VERSION.split('.')[0]}`,
    // import.meta is empty in CommonJS output; src/templates.ts derives paths from import.meta.url at
    // load time, so give it the executable's own file URL (in a SEA, __filename is the executable).
    define: { __KUBEADM_NONROOT_COMMIT__: JSON.stringify(commit), 'import.meta.url': '__kubeadmNonrootImportMetaUrl' },
    banner: { js: 'var __kubeadmNonrootImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    metafile: true,
    logLevel: 'warning',
  });
  const external = Object.values(result.metafile.outputs)
    .flatMap((o) => o.imports)
    .filter((i) => i.external && !isBuiltin(i.path));
  if (external.length) {
    throw new Error(`the SEA bundle would load ${external.map((i) => `${i.path} (${i.kind})`).join(', ')} at run time, which a SEA cannot; make these imports static strings so esbuild bundles them`);
  }
}

/**
 * Every file under templates/, as SEA assets keyed "templates/<path>": src/templates.ts reads them with
 * node:sea getAsset() inside the executable, which has no templates/ directory beside it.
 */
function templateAssets(dir = path.join(REPO, 'templates')): Record<string, string> {
  const assets: Record<string, string> = {};
  for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const abs = path.join(dir, rel);
    if (statSync(abs).isFile()) assets[`templates/${rel.split(path.sep).join('/')}`] = abs;
  }
  return assets;
}

function elfMachine(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(20);
    readSync(fd, head, 0, 20, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
    return head.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}

function run(cmd: string, args: string[]): void {
  runSync(cmd, args, { env: cleanEnv(), extendEnv: false });
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Build one architecture's executable from the bundle; returns its path. */
async function buildOne(arch: Arch, bundleFile: string, force: boolean): Promise<string> {
  const host = hostArch();
  const work = path.join(CACHE, `work-${arch}`);
  mkdirSync(work, { recursive: true });
  const blob = path.join(work, 'sea-prep.blob');
  const seaConfig = {
    main: bundleFile,
    output: blob,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: arch === host,
    execArgvExtension: 'none',
    assets: templateAssets(),
  };
  const postjectVersion = (createRequire(import.meta.url)('postject/package.json') as { version: string }).version;
  const out = executablePath(arch);
  const stampFile = path.join(CACHE, `stamp-linux-${arch}`);
  const assets = Object.fromEntries(Object.entries(seaConfig.assets).map(([k, f]) => [k, sha256(readFileSync(f))]));
  const key = sha256(JSON.stringify({ bundle: sha256(readFileSync(bundleFile)), seaConfig, assets, node: NEWEST_LTS.integrity[arch], postjectVersion }));
  if (!force && existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === `${key} ${statSync(out).size}`) {
    log(`${path.relative(REPO, out)} is up to date`);
    return out;
  }
  const target = await timed(`fetched node ${NODE_VERSION} linux-${arch}`, () => nodeBinary(arch));
  const maker = arch === host ? target : await timed(`fetched node ${NODE_VERSION} linux-${host} (makes the ${arch} blob)`, () => nodeBinary(host));
  writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(seaConfig, null, 2));
  await timed(`made the ${arch} blob`, () => run(maker, ['--experimental-sea-config', path.join(work, 'sea-config.json')]));
  const tmp = `${out}.tmp`;
  copyFileSync(target, tmp);
  chmodSync(tmp, 0o755);
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  await timed(`injected the blob into ${path.relative(REPO, out)}`, () => run(process.execPath, [postject, tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]));
  if (elfMachine(tmp) !== ELF_MACHINE[arch]) throw new Error(`${tmp}: ELF machine ${elfMachine(tmp)} is not ${arch}`);
  if (arch === host) {
    // A smoke test where it can run, before the file takes its final name: it must start and know its version.
    const v = execFileSync(tmp, ['--version'], { encoding: 'utf8', env: cleanEnv() }).trim();
    if (!v.startsWith(`${VERSION} `)) throw new Error(`${tmp} --version printed "${v}", expected it to start with ${VERSION}`);
    log(`${path.basename(out)} --version: ${v}`);
  }
  renameSync(tmp, out);
  writeFileSync(`${out}.sha256`, `${sha256(readFileSync(out))}  ${path.basename(out)}\n`);
  writeFileSync(stampFile, `${key} ${statSync(out).size}`);
  return out;
}

/**
 * Test files run in parallel (node --test --test-concurrency) and more than one builds the executable:
 * they share the cache's bundle, blob and dist/*.tmp files, so one build at a time, across processes.
 */
async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = path.join(CACHE, 'build.lock');
  return withPidLock(lock, fn, { pollMs: 100, onWait: (holder) => log(`waiting for the build of process ${holder} (${lock})`) });
}

export async function buildSea(arches: readonly Arch[], force = false): Promise<string[]> {
  mkdirSync(CACHE, { recursive: true });
  return withBuildLock(() => buildSeaLocked(arches, force));
}

async function buildSeaLocked(arches: readonly Arch[], force: boolean): Promise<string[]> {
  const t0 = Date.now();
  const commit = gitCommit();
  mkdirSync(CACHE, { recursive: true });
  const bundleFile = path.join(CACHE, 'kubeadm-nonroot.cjs');
  await timed(`bundled ${path.relative(REPO, ENTRY)} (commit ${commit})`, () => bundle(commit, bundleFile));
  const outs: string[] = [];
  for (const arch of arches) outs.push(await buildOne(arch, bundleFile, force));
  for (const o of outs) log(`${path.relative(REPO, o)}: ${statSync(o).size} bytes`);
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return outs;
}

const USAGE = 'usage: build-sea [--arch x64|arm64]... [--force]';

function parseCommandLine(argv: string[]): { arches: Arch[]; force: boolean } {
  const { values } = parseArgs({ args: argv, options: { arch: { type: 'string', multiple: true }, force: { type: 'boolean', default: false } } });
  const arches = values.arch ?? [...ARCHES];
  const unknown = arches.filter((a) => !(ARCHES as readonly string[]).includes(a));
  if (unknown.length > 0) throw new Error(`unknown --arch ${unknown.join(', ')}; ${USAGE}`);
  return { arches: arches as Arch[], force: values.force };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { arches, force } = parseCommandLine(process.argv.slice(2));
    await buildSea(arches, force);
  } catch (e) {
    process.stderr.write(`build-sea: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
