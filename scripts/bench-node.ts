// npm run bench -- --node: control-plane downtime on a real kubeadm node (scripts/kube-node.ts), side
// by side: `kubeadm-nonroot apply` versus a `kubeadm upgrade apply` of the same node. Both restart all
// four static pods once. Measured from inside the node, every 100 ms:
//   - the API's /livez (unavailable = a poll that did not answer 200);
//   - each component's own health endpoint (etcd http://127.0.0.1:2381/readyz, kube-apiserver /readyz,
//     kube-controller-manager :10257/healthz, kube-scheduler :10259/healthz) and the mtime of its
//     manifest, giving per component the time from manifest write to healthy again.
// The baseline upgrades to the SAME version (BENCH_NODE_VERSION, default v1.36.3): the one release this
// needs built; kubeadm rewrites and restarts every component just as for a patch release (observed:
// it rewrites the manifests even when the version does not change).
// Writes the section "## Downtime on a real node" of bench/results.md; `npm run bench` keeps it.
// No timing asserts anywhere (house rule).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { K8S_CACHE } from './k8s-build.js';
import { KubeNode, release } from './kube-node.js';
import { COMPONENTS, tool, waitMirrorPodsReady, type Comp } from '../test/node/support.js';
import { REPO_ROOT } from '../test/support/paths.js';

const SECTION = '## Downtime on a real node';
const RESULTS = join(REPO_ROOT, 'bench', 'results.md');
/** Preflight checks that cannot pass on this node (test/node/flow.test.ts says why, one by one). */
const IGNORE = 'SystemVerification,ImagePull,CreateJob,ControlPlaneNodesReady';

/** The node-bench section of an existing results file (so `npm run bench` can keep it), or ''. */
export function keptNodeSection(): string {
  if (!existsSync(RESULTS)) return '';
  const text = readFileSync(RESULTS, 'utf8');
  const i = text.indexOf(SECTION);
  return i < 0 ? '' : `\n${text.slice(i)}`;
}

interface Window { apiDownMs: number; apiLongestMs: number; perComponent: Record<Comp, number | null> }

