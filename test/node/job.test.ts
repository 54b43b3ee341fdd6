// npm run test:node — templates/rollout/job.yaml on a real cluster: a fresh kubeadm node (scripts/kube-node.ts,
// its own name and scratch dir), an image built locally from the single executable (npm run build:sea)
// plus the host's glibc, libstdc++, shadow-utils, chown and find (ldd), imported into the node's
// containerd, and docs/fleet.md's rollout script itself — extracted from the doc, run with the machine's
// real kubectl against the node's API server — creating the plan, apply and verify Jobs.
// The oracle is the node itself, read from outside the Job: /proc of the component processes, the node's
// /etc/passwd and the owners of its files; the Jobs' status and logs come from the real API.
// Apply restarts the node's own kube-apiserver under the Job (a single control-plane node): the API is
// away for a minute or two while the script waits for the Job; the test records what the script, the
// Job and its pod did meanwhile (docs/fleet.md quotes it).
// Prerequisites (root, unshare, kubectl, envsubst; the node's containerd and runc are built): a skip names what is missing, and
// with KUBEADM_NONROOT_REQUIRE_E2E=1 (CI) the skip is a failure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { buildSea, hostArch } from '../../scripts/build-sea.js';
import { K8S_CACHE } from '../../scripts/k8s-build.js';
import { KubeNode, release } from '../../scripts/kube-node.js';
import { VERSION as TOOL_VERSION } from '../../src/version.js';
import { REPO_ROOT } from '../../scripts/lib/paths.js';
import { skipOrFail } from '../support/prerequisites.js';
import { COMPONENTS, kubectl, tool, waitMirrorPodsReady, type Comp } from '../../scripts/lib/control-plane.js';
import { procOf, rolloutScript, startLivezPoller, toolImage } from './support.js';
import { setTimeout as sleep } from 'node:timers/promises';

const VERSION = process.env.KUBEADM_NONROOT_NODE_FROM ?? 'v1.36.3';
/** A name no registry serves: imagePullPolicy IfNotPresent finds it in the node's containerd. */
const IMAGE = `registry.invalid/kubeadm-nonroot:${TOOL_VERSION}`;
const IGNORE_PREFLIGHT = ['SystemVerification', 'ImagePull'];
/** The account names of kubeadm's RootlessControlPlane gate (cmd/kubeadm/app/util/users/users_linux.go), which the tool keeps. */
const ACCOUNT: Record<Comp, string> = { etcd: 'kubeadm-etcd', 'kube-apiserver': 'kubeadm-kas', 'kube-controller-manager': 'kubeadm-kcm', 'kube-scheduler': 'kubeadm-ks' };

const observed: string[] = [];
const observe = (line: string) => { observed.push(line); process.stderr.write(`[observed] ${line}\n`); };

function missingPrerequisites(): string | false {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('not root (the node needs namespaces, mounts and cgroups)');
  // containerd and runc are not the machine's: the node runs the cached builds (scripts/runtime-build.ts).
  for (const cmd of ['unshare', 'nsenter', 'kubectl', 'envsubst', 'ldd']) {
    try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); } catch { missing.push(`${cmd} is not installed`); }
  }
  return missing.length ? missing.join('; ') : false;
}
const SKIP = skipOrFail(missingPrerequisites());

interface JobView { name: string; node: string; args: string[]; conditions: Record<string, string>; start: string; completion?: string; pods: { name: string; phase: string; restarts: number; reason?: string; exitCode?: number; started?: string; finished?: string }[] }

