// npm run bench -- --node: control-plane downtime on a real kubeadm node (scripts/kube-node.ts), side
// by side: `kubeadm-nonroot apply` versus `kubeadm upgrade apply` of the same node, which both restart
// all four static pods one after another. Measured from inside the node, every 100 ms:
//   - the API's /livez?verbose (unavailable = a poll not answered 200 within 1 s; the failed checks are
//     logged, so an outage says whether the API was refused or answered 500, and why);
//   - each component's own health endpoint (etcd http://127.0.0.1:2381/readyz, kube-apiserver /readyz,
//     kube-controller-manager :10257/healthz, kube-scheduler :10259/healthz) and the mtime of its
//     manifest, giving per component the time from manifest write to healthy again.
// The baselines upgrade to the SAME version (BENCH_NODE_VERSION, default v1.36.3): the one release this
// needs built. kubeadm regenerates every manifest and restarts each component whose manifest differs,
// as for a patch release; so they run on the migrated node, once with `kubeadm-nonroot patches` (the
// upgrade an operator of this tool runs) and once without. Not on a plain kubeadm node: kubeadm skips a
// component whose regenerated manifest equals the one on disk (phases/upgrade/staticpods.go).
// Writes the section "## Downtime on a real node" of bench/results.md: the latest run's table and
// timelines, one line per run (kept), and the hand-written analysis under "### Where the time goes"
// (kept). `npm run bench` keeps the whole section. Poll logs, command outputs and the kubelet's log stay
// in BENCH_NODE_LOGS (default a new /var/tmp/kubeadm-nonroot-bench-node-* dir).
// No timing asserts anywhere (house rule).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { K8S_CACHE } from './k8s-build.js';
import { KubeNode, release } from './kube-node.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { COMPONENTS, tool, waitMirrorPodsReady, type Comp } from './lib/control-plane.js';
import { REPO_ROOT } from './lib/paths.js';

const SECTION = '## Downtime on a real node';
const RESULTS = join(REPO_ROOT, 'bench', 'results.md');
/** Preflight checks that cannot pass on this node (test/node/flow.test.ts says why, one by one). */
const IGNORE = 'SystemVerification,ImagePull,CreateJob,ControlPlaneNodesReady';

const RUNS = '### Every run';
/** Written by hand from the timelines and the kubelet's log; the bench keeps it. */
const ANALYSIS = '### Where the time goes';

/** What a new run keeps of the old section: the lines of earlier runs and the hand-written analysis. */
function keptParts(section: string): { runs: string[]; analysis: string } {
  const r = section.indexOf(RUNS);
  const a = section.indexOf(ANALYSIS);
  const runsText = r < 0 ? '' : section.slice(r, a > r ? a : undefined);
  return { runs: runsText.split('\n').filter((l) => l.startsWith('- ')), analysis: a < 0 ? '' : section.slice(a).trimEnd() + '\n' };
}

/** The node-bench section of an existing results file (so `npm run bench` can keep it), or ''. */
export function keptNodeSection(): string {
  if (!existsSync(RESULTS)) return '';
  const text = readFileSync(RESULTS, 'utf8');
  const i = text.indexOf(SECTION);
  return i < 0 ? '' : `\n${text.slice(i)}`;
}

/** An API outage, ms after the command started, and how its polls failed (answer → count). */
interface Outage { from: number; to: number; why: Map<string, number> }
interface Recovery { writeMs: number; downMs: number | null; healthyMs: number | null }
interface Window {
  apiDownMs: number;
  apiLongestMs: number;
  /** Per component, ms after the command started: manifest write seen, first failed poll after it, healthy again. */
  perComponent: Record<Comp, Recovery | null>;
  /** API outages, ms after the command started. */
  apiOutages: Outage[];
}

