// scripts/kube-cluster.ts and scripts/api-probe.ts without a cluster: the probe against a local HTTPS
// server that requires kubeadm's client certificate and counts what it served (the oracle: the server's
// own count, not the probe's), kubeadm's discovery hash against openssl's, haproxy's configuration
// against haproxy itself (`haproxy -c`), and the sweep of a fabric left by a killed runner.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { kubeconfigCredentials } from '../../scripts/api-probe.js';
import { caCertHash, countProbe, haproxyConfig, probeLine, sweepLeftFabrics } from '../../scripts/kube-cluster.js';
import { cachedPki, KUBECONFIG_USERS, makeKubeconfig } from '../../scripts/lib/pki.js';
import { skipUnlessPossible } from '../support/prerequisites.js';

const scratch = mkdtempSync(join(tmpdir(), 'kubeadm-nonroot-cluster-unit-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('the availability probe (scripts/api-probe.ts)', () => {
  it('sends a request every interval with the kubeconfig\'s client certificate, and counts every request the server answered, failures included', async () => {
    const pki = await cachedPki();
    const kubeconfig = join(scratch, 'admin.conf');
    writeFileSync(kubeconfig, await makeKubeconfig(pki, KUBECONFIG_USERS['admin.conf']!));
    // The server's own record: which status it answered to each request, and who the client was.
    const served: number[] = [];
    const clients = new Set<string>();
    const server = createServer({
      key: readFileSync(join(pki, 'apiserver.key')), cert: readFileSync(join(pki, 'apiserver.crt')),
      ca: readFileSync(join(pki, 'ca.crt')), requestCert: true, rejectUnauthorized: true,
    }, (req, res) => {
      clients.add(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
      // Requests 6 to 8 fail as a kube-apiserver going away would answer.
      const status = served.length >= 5 && served.length < 8 ? 503 : 200;
      served.push(status);
      res.writeHead(status).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/namespaces/default`;
      const client = spawn(process.execPath, [fileURLToPath(new URL('../../scripts/api-probe.js', import.meta.url)), kubeconfig, url, '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      client.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      client.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const exited = new Promise<number | null>((r) => client.on('close', (code) => r(code)));
      const t0 = Date.now();
      while (served.length < 15) {
        assert.ok(Date.now() - t0 < 20_000, `the probe sent ${served.length} requests in 20 s: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      client.kill('SIGTERM');
      assert.equal(await exited, 0, err);
      const count = countProbe(out);
      assert.deepEqual([count.requests, count.failed], [served.length, served.filter((s) => s !== 200).length]);
      assert.deepEqual(count.errors, ['HTTP 503']);
      assert.deepEqual([...clients], ['kubernetes-admin']);
      assert.equal(probeLine(count), `API through the load balancer: ${served.length} requests, 3 failed`);
    } finally {
      server.close();
    }
  });

  it('counts a request the server never answered as failed, with the reason', () => {
    const log = [
      '{"t":1000,"ms":12,"status":200}',
      '{"t":1100,"ms":3,"status":0,"error":"connect ECONNREFUSED 10.77.0.10:6443"}',
      '{"t":1200,"ms":5000,"status":0,"error":"no answer within 5000 ms"}',
      '{"t":1300,"ms":9,"status":200}',
      '',
    ].join('\n');
    // Failing from t=1100 until the second one's answer: 1200 + 5000 - 1100.
    assert.deepEqual(countProbe(log), { requests: 4, failed: 2, longestFailingMs: 5100, errors: ['connect ECONNREFUSED 10.77.0.10:6443', 'no answer within 5000 ms'] });
  });

  it("refuses a kubeconfig whose current context lacks embedded credentials, naming the file", () => {
    const text = 'apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: "https://x"}\nusers:\n- name: u\n  user: {token: t}\n';
    assert.throws(() => kubeconfigCredentials(text, '/x/admin.conf'), /^Error: \/x\/admin\.conf: its current context needs certificate-authority-data/);
  });
});

describe('scripts/kube-cluster.ts', () => {
  it("computes kubeadm's discovery hash as openssl does (sha256 of the CA's DER SubjectPublicKeyInfo)", async () => {
    const ca = join(await cachedPki(), 'ca.crt');
    // kubeadm's documented command for --discovery-token-ca-cert-hash (kubeadm join reference).
    const expected = execFileSync('sh', ['-c', `openssl x509 -pubkey -in ${ca} | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex | sed 's/^.* //'`], { encoding: 'utf8' }).trim();
    assert.equal(caCertHash(readFileSync(ca, 'utf8')), `sha256:${expected}`);
  });

  it('writes a haproxy configuration haproxy accepts, with every kube-apiserver checked on /readyz over TLS', (t) => {
    let haproxy = '';
    try { haproxy = execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim(); } catch { /* missing */ }
    if (skipUnlessPossible(t, haproxy ? [] : ['haproxy is not installed (Debian package haproxy)'])) return;
    const cfg = join(scratch, 'haproxy.cfg');
    const servers = [{ name: 'kn-cp1', address: '10.77.0.11' }, { name: 'kn-cp2', address: '10.77.0.12' }];
    writeFileSync(cfg, haproxyConfig(servers, join(scratch, 'haproxy.sock')));
    const check = execFileSync(haproxy, ['-c', '-f', cfg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(check, /Configuration file is valid/);
    const text = readFileSync(cfg, 'utf8');
    assert.match(text, /option httpchk GET \/readyz/);
    assert.match(text, /default-server .*check check-ssl verify none/);
    assert.deepEqual(text.match(/^ +server .*$/gm), ['    server kn-cp1 10.77.0.11:6443', '    server kn-cp2 10.77.0.12:6443']);
  });

  it('sweeps the scratch dir of a fabric whose holder is gone, and leaves one still starting', () => {
    const gone = mkdtempSync('/var/tmp/kubeadm-nonroot-fabric-');
    const starting = mkdtempSync('/var/tmp/kubeadm-nonroot-fabric-');
    try {
      // A pid that has exited: nothing of it is in /proc any more.
      writeFileSync(join(gone, 'holder.pid'), execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
      sweepLeftFabrics(() => undefined);
      assert.deepEqual([existsSync(gone), existsSync(starting)], [false, true]);
    } finally {
      for (const d of [gone, starting]) rmSync(d, { recursive: true, force: true });
    }
  });
});
