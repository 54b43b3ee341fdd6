// npm run test:node — a highly available kubeadm control plane on this machine (scripts/kube-cluster.ts):
// three real nodes with stacked etcd on a bridge in their own network namespace, Debian's haproxy in
// front of the three kube-apiservers, kubeadm init --upload-certs on node 1 and kubeadm join
// --control-plane on nodes 2 and 3. Everything checked through the real components: etcdctl's health of
// every member, each kube-apiserver's /readyz, haproxy's view of its servers, and the availability probe
// (scripts/api-probe.ts: an API request through the load balancer every 100 ms) while one node's
// kube-apiserver is taken away and brought back as an operator would (its static-pod manifest moved out
// of /etc/kubernetes/manifests and back), then while docs/fleet.md's Job rollout migrates the three
// nodes one at a time; then, on the migrated cluster, the rollout's Jobs beyond the happy path (one
// node rolled back with a Job, the script killed during that node's re-apply and rerun, a plan Job
// that fails); then a fourth node joined and migrated with the fleet config, and kubeadm upgrade of the
// four nodes with kubeadm-nonroot's patches, one at a time (its own section at the end).
// Measured: the bring-up time, the memory (sum of RSS) and CPU of the whole cluster, the probe's counts;
// written to /tmp/kubeadm-nonroot-cluster-observations.txt.
// Prerequisites (root, unshare, nsenter, ip, containerd, ctr, runc, haproxy, socat, etcdctl, kubectl,
// envsubst, ldd): the one
// skip path names what is missing, and with KUBEADM_NONROOT_REQUIRE_E2E=1 (CI) the skip is a failure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildSea, hostArch } from '../../scripts/build-sea.js';
import { K8S_CACHE } from '../../scripts/k8s-build.js';
import { accountsOf, haproxyServerStatus, JOINED_NODE, KubeCluster, NODE_ADDRESSES, probeLine, type ProbeCount, type RolloutJob } from '../../scripts/kube-cluster.js';
import { release, type KubeNode } from '../../scripts/kube-node.js';
import { REPO_ROOT } from '../../scripts/lib/paths.js';
import { skipOrFail } from '../support/prerequisites.js';
import { VERSION as TOOL_VERSION } from '../../src/version.js';
import { COMPONENTS, kubectl, waitMirrorPodsReady, type Comp } from '../../scripts/lib/control-plane.js';
import { fleetDocCommands, loadBalancerHooks, procOf, rolloutScript, toolImage } from './support.js';

const VERSION = process.env.KUBEADM_NONROOT_NODE_FROM ?? 'v1.36.3';
/** The upgrade's target (test/node/flow.test.ts's default). */
const UPGRADE_TO = process.env.KUBEADM_NONROOT_NODE_TO ?? 'v1.37.2';
/** As the single node (test/node/flow.test.ts): cgroup v1 here, and no registry for kube-proxy's and CoreDNS's images. */
const IGNORE_PREFLIGHT = ['SystemVerification', 'ImagePull'];
const GIB = 1024 * 1024;
/** A name no registry serves: imagePullPolicy IfNotPresent finds it in each node's containerd. */
const IMAGE = `registry.invalid/kubeadm-nonroot:${TOOL_VERSION}`;
/** The rollout script's environment on node 1: its kubectl uses admin.conf, whose server is the load balancer. */
const ROLLOUT_ENV = { IMAGE, TEMPLATE: join(REPO_ROOT, 'templates', 'rollout', 'job.yaml'), KUBECONFIG: '/etc/kubernetes/admin.conf', POLL: '2' };
/** The account names of kubeadm's RootlessControlPlane gate (cmd/kubeadm/app/util/users/users_linux.go), which the tool keeps. */
const ACCOUNT: Record<Comp, string> = { etcd: 'kubeadm-etcd', 'kube-apiserver': 'kubeadm-kas', 'kube-controller-manager': 'kubeadm-kcm', 'kube-scheduler': 'kubeadm-ks' };

const observed: string[] = [];
const observe = (line: string) => { observed.push(line); process.stderr.write(`[observed] ${line}\n`); };

function missingPrerequisites(): string | false {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('not root (the nodes need namespaces, mounts and cgroups)');
  for (const cmd of ['unshare', 'nsenter', 'ip', 'containerd', 'ctr', 'runc', 'haproxy', 'socat', 'etcdctl', 'kubectl', 'envsubst', 'ldd']) {
    try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); } catch { missing.push(`${cmd} is not installed`); }
  }
  return missing.length ? missing.join('; ') : false;
}
const SKIP = skipOrFail(missingPrerequisites());

