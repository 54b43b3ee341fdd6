// The npm build's CLI: dist/src (tsc's output, one file per module) and its runtime dependencies bundled
// by esbuild into ONE CommonJS file, dist/cli/kubeadm-nonroot.cjs, which bin/kubeadm-nonroot runs.
// One file spares every run resolving and loading ~50 ES modules and ~100 files of dependencies
// (bench/results.md). Run by `npm run build` after tsc; the tests run bin/kubeadm-nonroot, so every CLI
// test goes through this bundle. The single executable bundles the same code its own way
// (scripts/build-sea.ts).
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI_DIR = path.join(REPO, 'dist', 'cli');

export async function bundleCli(): Promise<void> {
  const esbuild = await import('esbuild');
  rmSync(CLI_DIR, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [path.join(REPO, 'dist', 'src', 'cli', 'main.js')],
    outfile: path.join(CLI_DIR, 'kubeadm-nonroot.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // import.meta is empty in CommonJS: src/templates.ts derives paths from it.
    define: { 'import.meta.url': '__kubeadmNonrootImportMetaUrl' },
    banner: { js: 'var __kubeadmNonrootImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: 'warning',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await bundleCli();
