// The availability probe's client (started by scripts/kube-cluster.ts inside the fabric's network
// namespace): every INTERVAL ms one API request through the load balancer, each on a new connection
// (no keep-alive: the load balancer chooses a kube-apiserver per connection, as for any new client),
// authenticated with the admin kubeconfig's client certificate and checked against its CA. One JSON
// line per finished request on stdout: {"t": start ms, "ms": duration, "status": HTTP status or 0,
// "error": why it failed}. On SIGTERM it sends no more requests and exits once those in flight have
// finished (or timed out), so every request sent is counted.
//
//   node dist/scripts/api-probe.js KUBECONFIG URL [INTERVAL_MS] [TIMEOUT_MS]
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { parseYaml } from '../src/yaml/go-yaml.js';

interface ProbeCredentials { ca: Buffer; cert: Buffer; key: Buffer }

/** The cluster CA and the client certificate and key of a kubeconfig's current context (kubeadm's admin.conf embeds all three). */
export function kubeconfigCredentials(text: string, file: string): ProbeCredentials {
  const cfg = parseYaml(text).toJS() as {
    'current-context'?: string;
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    clusters?: { name: string; cluster: { 'certificate-authority-data'?: string } }[];
    users?: { name: string; user: { 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
  };
  const context = cfg.contexts?.find((c) => c.name === cfg['current-context'])?.context;
  const cluster = cfg.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = cfg.users?.find((u) => u.name === context?.user)?.user;
  const ca = cluster?.['certificate-authority-data'];
  const cert = user?.['client-certificate-data'];
  const key = user?.['client-key-data'];
  if (!ca || !cert || !key) throw new Error(`${file}: its current context needs certificate-authority-data, client-certificate-data and client-key-data (kubeadm's admin.conf has them)`);
  const decode = (b64: string) => Buffer.from(b64, 'base64');
  return { ca: decode(ca), cert: decode(cert), key: decode(key) };
}

function probe(url: string, creds: ProbeCredentials, intervalMs: number, timeoutMs: number): void {
  let inFlight = 0;
  let stopping = false;
  const send = () => {
    const t = Date.now();
    inFlight++;
    let reported = false;
    const report = (status: number, error?: string) => {
      if (reported) return;
      reported = true;
      inFlight--;
      process.stdout.write(`${JSON.stringify({ t, ms: Date.now() - t, status, ...(error ? { error } : {}) })}\n`);
      if (stopping && inFlight === 0) process.exit(0);
    };
    const req = request(url, { ...creds, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => report(res.statusCode ?? 0, res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
      res.on('error', (e) => report(0, e.message));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => report(0, e.message));
    req.end();
  };
  const timer = setInterval(send, intervalMs);
  process.on('SIGTERM', () => {
    stopping = true;
    clearInterval(timer);
    if (inFlight === 0) process.exit(0);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [kubeconfig, url, interval = '100', timeout = '5000'] = process.argv.slice(2);
  if (!kubeconfig || !url) {
    process.stderr.write('usage: api-probe.js KUBECONFIG URL [INTERVAL_MS] [TIMEOUT_MS]\n');
    process.exit(2);
  }
  probe(url, kubeconfigCredentials(readFileSync(kubeconfig, 'utf8'), kubeconfig), Number(interval), Number(timeout));
}