/** Starts the poller inside the node; stop() returns what it saw. */
async function startHealthPoller(kn: KubeNode, name: string): Promise<{ stop(): Promise<Window> }> {
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
const r=m.get(u,{rejectUnauthorized:false,timeout:90},(res)=>{res.resume();console.log(t,k,res.statusCode)});
r.on('timeout',()=>r.destroy(new Error('timeout')));r.on('error',()=>console.log(t,k,0));}
for(const c of C){try{console.log(t,'mtime:'+c,Math.floor(fs.statSync('/etc/kubernetes/manifests/'+c+'.yaml').mtimeMs))}catch{}}
},100);`;
  await kn.node.startDaemon(name, [process.execPath, '-e', code]);
  const log = kn.node.daemons.get(name)!.log;
  return {
    async stop(): Promise<Window> {
      await kn.node.stopDaemon(name, 2000);
      const rows = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')).map(([t, k, v]) => ({ t: Number(t), k: k!, v: Number(v) }));
      const series = (k: string) => rows.filter((r) => r.k === k).sort((x, y) => x.t - y.t);
      // API: sum and longest run of intervals whose poll failed.
      const api = series('api');
      let apiDownMs = 0, apiLongestMs = 0, run = 0;
      api.forEach((r, i) => {
        const dt = i + 1 < api.length ? api[i + 1]!.t - r.t : 100;
        if (r.v !== 200) { apiDownMs += dt; run += dt; apiLongestMs = Math.max(apiLongestMs, run); } else run = 0;
      });
      // Per component: manifest write (the first poll that sees a new mtime: kubeadm writes its manifests
      // ahead into a temp dir and moves them in one by one, so the mtime itself would be too early) →
      // the first healthy poll after the last failed one (the old process answers until it is stopped).
      const perComponent = {} as Record<Comp, number | null>;
      for (const c of COMPONENTS) {
        const m = series(`mtime:${c}`);
        const write = m.find((r, i) => i > 0 && r.v !== m[0]!.v);
        if (!write) { perComponent[c] = null; continue; }
        const h = series(c).filter((r) => r.t >= write.t);
        const lastFail = h.reduce((last, r, i) => (r.v !== 200 ? i : last), -1);
        const healthy = h.slice(lastFail + 1).find((r) => r.v === 200);
        perComponent[c] = healthy ? healthy.t - write.t : null;
      }
      return { apiDownMs, apiLongestMs, perComponent };
    },
  };
}

export async function benchNode(): Promise<string> {
  const version = process.env.BENCH_NODE_VERSION ?? 'v1.36.3';
  const r = await release(version, undefined, { etcdBinaries: ['etcd'] });
  const kn = await KubeNode.start({ binds: [REPO_ROOT, K8S_CACHE] });
  try {
    await kn.startContainerd(`registry.k8s.io/pause:${r.pauseTag}`);
    await kn.importImages(r);
    kn.install(r);
    await kn.init(version, ['SystemVerification', 'ImagePull']);
    await waitMirrorPodsReady(kn);
    const measure = async (what: string, argv: () => Promise<{ code: number; stdout: string; stderr: string }>) => {
      const poll = await startHealthPoller(kn, `bench-${what}`);
      const t0 = Date.now();
      const res = await argv();
      const ms = Date.now() - t0;
      await waitMirrorPodsReady(kn);
      const w = await poll.stop();
      if (res.code !== 0) throw new Error(`${what} exited ${res.code}:\n${res.stdout}${res.stderr}`);
      return { ms, ...w };
    };
    const apply = await measure('apply', () => tool(kn, ['apply', '--yes', '--timeout', '10m']));
    const rb = await tool(kn, ['rollback', '--yes', '--timeout', '10m']);
    if (rb.code !== 0) throw new Error(`rollback exited ${rb.code}:\n${rb.stdout}${rb.stderr}`);
    await waitMirrorPodsReady(kn);
    const upgrade = await measure('upgrade', () => kn.node.exec(['kubeadm', 'upgrade', 'apply', version, '--yes', `--ignore-preflight-errors=${IGNORE}`], { timeoutMs: 1_800_000 }));
    const s = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
    const ratio = (a: number, b: number) => (b > 0 ? `**${(a / b).toFixed(2)}×**` : '—');
    const lines = [
      `| API unavailable (sum of failed /livez polls) | ${s(apply.apiDownMs)} | ${s(upgrade.apiDownMs)} | ${ratio(apply.apiDownMs, upgrade.apiDownMs)} |`,
      `| longest API outage | ${s(apply.apiLongestMs)} | ${s(upgrade.apiLongestMs)} | ${ratio(apply.apiLongestMs, upgrade.apiLongestMs)} |`,
      `| whole command | ${s(apply.ms)} | ${s(upgrade.ms)} | ${ratio(apply.ms, upgrade.ms)} |`,
      ...COMPONENTS.map((c) => `| ${c}: manifest write → healthy | ${s(apply.perComponent[c])} | ${s(upgrade.perComponent[c])} | ${apply.perComponent[c] !== null && upgrade.perComponent[c] ? ratio(apply.perComponent[c]!, upgrade.perComponent[c]!) : '—'} |`),
    ];
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const md = `${SECTION}

\`npm run bench -- --node\` (scripts/bench-node.ts), ${new Date().toISOString().slice(0, 10)}: a real kubeadm ${version} node
(scripts/kube-node.ts: containerd 1.6 + runc, the real kubelet), polled from inside every 100 ms.
\`kubeadm-nonroot apply\` (health gates on) versus \`kubeadm upgrade apply ${version}\` of the same node
(same version: kubeadm rewrites and restarts all four components as for a patch release). Ratio:
apply ÷ upgrade. Load average at the end: ${load}.

| what | kubeadm-nonroot apply | kubeadm upgrade apply | ratio |
|---|---|---|---|
${lines.join('\n')}
`;
    const text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n';
    const i = text.indexOf(SECTION);
    writeFileSync(RESULTS, `${(i < 0 ? text : text.slice(0, i)).trimEnd()}\n\n${md}`);
    return md;
  } finally {
    await kn.stop();
  }
}