/** Starts the poller inside the node; stop() returns what it saw, times relative to `t0()`. */
async function startHealthPoller(kn: KubeNode, name: string): Promise<{ log: string; stop(t0: number): Promise<Window> }> {
  const a = kn.node.address;
  const targets: Record<string, string> = {
    api: `https://${a}:6443/livez`,
    etcd: 'http://127.0.0.1:2381/readyz',
    'kube-apiserver': `https://${a}:6443/readyz`,
    'kube-controller-manager': 'https://127.0.0.1:10257/healthz',
    'kube-scheduler': 'https://127.0.0.1:10259/healthz',
  };
  const code = `const http=require('http'),https=require('https'),fs=require('fs');const T=${JSON.stringify(targets)};
const C=${JSON.stringify(COMPONENTS)};
setInterval(()=>{const t=Date.now();
for(const [k,u] of Object.entries(T)){const m=u.startsWith('https')?https:http;
const r=m.get(k==='api'?u+'?verbose':u,{rejectUnauthorized:false,timeout:1000},(res)=>{let b='';res.on('data',(d)=>{b+=d});
res.on('end',()=>console.log(t,k,res.statusCode,res.statusCode===200?'':b.split('\\n').filter((l)=>l.startsWith('[-]')).map((l)=>l.slice(3).split(' ')[0]).join(',')))});
r.on('timeout',()=>r.destroy(new Error('timeout')));r.on('error',()=>console.log(t,k,0));}
for(const c of C){try{console.log(t,'mtime:'+c,Math.floor(fs.statSync('/etc/kubernetes/manifests/'+c+'.yaml').mtimeMs))}catch{}}
},100);`;
  await kn.node.startDaemon(name, [process.execPath, '-e', code]);
  const log = kn.node.daemons.get(name)!.log;
  return {
    log,
    async stop(t0: number): Promise<Window> {
      await kn.node.stopDaemon(name, 2000);
      const rows = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')).map(([t, k, v, why]) => ({ t: Number(t), k: k!, v: Number(v), why: why ?? '' }));
      const series = (k: string) => rows.filter((r) => r.k === k).sort((x, y) => x.t - y.t);
      // API: sum and longest run of intervals whose poll failed, and the outages themselves.
      const api = series('api');
      let apiDownMs = 0, apiLongestMs = 0, run = 0;
      const apiOutages: Outage[] = [];
      api.forEach((r, i) => {
        const dt = i + 1 < api.length ? api[i + 1]!.t - r.t : 100;
        if (r.v !== 200) {
          if (run === 0) apiOutages.push({ from: r.t - t0, to: r.t - t0, why: new Map() });
          apiDownMs += dt; run += dt; apiLongestMs = Math.max(apiLongestMs, run);
          const o = apiOutages[apiOutages.length - 1]!;
          o.to = r.t + dt - t0;
          // What /livez?verbose said failed ("no answer": refused or no answer within 1 s; a starting
          // API server's post-start hooks in one word).
          const checks = [...new Set(r.why.split(',').filter(Boolean).map((c) => (c.startsWith('poststarthook/') ? 'post-start hooks' : c)))];
          const why = r.v === 0 ? 'no answer' : `${r.v}${checks.length ? ` ${checks.join(', ')}` : ''}`;
          o.why.set(why, (o.why.get(why) ?? 0) + 1);
        } else run = 0;
      });
      // Per component: manifest write (the first poll that sees a new mtime: kubeadm writes its manifests
      // ahead into a temp dir and moves them in one by one, so the mtime itself would be too early) →
      // the first failed poll after it (the old process answers until the kubelet stops it) → the first
      // healthy poll after that. Later failures (a component that loses its leader lease while the API
      // is down and restarts) are not its own restart and are left to the API rows.
      const perComponent = {} as Record<Comp, Recovery | null>;
      for (const c of COMPONENTS) {
        const m = series(`mtime:${c}`);
        const write = m.find((r) => r.v !== m[0]!.v);
        if (!write) { perComponent[c] = null; continue; }
        const h = series(c).filter((r) => r.t >= write.t);
        const down = h.find((r) => r.v !== 200);
        const healthy = down ? h.find((r) => r.t > down.t && r.v === 200) : undefined;
        perComponent[c] = { writeMs: write.t - t0, downMs: down ? down.t - t0 : null, healthyMs: healthy ? healthy.t - t0 : null };
      }
      return { apiDownMs, apiLongestMs, perComponent, apiOutages };
    },
  };
}

