// npm run test:lts: the part of the tests that runs fast — every unit test and the integration files
// that drive the CLI end to end on sandbox nodes — under each supported Node.js LTS line other than the
// one running this (npm test runs everything on that one). The Node binaries come from the npm registry
// (scripts/lib/node-dist.ts, pinned by integrity). docs/testing.md says what it costs.
//
//   node dist/scripts/test-lts.js [--node 24] ...   (default: every line of NODE_LTS but the running one)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NODE_LTS, nodeBinaryOf, withoutNodeOptions, type Arch } from './lib/node-dist.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = path.join(REPO, 'node_modules/.cache/kubeadm-nonroot-node');

/** The integration files that run the CLI (bin/kubeadm-nonroot) on sandbox roots: its whole surface, in minutes. */
const CLI_INTEGRATION = ['refusals', 'honest-output', 'verify', 'confinement', 'no-run-dir', 'apply-rollback'];

function testFiles(): string[] {
  const unit = readdirSync(path.join(REPO, 'dist/test/unit')).filter((f) => f.endsWith('.test.js')).sort().map((f) => `dist/test/unit/${f}`);
  return [...unit, ...CLI_INTEGRATION.map((n) => `dist/test/integration/${n}.test.js`)];
}

function hostArch(): Arch {
  if (process.arch === 'x64' || process.arch === 'arm64') return process.arch;
  throw new Error(`no official Node.js build on the npm registry for ${process.arch}`);
}

function main(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { node: { type: 'string', multiple: true } } });
  const running = process.versions.node.split('.')[0];
  const wanted = values.node ?? NODE_LTS.map((r) => r.version.split('.')[0]!).filter((m) => m !== running);
  const unknown = wanted.filter((m) => !NODE_LTS.some((r) => r.version.startsWith(`${m}.`)));
  if (unknown.length > 0) throw new Error(`--node ${unknown.join(', ')}: not a supported LTS line (${NODE_LTS.map((r) => r.version).join(', ')})`);
  const files = testFiles();
  let failed = 0;
  for (const release of NODE_LTS.filter((r) => wanted.includes(r.version.split('.')[0]!))) {
    const node = nodeBinaryOf(release, hostArch(), CACHE);
    const t0 = Date.now();
    process.stderr.write(`test:lts: Node ${release.version}: ${files.length} test files\n`);
    const r = spawnSync(node, ['--test', '--test-concurrency=2', '--test-reporter=dot', ...files], { cwd: REPO, stdio: 'inherit', env: withoutNodeOptions() });
    const seconds = Math.round((Date.now() - t0) / 1000);
    process.stderr.write(`test:lts: Node ${release.version}: ${r.status === 0 ? 'passed' : `FAILED (${r.signal ?? `exit ${r.status}`})`} in ${seconds} s\n`);
    if (r.status !== 0) failed++;
  }
  return failed === 0 ? 0 : 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`test:lts: ${(e as Error).message}\n`);
  process.exitCode = 2;
}