/** Polls `check` (a description of what is still missing, or '' when done) every second. */
async function waitUntil(what: string, timeoutMs: number, check: () => Promise<string>): Promise<number> {
  const t0 = Date.now();
  let missing = '';
  while ((missing = await check().catch((e: Error) => e.message)) !== '') {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not after ${timeoutMs / 1000} s: ${missing}`);
    await sleep(1000);
  }
  return Date.now() - t0;
}

let cluster: KubeCluster;
/** What docs/fleet.md's rollout script printed in the rollout step. */
let rollout: { code: number; stdout: string; stderr: string } | undefined;
const timings: Record<string, number> = {};

const NODES = ['kn-cp1', 'kn-cp2', 'kn-cp3'];

/** A rollout Job as `<step> <node>`. */
const stepOn = (j: RolloutJob) => `${j.step} ${j.node}`;

const jobLog = (name: string) => kubectl(cluster.nodes[0]!, ['-n', 'kube-system', 'logs', `job/${name}`]);

/** How many lines of haproxy's log say the node's server went into maintenance (docs/fleet.md's BEFORE_NODE hook; haproxy -db logs each event twice, as a log line and as a warning). */
function maintenances(node: string): number {
  const log = readFileSync(cluster.fabric.daemons.get('haproxy')!.log, 'utf8');
  return log.split('\n').filter((l) => l.includes(`Server kube-apiservers/${node} is going DOWN for maintenance`)).length;
}

/** Every node's control-plane manifests and component PIDs: equal before and after means nothing was rewritten or restarted. */
function controlPlanes(): { node: string; manifests: string[]; pids: (number | undefined)[] }[] {
  return cluster.nodes.map((kn) => ({
    node: kn.node.hostname,
    manifests: COMPONENTS.map((c) => readFileSync(kn.node.path(`/etc/kubernetes/manifests/${c}.yaml`), 'utf8')),
    pids: COMPONENTS.map((c) => procOf(kn, c)[0]?.pid),
  }));
}

/** Prints a phase's availability line (test output and stdout) and records it with the counts. */
function reportProbe(t: { diagnostic(message: string): void }, phase: string, count: ProbeCount): void {
  const line = probeLine(count);
  t.diagnostic(line);
  process.stdout.write(`${line}\n`);
  observe(`${phase}: ${line} ${JSON.stringify(count)}`);
}

/** Samples how many etcd members answer healthy (etcdctl endpoint health --cluster) until stopped. */
function sampleEtcdHealth(): { stop(): Promise<number[]> } {
  const healthy: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try { healthy.push((await cluster.etcdHealth()).filter((e) => e.health).length); } catch { /* etcdctl gave no answer: not counted */ }
      await sleep(1000);
    }
  })();
  return { stop: async () => { running = false; await loop; return healthy; } };
}

describe(`three control-plane nodes ${VERSION} behind haproxy`, { skip: SKIP, timeout: 60 * 60_000 }, () => {
  before(async () => {
    // The etcd binary only: all the etcd image needs (as .ci/run builds it).
    const r = await release(VERSION, undefined, { etcdBinaries: ['etcd'] });
    const t0 = Date.now();
    cluster = await KubeCluster.start(r, { binds: [REPO_ROOT, K8S_CACHE] });
    timings.nodesWithImages = Date.now() - t0;
  });
  after(async () => {
    observe(`timings (ms): ${JSON.stringify(timings)}`);
    writeFileSync('/tmp/kubeadm-nonroot-cluster-observations.txt', `${observed.join('\n')}\n`);
    if (cluster) await cluster.stop({ keep: process.env.KUBEADM_NONROOT_NODE_KEEP === '1' });
  });

  test('kubeadm init on node 1 with the load balancer as controlPlaneEndpoint, kubeadm join --control-plane on nodes 2 and 3', async () => {
    let t0 = Date.now();
    const [init, ...joins] = await cluster.bringUp(VERSION, IGNORE_PREFLIGHT);
    timings.kubeadm = Date.now() - t0;
    assert.match(init!, /Your Kubernetes control-plane has initialized successfully/);
    for (const out of joins) assert.match(out, /This node has joined the cluster and a new control plane instance was created/);
    t0 = Date.now();
    await cluster.waitHealthy();
    timings.healthy = Date.now() - t0;
    timings.bringUp = timings.nodesWithImages! + timings.kubeadm + timings.healthy;
    observe(`bring-up: ${Math.round(timings.bringUp / 1000)} s (nodes, containerd and images ${Math.round(timings.nodesWithImages! / 1000)} s, kubeadm init + 2 joins ${Math.round(timings.kubeadm / 1000)} s, until all healthy ${Math.round(timings.healthy / 1000)} s)`);
  });

  test('etcd has three healthy members, every kube-apiserver is ready, haproxy has all three UP', async () => {
    const etcd = await cluster.etcdHealth();
    observe(`etcdctl endpoint health --cluster: ${JSON.stringify(etcd)}`);
    assert.deepEqual(etcd.map((e) => [new URL(e.endpoint).hostname, e.health]).sort(), NODE_ADDRESSES.map((a) => [a, true]));
    assert.deepEqual([...(await cluster.apiserversReady()).values()], ['ok', 'ok', 'ok']);
    assert.deepEqual([...(await haproxyServerStatus(cluster.statsSocket))], [['kn-cp1', 'UP'], ['kn-cp2', 'UP'], ['kn-cp3', 'UP']]);
    for (const kn of cluster.nodes) await waitMirrorPodsReady(kn);
  });

  test('the API answers through haproxy: the three control-plane nodes, every probe request', async () => {
    // admin.conf's server is the controlPlaneEndpoint: kubectl goes through the load balancer.
    const nodes = JSON.parse(await kubectl(cluster.nodes[0]!, ['get', 'nodes', '-o', 'json'])).items as any[];
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ['kn-cp1', 'kn-cp2', 'kn-cp3']);
    for (const n of nodes) assert.ok('node-role.kubernetes.io/control-plane' in n.metadata.labels, `${n.metadata.name} is a control-plane node`);
    const probe = await cluster.startProbe('probe-steady');
    await sleep(10_000);
    const count = await probe.stop();
    observe(`steady, 10 s: ${probeLine(count)} ${JSON.stringify(count)}`);
    assert.ok(count.requests >= 50, `the probe sent ${count.requests} requests in 10 s`);
    assert.equal(count.failed, 0, JSON.stringify(count));
  });

  test('the cluster fits the machine: memory (sum of RSS) and CPU at rest', async () => {
    const a = cluster.usage();
    await sleep(30_000);
    const b = cluster.usage();
    const cores = (b.cpuTicks - a.cpuTicks) / 100 / 30;
    observe(`at rest: ${b.processes} processes, RSS sum ${(b.rssKiB / GIB).toFixed(2)} GiB, CPU ${cores.toFixed(2)} cores (over 30 s)`);
    assert.ok(b.rssKiB < 24 * GIB, `RSS sum ${b.rssKiB} KiB within 24 GiB`);
  });

  test("one node's kube-apiserver restarted (manifest moved out and back) while the probe runs", async (t) => {
    const kn = cluster.nodes[2]!;
    const manifest = kn.node.path('/etc/kubernetes/manifests/kube-apiserver.yaml');
    // Out of the kubelet's static-pod dir but on the same mount: the node's /etc/kubernetes is a mount of
    // its own (scripts/real-node.ts, idmappable hostPaths), and rename(2) does not cross mounts (EXDEV).
    const away = kn.node.path('/etc/kubernetes/kube-apiserver.yaml.away');
    const old = procOf(kn, 'kube-apiserver').map((p) => p.pid);
    assert.equal(old.length, 1, 'one kube-apiserver on node 3');
    const probe = await cluster.startProbe('probe-restart');
    await sleep(3000);
    const t0 = Date.now();
    renameSync(manifest, away);
    // When haproxy takes the server out and when the process is gone, apart: what a rollout must wait for.
    const marks: Record<string, number> = {};
    const down = await waitUntil('node 3 kube-apiserver gone and out of haproxy', 180_000, async () => {
      const state = (await haproxyServerStatus(cluster.statsSocket)).get('kn-cp3') ?? '';
      if (state.startsWith('DOWN')) marks.haproxyDown ??= Date.now() - t0;
      if (procOf(kn, 'kube-apiserver').length === 0) marks.processGone ??= Date.now() - t0;
      return marks.haproxyDown !== undefined && marks.processGone !== undefined ? '' : `process ${procOf(kn, 'kube-apiserver').map((p) => p.pid).join(',') || 'gone'}, haproxy ${state}`;
    });
    await sleep(2000);
    renameSync(away, manifest);
    const up = await waitUntil('node 3 kube-apiserver back in haproxy', 300_000, async () => {
      const state = (await haproxyServerStatus(cluster.statsSocket)).get('kn-cp3') ?? '';
      return procOf(kn, 'kube-apiserver').length === 1 && state === 'UP' ? '' : `process ${procOf(kn, 'kube-apiserver').map((p) => p.pid).join(',') || 'none'}, haproxy ${state}`;
    });
    await sleep(3000);
    const count = await probe.stop();
    const line = probeLine(count);
    t.diagnostic(line);
    process.stdout.write(`${line}\n`);
    observe(`kube-apiserver of kn-cp3 restarted (manifest moved out: DOWN in haproxy after ${marks.haproxyDown} ms, process gone after ${marks.processGone} ms, both by ${Math.round(down / 1000)} s; back and UP ${Math.round(up / 1000)} s after the manifest returned; ${Math.round((Date.now() - t0) / 1000)} s in all): ${line} ${JSON.stringify(count)}`);
    assert.ok(count.requests >= (Date.now() - t0) / 100 / 2, `the probe sent ${count.requests} requests`);
    assert.notDeepEqual(procOf(kn, 'kube-apiserver').map((p) => p.pid), old, 'a new kube-apiserver process');
    // haproxy's /readyz checks take the server out while it goes, and its retries redispatch a refused
    // connection: a client of the load balancer sees no failure (measured: docs/testing.md).
    assert.equal(count.failed, 0, JSON.stringify(count));
    const etcd = await cluster.etcdHealth();
    assert.ok(etcd.length === 3 && etcd.every((e) => e.health), `etcd still has three healthy members: ${JSON.stringify(etcd)}`);
  });

  test("docs/fleet.md's Job rollout, one node at a time out of the load balancer, while the probe runs: no request fails", async (t) => {
    const [exe] = await buildSea([hostArch()]);
    await Promise.all(cluster.nodes.map((kn) => kn.importImage(toolImage(IMAGE, exe!))));
    const first = cluster.nodes[0]!;
    writeFileSync(first.node.path('/root/rollout.sh'), rolloutScript());
    // The doc's haproxy hooks as printed, for this haproxy's stats socket (bound into the node at its path).
    writeFileSync(first.node.path('/root/rollout-behind-lb.sh'), `${loadBalancerHooks(cluster.statsSocket)}exec sh /root/rollout.sh\n`);
    const probe = await cluster.startProbe('probe-rollout');
    const t0 = Date.now();
    // The script's kubectl uses admin.conf: its server is the load balancer, as an operator's would be.
    const run = rollout = await first.node.exec(['sh', '/root/rollout-behind-lb.sh'], { env: ROLLOUT_ENV, timeoutMs: 2_400_000 });
    const seconds = Math.round((Date.now() - t0) / 1000);
    const count = await probe.stop();
    const line = probeLine(count);
    t.diagnostic(line);
    process.stdout.write(`${line}\n`);
    observe(`docs/fleet.md's rollout of three nodes, each out of haproxy meanwhile: exit ${run.code} after ${seconds} s; ${line} ${JSON.stringify(count)}`);
    observe(`rollout.sh output:\n${run.stdout}${run.stderr}`);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /all control-plane nodes migrated and verified: kn-cp1 kn-cp2 kn-cp3/);
    // The hooks took each node out of haproxy and put it back (haproxy's own log).
    const lbLog = readFileSync(cluster.fabric.daemons.get('haproxy')!.log, 'utf8');
    for (const name of ['kn-cp1', 'kn-cp2', 'kn-cp3']) {
      assert.match(lbLog, new RegExp(`Server kube-apiservers/${name} is going DOWN for maintenance`), `${name} taken out of haproxy`);
    }
    // The oracle is each node's /proc: every component runs as a non-root account.
    for (const kn of cluster.nodes) {
      for (const c of COMPONENTS) assert.ok((procOf(kn, c)[0]?.uids[0] ?? 0) > 0, `${c} on ${kn.node.hostname} runs as non-root`);
    }
    await cluster.waitHealthy(300_000);
    assert.equal(count.failed, 0, JSON.stringify(count));
  });

  // ---- The rollout's Jobs beyond the happy path, on the migrated cluster ------------------------------
  // What the single-node Job test proved, now in the middle of a fleet, each step with the probe running:
  // the Jobs' logs and pods, ONE node rolled back with a Job as docs/fleet.md prints it, the rollout
  // script killed during that node's apply and rerun, a plan Job that fails. Node 2 ends migrated again,
  // as the rollout left it.

  test("the rollout's Jobs: one pod each, exit 0; their logs carry each node's plan and verify result, which the script printed", async () => {
    assert.ok(rollout, 'the rollout step ran');
    const jobs = await cluster.rolloutJobs();
    assert.deepEqual(jobs.map(stepOn), [...NODES.map((n) => `plan ${n}`), ...NODES.flatMap((n) => [`apply ${n}`, `verify ${n}`])]);
    for (const j of jobs) {
      assert.match(j.conditions.Complete ?? '', /^True/, `${stepOn(j)} completed`);
      // backoffLimit 0 and no eviction: exactly one pod per Job, never restarted, exit 0.
      assert.deepEqual([j.pods.length, j.pods[0]?.phase, j.pods[0]?.restarts, j.pods[0]?.exitCode], [1, 'Succeeded', 0, 0], `${stepOn(j)}: one pod`);
      const log = await jobLog(j.name);
      if (j.step === 'plan') {
        for (const c of COMPONENTS) assert.match(log, new RegExp(`^\\s*${c}\\s+runs as ${ACCOUNT[c]} \\(uid \\d+`, 'm'), `${stepOn(j)} names ${ACCOUNT[c]}:\n${log}`);
        // The operator sees each node's identities in the script's output.
        for (const line of log.split('\n').filter((l) => / runs as /.test(l))) assert.ok(rollout.stdout.includes(line), `the script printed ${stepOn(j)}'s "${line.trim()}"`);
      }
      if (j.step === 'verify') {
        assert.match(log, /✔ the node holds the desired state/);
        assert.ok(rollout.stdout.includes(log.trim()), `the script printed ${stepOn(j)}'s result`);
      }
    }
  });

  test("the apply Jobs' pods as the API stored them: tolerated on a not-ready or unreachable node for good", async () => {
    for (const apply of (await cluster.rolloutJobs()).filter((j) => j.step === 'apply')) {
      const pod = JSON.parse(await kubectl(cluster.nodes[0]!, ['-n', 'kube-system', 'get', 'pod', apply.pods[0]!.name, '-o', 'json']));
      const tolerations = (pod.spec.tolerations as any[]).filter((t) => t.effect === 'NoExecute');
      observe(`the NoExecute tolerations of ${stepOn(apply)}'s pod after admission: ${JSON.stringify(tolerations)}`);
      // DefaultTolerationSeconds adds its 300 s tolerations only for taints the pod does not tolerate yet.
      for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
        assert.deepEqual(tolerations.filter((t) => t.key === key), [{ key, operator: 'Exists', effect: 'NoExecute' }], `${stepOn(apply)}: ${key}`);
      }
    }
  });

  test('node 2 rolled back with a Job as docs/fleet.md prints it: root there, non-root on 1 and 3, etcd keeps quorum, the API answers throughout', async (t) => {
    const [first, second, third] = cluster.nodes as [KubeNode, KubeNode, KubeNode];
    // The doc's block for one node, its commands one at a time as printed (for this node, image and
    // checkout), each in a shell with the doc's load-balancer hooks exported.
    const local = (cmd: string) => cmd.replaceAll('cp-2.example.internal', 'kn-cp2').replace('registry.example/kubeadm-nonroot:0.1.0', IMAGE).replace('templates/rollout/job.yaml', ROLLOUT_ENV.TEMPLATE);
    const commands = fleetDocCommands(/A \*\*rollback Job\*\*[\s\S]*?```sh\n([\s\S]*?)```/).map(local);
    const hooks = loadBalancerHooks(cluster.statsSocket);
    const maintenanceBefore = maintenances('kn-cp2');
    const probe = await cluster.startProbe('probe-rollback');
    const quorum = sampleEtcdHealth();
    const t0 = Date.now();
    let job = '';
    for (const cmd of commands) {
      assert.ok(job || !cmd.includes('<the name printed>'), `"${cmd}" needs the Job's name, printed by a command before it`);
      const r = await first.node.exec(['sh', '-c', `${hooks}${cmd.replace('job/<the name printed>', job)}`], { env: { KUBECONFIG: '/etc/kubernetes/admin.conf' }, timeoutMs: 2_800_000 });
      observe(`$ ${cmd}\n${r.stdout}${r.stderr}(exit ${r.code})`);
      assert.equal(r.code, 0, `${cmd}:\n${r.stdout}${r.stderr}`);
      if (/kubectl create /.test(cmd)) job = r.stdout.trim();
    }
    const seconds = Math.round((Date.now() - t0) / 1000);
    const healthy = await quorum.stop();
    const count = await probe.stop();
    reportProbe(t, `node 2's rollback Job, out of haproxy meanwhile (${seconds} s; healthy etcd members sampled: ${JSON.stringify(healthy)})`, count);
    assert.match(job, /^job\.batch\/kubeadm-nonroot-\w+$/);
    observe(`rollback Job log:\n${await kubectl(first, ['-n', 'kube-system', 'logs', job])}`);
    // The oracle is each node's /proc and node 2's /etc/passwd.
    await waitMirrorPodsReady(second, 300_000);
    for (const c of COMPONENTS) assert.equal(procOf(second, c)[0]?.uids[0], 0, `${c} on kn-cp2 runs as root after the rollback`);
    for (const kn of [first, third]) for (const c of COMPONENTS) assert.ok((procOf(kn, c)[0]?.uids[0] ?? 0) > 0, `${c} on ${kn.node.hostname} still runs as non-root`);
    const passwd = readFileSync(second.node.path('/etc/passwd'), 'utf8');
    for (const c of COMPONENTS) assert.ok(!passwd.includes(`\n${ACCOUNT[c]}:`), `${ACCOUNT[c]} removed from kn-cp2 by the rollback`);
    assert.ok(maintenances('kn-cp2') > maintenanceBefore, 'node 2 taken out of haproxy by the doc\'s hook for its rollback');
    // Quorum held: a read through the load balancer is a quorum read of etcd (kube-apiserver's default),
    // and none failed; the sampled health never fell below 2 of 3; all 3 members healthy afterwards, and
    // node 2 back in haproxy.
    assert.ok(healthy.length > 0 && Math.min(...healthy) >= 2, `healthy etcd members sampled during the rollback: ${JSON.stringify(healthy)}`);
    await cluster.waitHealthy(300_000);
    assert.equal(count.failed, 0, JSON.stringify(count));
  });

  test("the rollout script rerun, killed during node 2's apply: the Job completes alone, the recovery commands as printed, the rerun finishes the rollout", async (t) => {
    const [first, second] = cluster.nodes as [KubeNode, KubeNode, KubeNode];
    await cluster.deleteRolloutJobs();
    const probe = await cluster.startProbe('probe-rerollout');
    const t0 = Date.now();
    // Its own session: the script, its `kubectl wait` and its polls are one process group, killed as a
    // closed terminal's would be.
    const pid = await first.node.startDaemon('rollout-stopped', ['env', ...Object.entries(ROLLOUT_ENV).map(([k, v]) => `${k}=${v}`), 'setsid', 'sh', '/root/rollout-behind-lb.sh']);
    const scriptLog = first.node.daemons.get('rollout-stopped')!.log;
    const applyingOnNode2 = (jobs: RolloutJob[]) => jobs.some((j) => stepOn(j) === 'apply kn-cp2' && j.pods.some((p) => p.phase === 'Running'));
    const deadline = Date.now() + 900_000;
    while (!applyingOnNode2(await cluster.rolloutJobs().catch(() => []))) {
      assert.ok(Date.now() < deadline, `node 2's apply Job's pod did not start:\n${readFileSync(scriptLog, 'utf8')}`);
      await sleep(1000);
    }
    process.kill(-pid, 'SIGTERM');
    await first.node.stopDaemon('rollout-stopped');
    assert.equal((await first.node.exec(['pgrep', '-f', 'rollout.sh|kubectl.*wait'])).stdout, '', 'nothing of the script is left');
    observe(`rollout.sh killed during node 2's apply; its output:\n${readFileSync(scriptLog, 'utf8')}`);
    const jobs = await cluster.waitRolloutJobsFinished();
    for (const j of jobs) observe(`after the kill: job ${j.name} (${stepOn(j)}): ${JSON.stringify({ conditions: j.conditions, pods: j.pods })}`);
    assert.deepEqual(jobs.map(stepOn), [...NODES.map((n) => `plan ${n}`), 'apply kn-cp1', 'verify kn-cp1', 'apply kn-cp2'], 'no verify Job on node 2: the script was gone');
    const applied = jobs.at(-1)!;
    assert.match(applied.conditions.Complete ?? '', /^True/, 'the apply Job completed without the script');
    assert.match(await jobLog(applied.name), /Applied \(backup /);
    for (const c of COMPONENTS) assert.ok((procOf(second, c)[0]?.uids[0] ?? 0) > 0, `${c} on kn-cp2 migrated by the Job alone`);
    // Stopped between its hooks: node 2 is still out of haproxy.
    assert.match((await haproxyServerStatus(cluster.statsSocket)).get('kn-cp2') ?? '', /^MAINT/);
    // Recovery step 1 of docs/fleet.md, its commands as printed there, for the apply Job.
    const [list, exitCode, waitJob] = fleetDocCommands(/1\. \*\*Find the Job it stopped at[\s\S]*?```sh\n([\s\S]*?)```/);
    const docRun = async (cmd: string) => {
      const r = await first.node.exec(['sh', '-c', cmd.replaceAll('<job>', applied.name)], { env: { KUBECONFIG: '/etc/kubernetes/admin.conf' }, timeoutMs: 120_000 });
      observe(`$ ${cmd}\n${r.stdout}${r.stderr}(exit ${r.code})`);
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      return r.stdout;
    };
    const rows = (await docRun(list!)).trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    assert.deepEqual(rows[0], ['JOB', 'NODE', 'ARGS', 'SUCCEEDED', 'FAILED']);
    assert.deepEqual(rows.slice(1).map((r) => [r[0], r[1], r[3], r[4]]), jobs.map((j) => [j.name, j.node, '1', '<none>']));
    assert.match(rows.at(-1)![2]!, /^\[apply --yes --proc \/host\/proc\]$/);
    assert.equal((await docRun(exitCode!)).trim(), '0');
    assert.match(await docRun(waitJob!), /condition met/);
    // Recovery step 3: the same script again, unchanged.
    const before = controlPlanes();
    const again = await first.node.exec(['sh', '/root/rollout-behind-lb.sh'], { env: ROLLOUT_ENV, timeoutMs: 1_800_000 });
    const seconds = Math.round((Date.now() - t0) / 1000);
    observe(`rollout.sh rerun: exit ${again.code}\n--- stdout\n${again.stdout}--- stderr\n${again.stderr}---`);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    for (const n of NODES) {
      assert.match(again.stdout, new RegExp(`== ${n}: apply \\(job\\.batch/[\\w-]+\\)\\nNothing to do: the node already runs its control plane as planned\\.`), `${n}: apply has nothing to do`);
      assert.match(again.stdout, new RegExp(`== ${n}: verify \\(job\\.batch/[\\w-]+\\)\\n✔ the node holds the desired state`), `${n} verified`);
    }
    assert.deepEqual(controlPlanes(), before, 'the rerun changed no manifest and restarted no component');
    // The rerun's AFTER_NODE hook put node 2 back into haproxy.
    await cluster.waitHealthy(300_000);
    const count = await probe.stop();
    reportProbe(t, `the rollout killed during node 2's apply, the recovery and the rerun (${seconds} s)`, count);
    assert.equal(count.failed, 0, JSON.stringify(count));
  });

  test('a plan Job that fails (a fleet config ConfigMap with a typo) stops the script before any apply Job', async (t) => {
    const first = cluster.nodes[0]!;
    await cluster.deleteRolloutJobs();
    const before = controlPlanes();
    const maintenanceBefore = NODES.map(maintenances);
    writeFileSync(first.node.path('/root/fleet-config.yaml'), 'apiVersion: kubeadm-nonroot/v1alpha1\nkind: NonRootConfiguration\nacounts: {}\n');
    // As docs/fleet.md creates it.
    await kubectl(first, ['-n', 'kube-system', 'create', 'configmap', 'kubeadm-nonroot-config', '--from-file=config.yaml=/root/fleet-config.yaml']);
    const probe = await cluster.startProbe('probe-typo');
    try {
      const r = await first.node.exec(['sh', '/root/rollout-behind-lb.sh'], { env: ROLLOUT_ENV, timeoutMs: 900_000 });
      observe(`rollout.sh with a fleet config holding a typo: exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}---`);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /^using the fleet config in configmap kube-system\/kubeadm-nonroot-config\n== kn-cp1: plan /);
      assert.match(r.stderr, /^!! kn-cp1: plan failed \(output above\); kubectl -n kube-system describe job\.batch\/kubeadm-nonroot-\w+$/m);
      const jobs = await cluster.rolloutJobs();
      assert.deepEqual(jobs.map(stepOn), ['plan kn-cp1'], 'no other Job: the first plan stopped the script');
      assert.deepEqual(jobs[0]!.args.slice(0, 2), ['--config', '/etc/kubeadm-nonroot/config.yaml']);
      assert.match(jobs[0]!.conditions.Failed ?? '', /^True/);
      assert.deepEqual([jobs[0]!.pods.length, jobs[0]!.pods[0]!.exitCode], [1, 2], 'one pod, exit 2 (refused before any change)');
      const log = await jobLog(jobs[0]!.name);
      assert.match(log, /config\.yaml.*unknown key "acounts"/);
      assert.ok(r.stdout.includes(log.trim()), 'the script printed the failed Job\'s log');
      assert.deepEqual(controlPlanes(), before, 'no manifest changed, no component restarted');
      assert.deepEqual(NODES.map(maintenances), maintenanceBefore, 'no node taken out of haproxy');
    } finally {
      await kubectl(first, ['-n', 'kube-system', 'delete', 'configmap', 'kubeadm-nonroot-config']);
      reportProbe(t, 'the rollout stopped by a failed plan Job', await probe.stop());
    }
  });

