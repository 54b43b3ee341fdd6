// The npm build's CLI: dist/src (tsc's output, one file per module) bundled by esbuild into ONE
// CommonJS file, dist/cli/kubeadm-nonroot.cjs, plus a V8 code cache trained on a `plan` run
// (dist/cli/kubeadm-nonroot.cjs.cache). bin/kubeadm-nonroot runs it through bin/run-bundle.cjs.
//
// Why (bench/results.md): on Node 20, resolving and compiling ~50 ES modules and commander's and
// semver's CommonJS files, then compiling every function `plan` calls, was most of what `plan` cost
// beyond Node's own start-up. One CommonJS file skips the ESM loader and the module resolution; the
// code cache skips the compiling. yaml stays outside: src/yaml/lib.ts requires it from node_modules on
// first use (kubeadm's own files never need it). Run by `npm run build` after tsc; the tests run
// bin/kubeadm-nonroot, so every CLI test goes through this bundle.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI_DIR = path.join(REPO, 'dist', 'cli');
const CLI_BUNDLE = path.join(CLI_DIR, 'kubeadm-nonroot.cjs');
/** The node the cache is trained on: a kubeadm v1.32 stacked control plane (not the benchmark's fixture). */
const TRAINING_FIXTURE = path.join(REPO, 'test', 'fixtures', 'manifests', 'v1.32-rhel-stacked');

export async function bundleCli(): Promise<void> {
  const esbuild = await import('esbuild');
  rmSync(CLI_DIR, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [path.join(REPO, 'dist', 'src', 'cli', 'main.js')],
    outfile: CLI_BUNDLE,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // import.meta is empty in CommonJS: src/templates.ts and src/yaml/lib.ts derive paths from it.
    define: { 'import.meta.url': '__kubeadmNonrootImportMetaUrl' },
    banner: { js: 'var __kubeadmNonrootImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: 'warning',
  });
  trainCodeCache();
}

/** Run `plan -o json` once on a throwaway node root, writing the code cache of what it compiled. */
function trainCodeCache(): void {
  const root = mkdtempSync(path.join(tmpdir(), 'kubeadm-nonroot-train-'));
  try {
    mkdirSync(path.join(root, 'etc', 'kubernetes', 'manifests'), { recursive: true });
    for (const f of readdirSync(TRAINING_FIXTURE)) copyFileSync(path.join(TRAINING_FIXTURE, f), path.join(root, 'etc', 'kubernetes', 'manifests', f));
    writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\n');
    const loader = path.join(REPO, 'bin', 'run-bundle.cjs');
    // Exit code 2 is expected: the throwaway root lacks the PKI files, so the plan has blocking problems.
    execFileSync(process.execPath, ['-e', `process.argv.splice(1, 0, ${JSON.stringify(loader)}); require(${JSON.stringify(loader)}).train()`, 'plan', '--root', root, '-o', 'json'], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  } catch (e) {
    if ((e as { status?: number }).status !== 2) throw e;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await bundleCli();