interface Measured extends Window { what: string; ms: number; output: string }

/** One line per event, ms after the command started: where the time went. */
function timeline(m: Measured): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)}`;
  const ev: Array<[number, string]> = [];
  for (const c of COMPONENTS) {
    const p = m.perComponent[c];
    if (!p) continue;
    ev.push([p.writeMs, `${c} manifest written`]);
    if (p.downMs !== null) ev.push([p.downMs, `${c} stops answering`]);
    if (p.healthyMs !== null) ev.push([p.healthyMs, `${c} healthy again (${s(p.healthyMs - p.writeMs)} s after the write)`]);
  }
  for (const o of m.apiOutages) ev.push([o.from, `API /livez down for ${s(o.to - o.from)} s (${[...o.why].map(([w, n]) => `${w}: ${n}`).join('; ')})`]);
  ev.push([m.ms, `${m.what} exits`]);
  return ev.sort((x, y) => x[0] - y[0]).map(([t, e]) => `  ${s(t).padStart(6)} s  ${e}`).join('\n');
}

export async function benchNode(): Promise<string> {
  const version = process.env.BENCH_NODE_VERSION ?? 'v1.36.3';
  // Poll logs, command outputs and timelines stay here after the node is gone.
  const keep = process.env.BENCH_NODE_LOGS ?? mkdtempSync('/var/tmp/kubeadm-nonroot-bench-node-');
  mkdirSync(keep, { recursive: true });
  const r = await release(version, undefined, { etcdBinaries: ['etcd'] });
  const kn = await KubeNode.start({ binds: [REPO_ROOT, K8S_CACHE], hostname: 'kn-bench' });
  try {
    await kn.startContainerd(`registry.k8s.io/pause:${r.pauseTag}`);
    await kn.importImages(r);
    kn.install(r);
    await kn.init(version, ['SystemVerification', 'ImagePull']);
    await waitMirrorPodsReady(kn);
    const measure = async (what: string, run: () => Promise<{ code: number; stdout: string; stderr: string }>): Promise<Measured> => {
      const poll = await startHealthPoller(kn, `bench-${what}`);
      await sleep(1000); // a baseline of healthy polls before the command
      const t0 = Date.now();
      const res = await run();
      const ms = Date.now() - t0;
      await waitMirrorPodsReady(kn);
      await sleep(2000);
      const w = await poll.stop(t0);
      const output = res.stdout + res.stderr;
      copyFileSync(poll.log, join(keep, `${what}.polls`));
      writeFileSync(join(keep, `${what}.out`), output);
      if (res.code !== 0) throw new Error(`${what} exited ${res.code} (logs in ${keep}):\n${output}`);
      const m = { what, ms, output, ...w };
      writeFileSync(join(keep, `${what}.timeline`), `${timeline(m)}\n`);
      process.stderr.write(`[bench] ${what}: ${(ms / 1000).toFixed(1)} s\n${timeline(m)}\n`);
      return m;
    };
    const apply = await measure('apply', () => tool(kn, ['apply', '--yes', '--timeout', '10m']));
    // The baselines run on the migrated node: after a rollback kubeadm would find its own manifests
    // unchanged and skip every component ("current and new manifests of … are equal, skipping
    // upgrade", phases/upgrade/staticpods.go), measuring nothing. First the upgrade an operator of this
    // tool runs (--patches from `kubeadm-nonroot patches`), then a plain one, which regenerates all
    // four manifests without the securityContext (the node ends root; it is thrown away).
    const p = await tool(kn, ['patches', '--output-dir', '/root/nonroot-patches']);
    if (p.code !== 0) throw new Error(`patches exited ${p.code}:\n${p.stdout}${p.stderr}`);
    const upgradeArgv = ['kubeadm', 'upgrade', 'apply', version, '--yes', `--ignore-preflight-errors=${IGNORE}`];
    const patched = await measure('upgrade-patches', () => kn.node.exec([...upgradeArgv, '--patches=/root/nonroot-patches'], { timeoutMs: 1_800_000 }));
    const upgrade = await measure('upgrade', () => kn.node.exec(upgradeArgv, { timeoutMs: 1_800_000 }));
    const s = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
    const ratio = (a: number | null, b: number | null) => (a !== null && b ? `**${(a / b).toFixed(2)}×**` : '—');
    /** Manifest write → healthy again. */
    const comp = (m: Measured, c: Comp): number | null => {
      const x = m.perComponent[c];
      return x && x.healthyMs !== null ? x.healthyMs - x.writeMs : null;
    };
    /** A component kubeadm left alone says so. */
    const cell = (m: Measured, c: Comp) => (new RegExp(`manifests of ${c} are equal, skipping`, 'i').test(m.output) ? 'skipped (unchanged)' : s(comp(m, c)));
    const row = (what: string, f: (m: Measured) => number | null, cf: (m: Measured) => string = (m) => s(f(m))) =>
      `| ${what} | ${cf(apply)} | ${cf(upgrade)} | ${ratio(f(apply), f(upgrade))} | ${cf(patched)} | ${ratio(f(apply), f(patched))} |`;
    const lines = [
      row('API unavailable (sum of failed /livez polls)', (m) => m.apiDownMs),
      row('longest API outage', (m) => m.apiLongestMs),
      row('API outages (count)', (m) => m.apiOutages.length, (m) => String(m.apiOutages.length)),
      row('whole command', (m) => m.ms),
      ...COMPONENTS.map((c) => row(`${c}: manifest write → healthy`, (m) => comp(m, c), (m) => cell(m, c))),
    ];
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const md = `${SECTION}