async function jobs(kn: KubeNode): Promise<JobView[]> {
  const js = JSON.parse(await kubectl(kn, ['-n', 'kube-system', 'get', 'jobs', '-l', 'app.kubernetes.io/name=kubeadm-nonroot', '-o', 'json'])).items as any[];
  const ps = JSON.parse(await kubectl(kn, ['-n', 'kube-system', 'get', 'pods', '-l', 'app.kubernetes.io/name=kubeadm-nonroot', '-o', 'json'])).items as any[];
  return js
    .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) || a.metadata.name.localeCompare(b.metadata.name))
    .map((j) => ({
      name: j.metadata.name,
      node: j.spec.template.spec.nodeName,
      args: j.spec.template.spec.containers[0].args,
      conditions: Object.fromEntries((j.status.conditions ?? []).map((c: any) => [c.type, `${c.status}${c.reason ? ` (${c.reason})` : ''} ${c.lastTransitionTime}`])),
      start: j.status.startTime,
      completion: j.status.completionTime,
      pods: ps.filter((p) => p.metadata.labels?.['job-name'] === j.metadata.name).map((p) => {
        const cs = p.status.containerStatuses?.[0];
        return { name: p.metadata.name, phase: p.status.phase, restarts: cs?.restartCount ?? 0, reason: p.status.reason ?? cs?.state?.terminated?.reason, exitCode: cs?.state?.terminated?.exitCode, started: cs?.state?.terminated?.startedAt, finished: cs?.state?.terminated?.finishedAt };
      }),
    }));
}

const step = (j: JobView) => j.args.find((a) => ['plan', 'apply', 'verify', 'rollback'].includes(a));

let kn: KubeNode;