// ─── The fleet's life after the rollout: a fourth control-plane node joined, then kubeadm upgrade ───
// (scripts/kube-cluster.ts: addNode, joinControlPlane, accountsOf). The node joins BEFORE the upgrade,
// at the cluster's version: after `kubeadm upgrade apply --etcd-upgrade=false` (etcd 3.7 is not built
// here) the cluster's ClusterConfiguration names no etcd image tag, so a kubeadm v1.37.2 join would
// write the etcd its own table pins (3.7.0-0, cmd/kubeadm/app/images/images.go GetEtcdImage) for the new
// member. The joined node is then upgraded with the other three, so it takes the --patches path too.
describe(`the fleet's life: a fourth node joined, then kubeadm upgrade ${VERSION} → ${UPGRADE_TO} with kubeadm-nonroot's patches`, () => {
  const FLEET_USERS = { etcd: 'kubeadm-etcd', 'kube-apiserver': 'kubeadm-kas', 'kube-controller-manager': 'kubeadm-kcm', 'kube-scheduler': 'kubeadm-ks' } as const;
  const upgradeTimings: Record<string, number> = {};
  /** A measurement only (docs/fleet.md quotes it): KUBEADM_NONROOT_UPGRADE_IN_LB=1 upgrades every node while it stays in haproxy. */
  const UPGRADE_IN_LB = process.env.KUBEADM_NONROOT_UPGRADE_IN_LB === '1';
  after(() => observe(`fleet timings (ms): ${JSON.stringify(upgradeTimings)}`));

  /** docs/fleet.md's load-balancer hook (BEFORE_NODE or AFTER_NODE) for `name`, as printed there, run from node 1. */
  async function lbHook(hook: 'BEFORE_NODE' | 'AFTER_NODE', name: string): Promise<void> {
    const hooks = docBlock('fleet.md', '### Behind a load balancer').replaceAll('/run/haproxy/admin.sock', cluster.statsSocket);
    const r = await cluster.nodes[0]!.node.exec(['sh', '-c', `${hooks}sh -c "$${hook}" ${hook.toLowerCase().replace('_', '-')} ${name}`]);
    assert.equal(r.code, 0, `${hook} ${name}: ${r.stdout}${r.stderr}`);
  }

  /** The node's processes run as the fleet's accounts, and those have the same IDs as on node 1 (each node's /etc/passwd, /etc/group, /proc). */
  function assertFleetIdentities(kn: KubeNode, when: string): void {
    const want = accountsOf(cluster.nodes[0]!);
    const have = accountsOf(kn);
    for (const c of COMPONENTS) {
      const user = FLEET_USERS[c];
      assert.ok(want.users.get(user), `${user} in node 1's /etc/passwd`);
      assert.deepEqual(have.users.get(user), want.users.get(user), `${when}: ${user} on ${kn.node.hostname} has node 1's uid and gid`);
      const procs = procOf(kn, c);
      assert.equal(procs.length, 1, `${when}: one ${c} on ${kn.node.hostname}`);
      assert.equal(procs[0]!.uids[0], want.users.get(user)!.uid, `${when}: ${c} on ${kn.node.hostname} runs as ${user}`);
      assert.equal(procs[0]!.gids[0], want.users.get(user)!.gid, `${when}: ${c} on ${kn.node.hostname} runs with ${user}'s group`);
    }
    const shared = want.groups.get('kubeadm-sa-key-readers');
    assert.ok(shared, "kubeadm-sa-key-readers in node 1's /etc/group");
    assert.equal(have.groups.get('kubeadm-sa-key-readers')?.gid, shared.gid, `${when}: kubeadm-sa-key-readers on ${kn.node.hostname} has node 1's gid`);
  }

  before(async () => {
    // kubeadm-nonroot on every node's PATH: the single executable, as install.md installs it.
    const [exe] = await buildSea([hostArch()]);
    for (const kn of cluster.nodes) installTool(kn, exe!);
  });

  test("a fleet config from node 1, made with docs/fleet.md's command as printed", async () => {
    const first = cluster.nodes[0]!;
    writeFileSync(first.node.path('/root/fleet-config.sh'), docBlock('fleet.md', '## 1. A fleet config from the first node'));
    const r = await first.node.exec(['sh', '-c', 'cd /root && sh -eu fleet-config.sh']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const config = JSON.parse(readFileSync(first.node.path('/root/fleet-config.yaml'), 'utf8'));
    observe(`fleet config from node 1: ${JSON.stringify(config)}`);
    const passwd = accountsOf(first);
    for (const c of COMPONENTS) {
      const u = passwd.users.get(FLEET_USERS[c])!;
      assert.deepEqual(config.accounts[c], { user: FLEET_USERS[c], group: FLEET_USERS[c], uid: u.uid, gid: u.gid }, `${c}: node 1's account`);
    }
    assert.deepEqual(config.saKeyReaders, { group: 'kubeadm-sa-key-readers', gid: passwd.groups.get('kubeadm-sa-key-readers')!.gid });
  });

  test(`a fourth node joined without patches, then docs/upgrade.md's commands with the fleet config: node 1's IDs, verify 0, etcd 4 healthy members`, async (t) => {
    let t0 = Date.now();
    const r = await release(VERSION, undefined, { etcdBinaries: ['etcd'] });
    const kn = await cluster.addNode(r);
    installTool(kn, (await buildSea([hostArch()]))[0]!);
    upgradeTimings.fourthNodeStarted = Date.now() - t0;
    const probe = await cluster.startProbe('probe-join');
    t0 = Date.now();
    const out = await cluster.joinControlPlane(kn, IGNORE_PREFLIGHT);
    upgradeTimings.join = Date.now() - t0;
    assert.match(out, /This node has joined the cluster and a new control plane instance was created/);
    await waitUntil('the joined node runs its four components', 300_000, async () => COMPONENTS.filter((c) => procOf(kn, c).length !== 1).join(', '));
    for (const c of COMPONENTS) assert.equal(procOf(kn, c)[0]?.uids[0], 0, `${c} on the joined node runs as root before the tool`);
    // A node installed at another time: without the haproxy package (its system account, uid 103 and
    // gid 106 here, is gone), so IDs allocated on this node would differ from the fleet's. The oracle that
    // they would: the tool's own plan without the config.
    await kn.node.run(['userdel', 'haproxy']);
    const unpinned = JSON.parse((await kn.node.run(['kubeadm-nonroot', 'plan', '-o', 'json'])));
    const firstUsers = accountsOf(cluster.nodes[0]!).users;
    const allocated = unpinned.components.map((c: any) => [c.component, c.identity?.uid]);
    observe(`joined node without the fleet config would get: ${JSON.stringify(allocated)}`);
    assert.ok(allocated.some(([c, uid]: [keyof typeof FLEET_USERS, number]) => uid !== firstUsers.get(FLEET_USERS[c])!.uid), `unpinned IDs on the joined node differ from node 1's: ${JSON.stringify(allocated)}`);
    // docs/upgrade.md's commands for the new node, as printed, with node 1's fleet config copied over.
    t0 = Date.now();
    copyFileSync(cluster.nodes[0]!.node.path('/root/fleet-config.yaml'), kn.node.path('/root/fleet-config.yaml'));
    writeFileSync(kn.node.path('/root/join-nonroot.sh'), docBlock('upgrade.md', '## Adding a control-plane node'));
    const run = await kn.node.exec(['sh', '-c', 'cd /root && sh -eu join-nonroot.sh'], { timeoutMs: 900_000 });
    upgradeTimings.applyOnJoined = Date.now() - t0;
    observe(`docs/upgrade.md's commands on the joined node: exit ${run.code}\n${run.stdout.split('\n').filter((l) => /^(✔|Applied|Nothing|kubeadm-nonroot)/.test(l)).slice(-12).join('\n')}${run.stderr}`);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /the node holds the desired state/);
    // In rotation once verified, as the rollout's AFTER_NODE hook does.
    await lbHook('AFTER_NODE', kn.node.hostname);
    t0 = Date.now();
    await cluster.waitHealthy(600_000);
    upgradeTimings.joinedHealthy = Date.now() - t0;
    const count = await probe.stop();
    const line = probeLine(count);
    t.diagnostic(line);
    process.stdout.write(`${line}\n`);
    observe(`fourth node joined (kubeadm join ${Math.round(upgradeTimings.join / 1000)} s), migrated with the fleet config (${Math.round(upgradeTimings.applyOnJoined / 1000)} s), in haproxy: ${line} ${JSON.stringify(count)}`);
    const etcd = await cluster.etcdHealth();
    assert.deepEqual(etcd.map((e) => [new URL(e.endpoint).hostname, e.health]).sort(), [...NODE_ADDRESSES, JOINED_NODE.address].map((a) => [a, true]));
    for (const node of cluster.nodes) assertFleetIdentities(node, 'after the join');
  });

  test(`kubeadm upgrade ${VERSION} → ${UPGRADE_TO} --patches, one node at a time out of haproxy, docs/upgrade.md's commands: verify 0 on each, no request fails`, async (t) => {
    let t0 = Date.now();
    const from = await release(VERSION, undefined, { etcdBinaries: ['etcd'] });
    // As test/node/flow.test.ts: the target's control-plane images and kubeadm, the kubelet stays; etcd is
    // not upgraded when the target pins another etcd (not built: docs/testing.md, "What CI builds").
    const to = await release(UPGRADE_TO, undefined, { binaries: ['kubeadm', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'], etcdBinaries: [] });
    const skipEtcd = to.etcdTag !== from.etcdTag;
    await Promise.all(cluster.nodes.map((kn) => kn.importImages(to)));
    upgradeTimings.upgradeImages = Date.now() - t0;
    const steps = upgradeSteps(docBlock('upgrade.md', '## The flow, per control-plane node').replaceAll('v1.37.2', UPGRADE_TO));
    // No pod network here: kubeadm's health-check Job and the nodes' Ready condition cannot pass (flow.test.ts).
    const extra = [`--ignore-preflight-errors=${[...IGNORE_PREFLIGHT, 'CreateJob', 'ControlPlaneNodesReady'].join(',')}`, ...(skipEtcd ? ['--etcd-upgrade=false'] : [])];
    const probe = await cluster.startProbe('probe-upgrade');
    const phase0 = Date.now();
    for (const [i, kn] of cluster.nodes.entries()) {
      const name = kn.node.hostname;
      t0 = Date.now();
      kn.install(to, ['kubeadm']);
      for (const line of steps.before) {
        const r = await kn.node.exec(['sh', '-c', line], { timeoutMs: 300_000 });
        assert.equal(r.code, 0, `${name}: ${line}: ${r.stdout}${r.stderr}`);
      }
      if (!UPGRADE_IN_LB) await lbHook('BEFORE_NODE', name);
      const upgrade = `${i === 0 ? `${steps.apply} --yes` : steps.node} ${extra.join(' ')}`;
      const r = await kn.node.exec(['sh', '-c', upgrade], { timeoutMs: 1_200_000 });
      observe(`${name}: ${upgrade}: exit ${r.code} after ${Math.round((Date.now() - t0) / 1000)} s${r.code ? `\n${r.stdout}${r.stderr}` : ''}`);
      assert.equal(r.code, 0, `${name}: ${upgrade}: ${r.stdout}${r.stderr}`);
      for (const line of steps.after) {
        const v = await kn.node.exec(['sh', '-c', line], { timeoutMs: 300_000 });
        assert.equal(v.code, 0, `${name}: ${line} after the upgrade: ${v.stdout}${v.stderr}`);
      }
      assertFleetIdentities(kn, `after ${name}'s upgrade`);
      for (const c of COMPONENTS.filter((c) => c !== 'etcd')) {
        assert.match(readFileSync(kn.node.path(`/etc/kubernetes/manifests/${c}.yaml`), 'utf8'), new RegExp(`image: registry\\.k8s\\.io/${c}:${UPGRADE_TO}\\n`), `${name}: ${c} upgraded`);
      }
      if (!UPGRADE_IN_LB) await lbHook('AFTER_NODE', name);
      const healthy = Date.now();
      await cluster.waitHealthy(600_000);
      upgradeTimings[`${name}Upgraded`] = healthy - t0;
      upgradeTimings[`${name}Healthy`] = Date.now() - healthy;
    }
    const seconds = Math.round((Date.now() - phase0) / 1000);
    const count = await probe.stop();
    const line = probeLine(count);
    t.diagnostic(line);
    process.stdout.write(`${line}\n`);
    observe(`kubeadm upgrade ${VERSION} → ${UPGRADE_TO} --patches of ${cluster.nodes.length} nodes, ${UPGRADE_IN_LB ? 'each left in haproxy' : 'each out of haproxy meanwhile'}, ${seconds} s: ${line} ${JSON.stringify(count)}`);
    assert.equal(JSON.parse(await kubectl(cluster.nodes[0]!, ['get', '--raw', '/version'])).gitVersion, UPGRADE_TO, 'the API through the load balancer answers as the target');
    if (UPGRADE_IN_LB) return;
    const lbLog = readFileSync(cluster.fabric.daemons.get('haproxy')!.log, 'utf8');
    for (const kn of cluster.nodes) assert.match(lbLog, new RegExp(`Server kube-apiservers/${kn.node.hostname} is going DOWN for maintenance`), `${kn.node.hostname} taken out of haproxy`);
    assert.equal(count.failed, 0, JSON.stringify(count));
  });
});
});

/** The first ```sh block after `heading` in docs/<file>, exactly as printed. */
function docBlock(file: string, heading: string): string {
  const text = readFileSync(join(REPO_ROOT, 'docs', file), 'utf8');
  const at = text.indexOf(`\n${heading}`);
  assert.ok(at >= 0, `docs/${file} has no heading "${heading}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(at))?.[1];
  assert.ok(block, `docs/${file}: no sh block after "${heading}"`);
  return block;
}

/**
 * docs/upgrade.md's per-node flow as commands, comments dropped: those before kubeadm's, the two kubeadm
 * upgrade commands (apply on the first node, node on the others), and those after — but for `apply`,
 * which the doc runs only when verify reports something (the test requires verify to exit 0).
 */
function upgradeSteps(block: string): { before: string[]; apply: string; node: string; after: string[] } {
  const lines = block.split('\n').map((l) => l.replace(/\s+#.*$/, '').replace(/^#.*$/, '').trim()).filter(Boolean);
  const apply = lines.find((l) => l.startsWith('kubeadm upgrade apply '));
  const node = lines.find((l) => l.startsWith('kubeadm upgrade node'));
  assert.ok(apply && node, `docs/upgrade.md's flow names kubeadm upgrade apply and node: ${lines.join(' | ')}`);
  const first = lines.indexOf(apply);
  const last = Math.max(first, lines.indexOf(node));
  return { before: lines.slice(0, first), apply, node, after: lines.slice(last + 1).filter((l) => l !== 'kubeadm-nonroot apply') };
}

/** kubeadm-nonroot on the node's PATH: the single executable (bound into the node with the repository). */
function installTool(kn: KubeNode, exe: string): void {
  const link = kn.node.path('/usr/local/bin/kubeadm-nonroot');
  rmSync(link, { force: true });
  symlinkSync(exe, link);
}
