// npm run bench: what the tool costs, measured side by side with a baseline in the same run and
// reported as ratios (absolute times on a shared 2-core VM mean little; ratios travel).
//   1. plan on the largest fixture       vs  node -e ''        (start-up overhead)
//   2. apply --no-wait + rollback on a sandbox whose etcd data dir holds 100,000 files
//                                         vs  chown -R there and back on a copy of the same tree
//   3. verify on a migrated sandbox       vs  node -e ''
// Writes bench/results.md. Never run by npm test: no timing asserts anywhere (house rule).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSandbox } from '../test/support/sandbox.js';
import { BIN, REPO_ROOT } from '../test/support/paths.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const DATA_FILES = Number(process.env.BENCH_DATA_FILES ?? 100_000);

function time(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Interleave the two commands so load changes hit both alike. */
function sideBySide(a: () => number, b: () => number, runs = RUNS): { a: number; b: number } {
  a(); b(); // warm-up: page cache, node's own start-up files
  const ra: number[] = [];
  const rb: number[] = [];
  for (let i = 0; i < runs; i++) {
    ra.push(a());
    rb.push(b());
  }
  return { a: median(ra), b: median(rb) };
}

const node = process.execPath;
const rows: string[] = [];
const add = (what: string, tool: number, baseName: string, base: number, target: string) =>
  rows.push(`| ${what} | ${tool.toFixed(0)} ms | ${baseName} ${base.toFixed(0)} ms | **${(tool / base).toFixed(2)}×** | ${target} |`);

// 1. plan on the largest fixture (most files: v1.30 with six static pods)
const big = await buildSandbox({ fixture: 'v1.30-port443-webhooks-haproxy-keepalived' });
const p = sideBySide(() => time(node, [BIN, 'plan', '--root', big.root, '-o', 'json']), () => time(node, ['-e', '']));
add('`plan` (largest fixture, 6 static pods)', p.a, "`node -e ''`", p.b, '≤ 2×');
const help = sideBySide(() => time(node, [BIN, '--version']), () => time(node, ['-e', '']));
add('`--version` (start-up only)', help.a, "`node -e ''`", help.b, '—');

// 3. verify on a migrated sandbox
execFileSync(node, [BIN, 'apply', '--root', big.root, '--yes', '--no-wait'], { stdio: 'ignore' });
const v = sideBySide(() => time(node, [BIN, 'verify', '--root', big.root, '-o', 'json']), () => time(node, ['-e', '']));
add('`verify` (migrated node)', v.a, "`node -e ''`", v.b, '—');
await big.cleanup();

// 2. the data dir: apply + rollback vs chown -R there and back
const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked', dataFiles: DATA_FILES });
const copy = join(sb.root, 'var/lib/etcd-bench-copy');
execFileSync('cp', ['-a', join(sb.root, 'var/lib/etcd'), copy]);
const uid = 4242;
const runsBig = Math.max(3, Math.floor(RUNS / 2));
const cyc = sideBySide(
  () => time(node, [BIN, 'apply', '--root', sb.root, '--yes', '--no-wait']) + time(node, [BIN, 'rollback', '--root', sb.root, '--yes', '--no-wait']),
  () => time('chown', ['-R', `${uid}:${uid}`, copy]) + time('chown', ['-R', '0:0', copy]),
  runsBig,
);
add(`\`apply --no-wait\` + \`rollback\` (${DATA_FILES.toLocaleString('en')} files in the etcd data dir)`, cyc.a, '`chown -R` there and back', cyc.b, 'data-dir change ≤ 1.3×');
// The data-dir ownership change alone: the step apply runs (coreutils chown -R, see src/apply/fsops.ts)
// plus the census discovery takes, vs the bare chown -R.
const census = sideBySide(
  () => time(node, ['--input-type=module', '-e', `import('${join(REPO_ROOT, 'dist/src/discover/fs.js')}').then(m => m.treeSummary('${sb.root}', '/var/lib/etcd'))`]) + time('chown', ['-R', `${uid}:${uid}`, join(sb.root, 'var/lib/etcd')]) + time('chown', ['-R', '0:0', join(sb.root, 'var/lib/etcd')]),
  () => time('chown', ['-R', `${uid}:${uid}`, copy]) + time('chown', ['-R', '0:0', copy]),
  runsBig,
);
add('data-dir ownership change alone (census walk + `chown -R` there and back)', census.a, '`chown -R` there and back', census.b, '≤ 1.3×');
await sb.cleanup();

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const os = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? 'Linux';
const machine = `${os}, ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
const md = `# Benchmarks

Machine: ${machine}.
Medians of ${RUNS} interleaved runs (${runsBig} for the data-dir rows) after one warm-up, measured by
\`npm run bench\` (scripts/bench.ts). Ratios are tool ÷ baseline, both measured in the same run.

| what | tool | baseline | ratio | target |
|---|---|---|---|---|
${rows.join('\n')}

Notes:
- The npm build loads its modules from \`dist/\` one by one; the single executable (\`npm run build:sea\`)
  loads one bundled file with a code cache and starts faster.
- apply changes the data dir with coreutils \`chown -R\` itself; the rest of its time is discovery (an
  ownership census of the tree, which rollback needs to restore owners exactly), journaling with fsync,
  and shadow-utils account changes.
`;
mkdirSync(join(REPO_ROOT, 'bench'), { recursive: true });
writeFileSync(join(REPO_ROOT, 'bench', 'results.md'), md);
process.stdout.write(md);