describe(`templates/rollout/job.yaml on a real node ${VERSION}`, { skip: SKIP, timeout: 2 * 3600_000 }, () => {
  before(async () => {
    const [exe] = await buildSea([hostArch()]);
    // The etcd binary only: all the etcd image needs (as .ci/run builds it; nothing here runs etcdctl).
    const r = await release(VERSION, undefined, { etcdBinaries: ['etcd'] });
    kn = await KubeNode.start({ binds: [REPO_ROOT, K8S_CACHE], hostname: 'kn-job' });
    await kn.startContainerd(`registry.k8s.io/pause:${r.pauseTag}`);
    await kn.importImages(r);
    kn.install(r);
    const out = await kn.init(VERSION, IGNORE_PREFLIGHT);
    assert.match(out, /Your Kubernetes control-plane has initialized successfully/);
    await waitMirrorPodsReady(kn);
    await kn.importImage(toolImage(IMAGE, exe!));
  });
  after(async () => {
    if (observed.length) writeFileSync(`/tmp/kubeadm-nonroot-job-observations-${VERSION}.txt`, `${observed.join('\n')}\n`);
    if (kn) await kn.stop({ keep: process.env.KUBEADM_NONROOT_NODE_KEEP === '1' });
  });

  test('before: every component runs as root, no account of the tool exists', () => {
    for (const c of COMPONENTS) assert.equal(procOf(kn, c)[0]?.uids[0], 0, `${c} runs as root`);
    const passwd = readFileSync(kn.node.path('/etc/passwd'), 'utf8');
    for (const c of COMPONENTS) assert.ok(!passwd.includes(`\n${ACCOUNT[c]}:`), `${ACCOUNT[c]} exists before the rollout`);
  });

  let run: { code: number; stdout: string; stderr: string };
  test("docs/fleet.md's rollout script, with the real kubectl, plans, applies and verifies the node with Jobs", async () => {
    writeFileSync(kn.node.path('/root/rollout.sh'), rolloutScript());
    const poll = await startLivezPoller(kn, 'livez-job');
    const t0 = Date.now();
    run = await kn.node.exec(['sh', '/root/rollout.sh'], {
      env: { IMAGE, TEMPLATE: join(REPO_ROOT, 'templates', 'rollout', 'job.yaml'), KUBECONFIG: '/etc/kubernetes/admin.conf', POLL: '2' },
      timeoutMs: 3_000_000,
    });
    const seconds = Math.round((Date.now() - t0) / 1000);
    observe(`API unavailability while the rollout script ran: ${JSON.stringify(await poll.stop())}`);
    observe(`rollout.sh: exit ${run.code} after ${seconds} s\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}---`);
    const js = await waitJobsFinished(kn);
    for (const j of js) observe(`job ${j.name} (${step(j)}): ${JSON.stringify({ start: j.start, completion: j.completion, conditions: j.conditions, pods: j.pods })}`);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.deepEqual(js.map(step), ['plan', 'apply', 'verify']);
    for (const j of js) {
      assert.equal(j.node, 'kn-job');
      assert.match(j.conditions.Complete ?? '', /^True/, `${j.name} (${step(j)}) completed`);
      // backoffLimit 0 and no eviction: exactly one pod per Job, never restarted, exit 0.
      assert.equal(j.pods.length, 1, `${j.name}: one pod`);
      assert.deepEqual([j.pods[0]!.phase, j.pods[0]!.restarts, j.pods[0]!.exitCode], ['Succeeded', 0, 0], `${j.name}'s pod`);
    }
    assert.match(run.stdout, /all control-plane nodes migrated and verified: kn-job/);
  });

  test("the Jobs' logs carry the plan and the verify result", async () => {
    const js = await jobs(kn);
    const log = async (s: string) => kubectl(kn, ['-n', 'kube-system', 'logs', `job/${js.find((j) => step(j) === s)!.name}`]);
    const plan = await log('plan');
    for (const c of COMPONENTS) assert.ok(plan.includes(ACCOUNT[c]), `the plan names ${ACCOUNT[c]}:\n${plan}`);
    const verify = await log('verify');
    observe(`verify Job log:\n${verify}`);
    // The script prints each Job's log: the operator sees both.
    assert.ok(run.stdout.includes(plan.trim().split('\n')[0]!), 'the script printed the plan');
    assert.ok(run.stdout.includes(verify.trim()), 'the script printed the verify result');
  });

  test('the node itself: /proc shows every component as its own account, the files are theirs', async () => {
    const pods = await waitMirrorPodsReady(kn, 300_000);
    assert.equal(pods.size, 4);
    const passwd = new Map(readFileSync(kn.node.path('/etc/passwd'), 'utf8').split('\n').filter(Boolean).map((l) => l.split(':')).map((f) => [f[0]!, Number(f[2])]));
    const uid = (c: Comp) => passwd.get(ACCOUNT[c])!;
    for (const c of COMPONENTS) {
      assert.ok(uid(c) > 0, `${ACCOUNT[c]} in the node's /etc/passwd`);
      const procs = procOf(kn, c);
      assert.equal(procs.length, 1, `one ${c} process`);
      assert.deepEqual(procs[0]!.uids, [uid(c), uid(c), uid(c), uid(c)], `${c} runs as ${ACCOUNT[c]}`);
      assert.equal(procs[0]!.capEff & ~(1n << 10n), 0n, `${c} has no capability beyond NET_BIND_SERVICE`);
    }
    assert.equal(new Set(COMPONENTS.map(uid)).size, 4, 'four distinct accounts');
    // What etcd writes is its own; what a component only reads stays root's, read through its group
    // (docs/ownership.md, the read-only rule), and nobody else may read it.
    const gid = (c: Comp) => Number(readFileSync(kn.node.path('/etc/passwd'), 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === ACCOUNT[c])![3]);
    const etcdData = statSync(kn.node.path('/var/lib/etcd/member/snap/db'));
    assert.equal(etcdData.uid, uid('etcd'), '/var/lib/etcd/member/snap/db owned by kubeadm-etcd');
    const readOnly: [string, Comp][] = [
      ['/etc/kubernetes/pki/etcd/server.key', 'etcd'],
      ['/etc/kubernetes/pki/apiserver.key', 'kube-apiserver'], ['/etc/kubernetes/pki/apiserver-etcd-client.key', 'kube-apiserver'],
      ['/etc/kubernetes/controller-manager.conf', 'kube-controller-manager'], ['/etc/kubernetes/scheduler.conf', 'kube-scheduler'],
    ];
    for (const [p, c] of readOnly) {
      const st = statSync(kn.node.path(p));
      assert.deepEqual([st.uid, st.gid], [0, gid(c)], `${p} is root:${ACCOUNT[c]}`);
      assert.equal(st.mode & 0o027, 0, `${p} not writable by the group, nothing for others (mode ${(st.mode & 0o777).toString(8)})`);
    }
    // The manifests the kubelet runs name the same accounts.
    for (const c of COMPONENTS) {
      const m = parse(readFileSync(kn.node.path(`/etc/kubernetes/manifests/${c}.yaml`), 'utf8'));
      assert.equal(m.spec.securityContext.runAsUser, uid(c), `${c}.yaml runAsUser`);
    }
    // And the tool, run on the node itself (not in a Job), agrees.
    const v = await tool(kn, ['verify']);
    assert.equal(v.code, 0, `${v.stdout}\n${v.stderr}`);
  });

  test("the apply Job's pod as the API stored it: tolerated on a not-ready or unreachable node for good", async () => {
    const apply = (await jobs(kn)).find((j) => step(j) === 'apply')!;
    const pod = JSON.parse(await kubectl(kn, ['-n', 'kube-system', 'get', 'pod', apply.pods[0]!.name, '-o', 'json']));
    const tol = (pod.spec.tolerations as any[]).filter((t) => t.effect === 'NoExecute');
    observe(`the apply pod's NoExecute tolerations after admission: ${JSON.stringify(tol)}`);
    // DefaultTolerationSeconds adds its 300 s tolerations only for taints the pod does not tolerate yet.
    for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
      assert.deepEqual(tol.filter((t) => t.key === key), [{ key, operator: 'Exists', effect: 'NoExecute' }], key);
    }
  });

  test('rollback as docs/fleet.md says, with a Job ("rollback", "--yes"): every component runs as root again', async () => {
    // The two commands of the doc's block, for this node, image and checkout.
    const [create, wait] = recoveryBlock(/A \*\*rollback Job\*\*[\s\S]*?```sh\n([\s\S]*?)```/);
    const local = (cmd: string) => cmd.replace('cp-2.example.internal', 'kn-job').replace('registry.example/kubeadm-nonroot:0.1.0', IMAGE).replace('templates/rollout/job.yaml', join(REPO_ROOT, 'templates', 'rollout', 'job.yaml'));
    const job = (await kn.node.run(['sh', '-c', local(create!)], { env: { KUBECONFIG: '/etc/kubernetes/admin.conf' } })).trim();
    assert.match(job, /^job\.batch\/kubeadm-nonroot-\w+$/);
    const w = await kn.node.exec(['sh', '-c', wait!.replace('job/<the name printed>', job)], { env: { KUBECONFIG: '/etc/kubernetes/admin.conf' }, timeoutMs: 2_800_000 });
    const log = await kubectl(kn, ['-n', 'kube-system', 'logs', job]);
    observe(`rollback Job log:\n${log}`);
    assert.equal(w.code, 0, w.stderr);
    await waitMirrorPodsReady(kn, 300_000);
    for (const c of COMPONENTS) assert.equal(procOf(kn, c)[0]?.uids[0], 0, `${c} runs as root after the rollback`);
    const passwd = readFileSync(kn.node.path('/etc/passwd'), 'utf8');
    for (const c of COMPONENTS) assert.ok(!passwd.includes(`\n${ACCOUNT[c]}:`), `${ACCOUNT[c]} removed by the rollback`);
  });

  test('the rollout script stopped half way (killed during apply): the Job completes anyway, the rerun finishes the rollout', async () => {
    for (const j of await jobs(kn)) await kubectl(kn, ['-n', 'kube-system', 'delete', 'job', j.name, '--cascade=foreground']);
    const env = [`IMAGE=${IMAGE}`, `TEMPLATE=${join(REPO_ROOT, 'templates', 'rollout', 'job.yaml')}`, 'KUBECONFIG=/etc/kubernetes/admin.conf', 'POLL=2'];
    // Its own session: the script, its `kubectl wait` and its polls are one process group, killed as a
    // closed terminal's would be.
    const pid = await kn.node.startDaemon('rollout-stopped', ['env', ...env, 'setsid', 'sh', '/root/rollout.sh']);
    const log = kn.node.daemons.get('rollout-stopped')!.log;
    const deadline = Date.now() + 600_000;
    while (!(await jobs(kn).catch(() => [])).some((j) => step(j) === 'apply' && j.pods.some((p) => p.phase === 'Running'))) {
      assert.ok(Date.now() < deadline, `the apply Job's pod did not start:\n${readFileSync(log, 'utf8')}`);
      await sleep(1000);
    }
    process.kill(-pid, 'SIGTERM');
    await kn.node.stopDaemon('rollout-stopped');
    assert.equal((await kn.node.exec(['pgrep', '-f', 'rollout.sh|kubectl.*wait'])).stdout, '', 'nothing of the script is left');
    observe(`rollout.sh killed during apply; its output:\n${readFileSync(log, 'utf8')}`);
    const js = await waitJobsFinished(kn);
    for (const j of js) observe(`after the kill: job ${j.name} (${step(j)}): ${JSON.stringify({ conditions: j.conditions, pods: j.pods })}`);
    assert.deepEqual(js.map(step), ['plan', 'apply'], 'no verify Job: the script was gone');
    assert.match(js[1]!.conditions.Complete ?? '', /^True/, 'the apply Job completed without the script');
    const applyLog = await kubectl(kn, ['-n', 'kube-system', 'logs', `job/${js[1]!.name}`]);
    assert.match(applyLog, /Applied \(backup /);
    for (const c of COMPONENTS) assert.notEqual(procOf(kn, c)[0]?.uids[0], 0, `${c} migrated by the Job alone`);
    // Recovery step 1 of docs/fleet.md, its commands as printed there, for the apply Job.
    const [list, exitCode, waitJob] = recoveryBlock(/1\. \*\*Find the Job it stopped at[\s\S]*?```sh\n([\s\S]*?)```/);
    const docRun = async (cmd: string) => {
      const r = await kn.node.exec(['sh', '-c', cmd.replaceAll('<job>', js[1]!.name)], { env: { KUBECONFIG: '/etc/kubernetes/admin.conf' }, timeoutMs: 120_000 });
      observe(`$ ${cmd}\n${r.stdout}${r.stderr}(exit ${r.code})`);
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      return r.stdout;
    };
    const rows = (await docRun(list!)).trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    assert.deepEqual(rows[0], ['JOB', 'NODE', 'ARGS', 'SUCCEEDED', 'FAILED']);
    assert.deepEqual(rows.slice(1).map((r) => [r[0], r[1], r[3], r[4]]), js.map((j) => [j.name, 'kn-job', '1', '<none>']));
    assert.match(rows[2]![2]!, /^\[apply --yes --proc \/host\/proc\]$/);
    assert.equal((await docRun(exitCode!)).trim(), '0');
    assert.match(await docRun(waitJob!), /condition met/);
    // Recovery (docs/fleet.md, When it stops): run the same script again.
    const pids = COMPONENTS.map((c) => procOf(kn, c)[0]?.pid);
    const manifests = COMPONENTS.map((c) => readFileSync(kn.node.path(`/etc/kubernetes/manifests/${c}.yaml`), 'utf8'));
    const again = await kn.node.exec(['sh', '/root/rollout.sh'], {
      env: { IMAGE, TEMPLATE: join(REPO_ROOT, 'templates', 'rollout', 'job.yaml'), KUBECONFIG: '/etc/kubernetes/admin.conf', POLL: '2' },
      timeoutMs: 1_800_000,
    });
    observe(`rollout.sh rerun: exit ${again.code}\n--- stdout\n${again.stdout}--- stderr\n${again.stderr}---`);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.match(again.stdout, /== kn-job: apply \(job\.batch\/[\w-]+\)\nNothing to do: the node already runs its control plane as planned\./);
    assert.match(again.stdout, /== kn-job: verify \(job\.batch\/[\w-]+\)\n✔ the node holds the desired state/);
    assert.deepEqual(COMPONENTS.map((c) => readFileSync(kn.node.path(`/etc/kubernetes/manifests/${c}.yaml`), 'utf8')), manifests, 'the rerun changed no manifest');
    assert.deepEqual(COMPONENTS.map((c) => procOf(kn, c)[0]?.pid), pids, 'the rerun restarted no component');
  });
  test('a plan Job that fails stops the script before any apply Job (a fleet config ConfigMap with a typo)', async () => {
    for (const j of await jobs(kn)) await kubectl(kn, ['-n', 'kube-system', 'delete', 'job', j.name, '--cascade=foreground']);
    const manifests = COMPONENTS.map((c) => readFileSync(kn.node.path(`/etc/kubernetes/manifests/${c}.yaml`), 'utf8'));
    writeFileSync(kn.node.path('/root/fleet-config.yaml'), 'apiVersion: kubeadm-nonroot/v1alpha1\nkind: NonRootConfiguration\nacounts: {}\n');
    // As docs/fleet.md creates it.
    await kubectl(kn, ['-n', 'kube-system', 'create', 'configmap', 'kubeadm-nonroot-config', '--from-file=config.yaml=/root/fleet-config.yaml']);
    try {
      const r = await kn.node.exec(['sh', '/root/rollout.sh'], {
        env: { IMAGE, TEMPLATE: join(REPO_ROOT, 'templates', 'rollout', 'job.yaml'), KUBECONFIG: '/etc/kubernetes/admin.conf', POLL: '2' },
        timeoutMs: 900_000,
      });
      observe(`rollout.sh with a fleet config holding a typo: exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}---`);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /^using the fleet config in configmap kube-system\/kubeadm-nonroot-config\n== kn-job: plan /);
      assert.match(r.stderr, /^!! kn-job: plan failed \(output above\); kubectl -n kube-system describe job\.batch\/kubeadm-nonroot-\w+$/m);
      const js = await jobs(kn);
      assert.deepEqual(js.map(step), ['plan'], 'no apply Job');
      assert.deepEqual(js[0]!.args.slice(0, 2), ['--config', '/etc/kubeadm-nonroot/config.yaml']);
      assert.match(js[0]!.conditions.Failed ?? '', /^True/);
      assert.deepEqual([js[0]!.pods.length, js[0]!.pods[0]!.exitCode], [1, 2], 'one pod, exit 2 (refused before any change)');
      const log = await kubectl(kn, ['-n', 'kube-system', 'logs', `job/${js[0]!.name}`]);
      assert.match(log, /config\.yaml.*unknown key "acounts"/);
      assert.ok(r.stdout.includes(log.trim()), 'the script printed the failed Job\'s log');
      assert.deepEqual(COMPONENTS.map((c) => readFileSync(kn.node.path(`/etc/kubernetes/manifests/${c}.yaml`), 'utf8')), manifests, 'no manifest changed');
    } finally {
      await kubectl(kn, ['-n', 'kube-system', 'delete', 'configmap', 'kubeadm-nonroot-config']);
    }
  });
});

/** The shell commands of a ```sh block of docs/fleet.md (found by `re`, group 1), backslash-continued lines joined. */
function recoveryBlock(re: RegExp): string[] {
  const block = re.exec(readFileSync(join(REPO_ROOT, 'docs', 'fleet.md'), 'utf8'))?.[1];
  assert.ok(block, `no such block in docs/fleet.md: ${re}`);
  return block.replace(/\\\n\s*/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
}

/** The Jobs once none is running any more (the script may have given up on one before it finished). */
async function waitJobsFinished(kn: KubeNode, timeoutMs = 1_200_000): Promise<JobView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const js = await jobs(kn);
      if (js.every((j) => /^True/.test(j.conditions.Complete ?? '') || /^True/.test(j.conditions.Failed ?? ''))) return js;
    } catch { /* the API is away */ }
    if (Date.now() > deadline) throw new Error('the Jobs did not finish');
    await sleep(3000);
  }
}
