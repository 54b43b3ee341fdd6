// The npm package as an operator gets it: `npm pack` (which runs the `prepare` script, tsc) → a global
// install of the tarball into a temp prefix with NO registry and an EMPTY npm cache → the installed
// command runs. It works offline because package.json sets "bundleDependencies": the tarball carries
// the runtime dependencies at the lockfile's versions (measured: without it, `npm install -g --offline`
// of the tarball fails with ENOTCACHED even after `npm ci`, which caches tarballs but not the registry
// metadata needed to resolve the dependencies' version ranges).
// The pack runs in a copy of the work tree (node_modules linked), so its tsc does not rewrite the dist/
// that other test files are importing at the same time.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { VERSION } from '../../src/version.js';
import { REPO, runCli, show, type CliResult } from '../../scripts/lib/cli-run.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';

const execFileP = promisify(execFile);

interface Packed {
  filename: string;
  files: { path: string; mode: number }[];
  bundled: string[];
}

let tmp = '';
/** The work-tree copy npm pack ran in (its dist/ is what was packed). */
let work = '';
let packed: Packed;
let tarball = '';
let prefix = '';
let sandbox: Sandbox | null = null;

/** The environment without the npm_* variables `npm test` sets, so the nested npm acts as when typed. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_') && k !== 'NODE_OPTIONS'));
}

async function run(file: string, args: string[], cwd: string): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileP(file, args, { cwd, env: { ...npmEnv(), NO_COLOR: '1', LC_ALL: 'C' }, maxBuffer: 64 << 20, timeout: 5 * 60_000 });
    return { code: 0, signal: null, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number | string; signal?: NodeJS.Signals | null; stdout?: string; stderr?: string; message: string };
    return { code: typeof x.code === 'number' ? x.code : null, signal: x.signal ?? null, stdout: x.stdout ?? '', stderr: (x.stderr ?? '') + x.message };
  }
}

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-pack-'));
  work = path.join(tmp, 'work');
  const top = new Set(['.git', 'node_modules', 'dist', 'bench']);
  await cp(REPO, work, { recursive: true, filter: (src) => {
    const rel = path.relative(REPO, src);
    return !top.has(rel.split(path.sep)[0]!) && !rel.endsWith('.tgz');
  } });
  await symlink(path.join(REPO, 'node_modules'), path.join(work, 'node_modules'));
  // Its own cache dir: no dependence on (or writes to) the user's ~/.npm.
  const r = await run('npm', ['pack', '--json', '--pack-destination', tmp, '--cache', path.join(tmp, 'pack-cache')], work);
  assert.equal(r.code, 0, `npm pack failed\n${show(r)}`);
  [packed] = JSON.parse(r.stdout) as Packed[];
  assert.ok(packed, `npm pack printed no package\n${show(r)}`);
  tarball = path.join(tmp, packed.filename);
});

after(async () => {
  await sandbox?.cleanup();
  // The copy keeps the repository's modes, and test/fixtures/manifests is read-only (0555) on purpose:
  // give the owner write access back, or a non-root run could not remove it.
  if (tmp) {
    await execFileP('chmod', ['-R', 'u+w', tmp]).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
});

test('npm pack ships the compiled CLI, its templates and docs, and no sources or tests', async () => {
  const paths = new Set(packed.files.map((f) => f.path));
  for (const p of ['package.json', 'README.md', 'bin/kubeadm-nonroot', 'dist/src/cli/main.js', 'dist/src/version.js', 'dist/src/templates.js', 'templates/rollout/job.yaml', 'templates/rollout/ansible/site.yml', 'docs/install.md', 'docs/fleet.md']) {
    assert.ok(paths.has(p), `${p} is missing from the package`);
  }
  // src/templates.ts reads templates/ beside dist/ at run time: every template file must be shipped.
  const templates = (await readdir(path.join(REPO, 'templates'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  assert.ok(templates.length > 0);
  for (const e of templates) {
    const rel = path.relative(REPO, path.join(e.parentPath, e.name)).split(path.sep).join('/');
    assert.ok(paths.has(rel), `${rel} is missing from the package`);
  }
  const strays = [...paths].filter(
    (p) => /^(src|test|scripts)\/|^dist\/(test|scripts)\//.test(p) || (!p.startsWith('node_modules/') && p.endsWith('.ts')) || /^node_modules\/(typescript|esbuild|@esbuild|postject|kubernetes-models|@kubernetes-models)\//.test(p),
  );
  assert.deepEqual(strays, [], 'sources, tests, build scripts or dev tools in the package');
  const bin = packed.files.find((f) => f.path === 'bin/kubeadm-nonroot');
  assert.equal((bin!.mode & 0o111) !== 0, true, 'bin/kubeadm-nonroot is not executable in the package');
});

test('npm pack bundles every runtime dependency, so the tarball installs without a registry', async () => {
  const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(pkg.dependencies)) assert.ok(packed.bundled.includes(dep), `${dep} is not bundled`);
  assert.equal(packed.bundled.some((d) => ['typescript', 'esbuild', 'postject', 'kubernetes-models'].includes(d)), false, 'a dev dependency was bundled');
});

test('every relative import in the packed dist/src resolves to a packed file', async () => {
  const paths = new Set(packed.files.map((f) => f.path));
  const unresolved: string[] = [];
  for (const p of [...paths].filter((x) => x.startsWith('dist/src/') && x.endsWith('.js'))) {
    const text = await readFile(path.join(work, p), 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(p), m[1]!));
      if (!paths.has(target)) unresolved.push(`${p} → ${m[1]}`);
    }
  }
  assert.deepEqual(unresolved, []);
});

test('the tarball installs globally offline with an empty npm cache, and the installed command runs', { timeout: 5 * 60_000 }, async (t) => {
  prefix = path.join(tmp, 'prefix');
  const cache = path.join(tmp, 'empty-cache');
  await mkdir(cache);
  const install = await run('npm', ['install', '-g', '--prefix', prefix, '--offline', '--cache', cache, '--no-audit', '--no-fund', tarball], tmp);
  assert.equal(install.code, 0, `offline install failed\n${show(install)}`);

  const cmd = path.join(prefix, 'bin/kubeadm-nonroot');
  await t.test('the installed command prints the version of src/version.ts', async () => {
    const r = await run(cmd, ['--version'], tmp);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, `${VERSION}\n`);
  });

  await t.test('the installed command plans a sandbox node exactly as the work tree build does', async () => {
    sandbox = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    const installed = await run(cmd, ['plan', '--root', sandbox.root, '-o', 'json'], tmp);
    const local = await runCli(['plan', '--root', sandbox.root, '-o', 'json']);
    assert.equal(installed.code, 0, show(installed));
    assert.equal(local.code, 0, show(local));
    const withoutTime = (s: string): Record<string, unknown> => ({ ...(JSON.parse(s) as Record<string, unknown>), createdAt: null });
    const plan = withoutTime(installed.stdout);
    assert.equal(plan.root, sandbox.root);
    assert.deepEqual(plan, withoutTime(local.stdout));
  });
});