\`npm run bench -- --node\` (scripts/bench-node.ts), ${new Date().toISOString().slice(0, 10)}: a real kubeadm ${version} node
(scripts/kube-node.ts: containerd 2 + runc built from source, the real kubelet), polled from inside every 100 ms: the
API's /livez, each component's own health endpoint, each manifest's mtime. \`kubeadm-nonroot apply\`
(health gates on) versus \`kubeadm upgrade apply ${version}\` of the same node (same version: kubeadm
regenerates and restarts every component whose manifest differs, as for a patch release), once with the
patches from \`kubeadm-nonroot patches\` (the upgrade an operator of this tool runs) and once without.
Ratio: apply ÷ upgrade. Load average on ${cpus().length} CPUs at the end: ${load}.

| what | kubeadm-nonroot apply | kubeadm upgrade apply | ratio | kubeadm upgrade apply --patches | ratio |
|---|---|---|---|---|---|
${lines.join('\n')}

Timelines (seconds after the command started):

\`\`\`
kubeadm-nonroot apply
${timeline(apply)}
kubeadm upgrade apply --patches
${timeline(patched)}
kubeadm upgrade apply
${timeline(upgrade)}
\`\`\`
`;
    const text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n';
    const i = text.indexOf(SECTION);
    const kept = keptParts(i < 0 ? '' : text.slice(i));
    const f = (m: Measured) => `${s(m.apiDownMs)} (longest ${s(m.apiLongestMs)})`;
    const run = `- ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load ${load}: API unavailable — apply ${f(apply)}, `
      + `upgrade ${f(upgrade)}, upgrade --patches ${f(patched)}; apply ÷ upgrade ${ratio(apply.apiDownMs, upgrade.apiDownMs)}, `
      + `apply ÷ upgrade --patches ${ratio(apply.apiDownMs, patched.apiDownMs)}`;
    const runs = `${RUNS}\n\nOne line per run of \`npm run bench -- --node\` (kept across runs: the spread on a shared machine is large).\n\n${[...kept.runs, run].join('\n')}\n`;
    writeFileSync(RESULTS, `${(i < 0 ? text : text.slice(0, i)).trimEnd()}\n\n${md}\n${runs}${kept.analysis ? `\n${kept.analysis}` : ''}`);
    process.stderr.write(`[bench] logs in ${keep}\n`);
    return md;
  } finally {
    for (const f of ['kubelet.log', 'containerd.log']) {
      try { copyFileSync(join(kn.node.workDir, f), join(keep, f)); } catch { /* not started */ }
    }
    await kn.stop();
  }
}
