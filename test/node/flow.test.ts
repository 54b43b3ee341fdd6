// npm run test:node — the tool on a real kubeadm control plane: Kubernetes built from source
// (scripts/k8s-build.ts), containerd 2 + runc built from source (scripts/runtime-build.ts), the real kubelet, kubeadm init / certs
// renew / upgrade, on a throwaway node (scripts/real-node.ts) that never touches the machine.
// The tool runs INSIDE the node with no --root, as an operator runs it. Never skips: if the node
// cannot start, the test fails with the reason.
// Near the end, both user-namespace modes (docs/user-namespaces.md) with the kernel as the oracle
// (test/node/userns-proof.ts), and CIS 1.1 measured in each layout (test/support/cis.ts).
// Versions: KUBEADM_NONROOT_NODE_FROM (default v1.36.3) and KUBEADM_NONROOT_NODE_TO (default v1.37.2).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { K8S_CACHE } from '../../scripts/k8s-build.js';
import { KubeNode, release, type Release } from '../../scripts/kube-node.js';
import { REPO_ROOT } from '../../scripts/lib/paths.js';
import { COMPONENTS, kubectl, mirrorPods, tool, waitMirrorPodsReady, type Comp } from '../../scripts/lib/control-plane.js';
import { describeChanges, procOf, restartComponents, snapshotFiles, startLivezPoller } from './support.js';
import { assertOwnUserns, describeView, OTHERS_SECRET, OWN_SECRET, PUBLIC_FILE, readableAs, readableThroughPod, usernsViews, type UsernsView } from './userns-proof.js';
import { checkCisTable, cisSummaryLine, measureCis11, type CisCheck, type CisMode } from '../support/cis.js';
import { setTimeout as sleep } from 'node:timers/promises';

const FROM = process.env.KUBEADM_NONROOT_NODE_FROM ?? 'v1.36.3';
const TO = process.env.KUBEADM_NONROOT_NODE_TO ?? 'v1.37.2';
/**
 * kubeadm v1.37 pins etcd 3.7.0 (v1.36: 3.6.8), so a real v1.36 → v1.37 upgrade also upgrades etcd.
 * By default, when the target pins another etcd, the flow runs `kubeadm upgrade apply --etcd-upgrade=false`:
 * one more Go build (etcd 3.7.0) did not fit this session's machine time nor CI's 75 minutes
 * (docs/testing.md, "What CI builds"). kubeadm's etcd upgrade path itself (data backup, manifest swap,
 * health wait) runs in a same-version run (KUBEADM_NONROOT_NODE_TO=v1.36.3), where the etcd is the same.
 * KUBEADM_NONROOT_NODE_ETCD_UPGRADE=1 builds the target's etcd (the etcd binary only: the image needs
 * no more) and lets kubeadm upgrade etcd too.
 */
const ETCD_UPGRADE = process.env.KUBEADM_NONROOT_NODE_ETCD_UPGRADE === '1';
/** etcd's binaries in the node's etcd image: kubeadm's etcd pod runs `etcd` and probes it over HTTP. */
const ETCD_BINARIES = ['etcd'] as const;
/** The upgrade target's binaries: the kubelet stays at FROM (kubeadm's supported skew), as on a node upgraded control plane first. */
const TO_BINARIES = ['kubeadm', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
/**
 * The whole flow's limit (default 60 min: CI's budget is 75 for everything). The test builds what is
 * missing itself, or waits for a build already running (scripts/k8s-build.ts locks per version): raise
 * it when the builds are not done yet.
 */
const TIMEOUT_MIN = Number(process.env.KUBEADM_NONROOT_NODE_TIMEOUT_MIN ?? 60);
/** What kubeadm was seen to do, written to <scratch>/observations.txt and stderr (docs/upgrade.md quotes it). */
const observed: string[] = [];
const observe = (line: string) => { observed.push(line); process.stderr.write(`[observed] ${line}\n`); };

/**
 * kubeadm preflight errors that cannot apply to this throwaway node, each ignored by name:
 * - SystemVerification: these machines run cgroup v1, which kubeadm's system validator rejects from
 *   v1.35 on; the kubelet is told to accept it (failCgroupV1: false).
 * - ImagePull: no registry is reachable; the control-plane, etcd and pause images are built locally
 *   and present, but kube-proxy's and CoreDNS's are not (no CNI here, neither is under test).
 */
const IGNORE_PREFLIGHT = ['SystemVerification', 'ImagePull'];
/**
 * kubeadm upgrade's cluster health checks (observed with v1.36.3) that need a pod network, which this
 * node has not (no CNI):
 * - CreateJob: kubeadm runs a Job ("upgrade-health-check-…") and waits 1 min for it to complete; its
 *   pod is not hostNetwork and never gets a sandbox network.
 * - ControlPlaneNodesReady: the node stays NotReady without a CNI plugin.
 */
const IGNORE_UPGRADE = [...IGNORE_PREFLIGHT, 'CreateJob', 'ControlPlaneNodesReady'];
/**
 * kube-apiserver accepts hostNetwork pods with hostUsers: false, and the kubelet runs them, only with
 * this gate (KEP-5607: alpha in v1.35–v1.37, off by default); on from init, in kubeadm's configuration,
 * so that kubeadm upgrade keeps it. The user-namespace steps near the end need it.
 */
const USERNS_GATES = ['UserNamespacesHostNetworkSupport'];
/** Set once the target is known: whether kubeadm upgrade skips etcd (another etcd, not built). */
let skipEtcd = false;
const upgradeFlags = () => [`--ignore-preflight-errors=${IGNORE_UPGRADE.join(',')}`, ...(skipEtcd ? ['--etcd-upgrade=false'] : []), '--v=1'];
/** The components `kubeadm upgrade apply` regenerates: etcd only when it upgrades etcd. */
const upgraded = (): readonly Comp[] => (skipEtcd ? COMPONENTS.filter((c) => c !== 'etcd') : COMPONENTS);

let kn: KubeNode;
let from: Release;
const ids = new Map<Comp, { uid: number; gid: number; groups: number[] }>();
const timings: Record<string, number> = {};
/** CIS 1.1 as measured on the node in each layout, compared with docs/ownership.md at the end. */
const cis: { mode: CisMode; checks: CisCheck[] }[] = [];
function measureCis(mode: CisMode): void {
  const checks = measureCis11({ pathOf: (p) => kn.node.path(p), etcdDataDir: '/var/lib/etcd' });
  cis.push({ mode, checks });
  observe(cisSummaryLine(mode, checks));
}

function passwdIds(comp: Comp, planJson: any): { uid: number; gid: number; groups: number[] } {
  const c = planJson.components.find((x: any) => x.component === comp);
  assert.ok(c?.identity, `plan has an identity for ${comp}`);
  const { user, group } = c.identity;
  // The oracle is the node's /etc/passwd and /etc/group (written by shadow-utils), not the plan.
  const pw = readFileSync(kn.node.path('/etc/passwd'), 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === user);
  assert.ok(pw, `${user} in the node's /etc/passwd`);
  const grp = readFileSync(kn.node.path('/etc/group'), 'utf8').split('\n').map((l) => l.split(':'));
  const gid = Number(grp.find((f) => f[0] === group)![2]);
  const groups = grp.filter((f) => (f[3] ?? '').split(',').includes(user)).map((f) => Number(f[2]));
  return { uid: Number(pw[2]), gid, groups: [...new Set([gid, ...groups])].sort((a, b) => a - b) };
}

describe(`real node ${FROM}`, { timeout: TIMEOUT_MIN * 60_000 }, () => {
  before(async () => {
    const t0 = Date.now();
    from = await release(FROM, undefined, { etcdBinaries: ETCD_BINARIES });
    timings.build = Date.now() - t0;
    kn = await KubeNode.start({ binds: [REPO_ROOT, K8S_CACHE] });
    await kn.startContainerd(`registry.k8s.io/pause:${from.pauseTag}`);
    await kn.importImages(from);
    kn.install(from);
  });
  after(async () => {
    process.stderr.write(`timings (ms): ${JSON.stringify(timings)}\n`);
    if (observed.length) writeFileSync(`/tmp/kubeadm-nonroot-node-observations-${FROM}-${TO}.txt`, `${observed.join('\n')}\ntimings (ms): ${JSON.stringify(timings)}\n`);
    if (kn) await kn.stop({ keep: process.env.KUBEADM_NONROOT_NODE_KEEP === '1' });
  });

  test('kubeadm init brings up the four control-plane mirror pods', async () => {
    const t0 = Date.now();
    const out = await kn.init(FROM, IGNORE_PREFLIGHT, kn.kubeadmConfig(FROM, USERNS_GATES));
    timings.init = Date.now() - t0;
    assert.match(out, /Your Kubernetes control-plane has initialized successfully/);
    const pods = await waitMirrorPodsReady(kn);
    for (const c of COMPONENTS) assert.equal(procOf(kn, c)[0]?.uids[0], 0, `${c} runs as root before the migration`);
    assert.equal(pods.size, 4);
    measureCis('stock kubeadm');
  });

  let plan: any;
  test('plan (no --root) is clean and names the four components', async () => {
    const r = await tool(kn, ['plan', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    plan = JSON.parse(r.stdout);
    assert.deepEqual(plan.components.map((c: any) => c.component), [...COMPONENTS]);
    assert.deepEqual(plan.problems, []);
    assert.equal(plan.kubernetesVersion, FROM.slice(1));
  });

  test('apply with health gates against the real kubelet, then verify exits 0', async () => {
    const t0 = Date.now();
    const poll = await startLivezPoller(kn, 'livez-apply');
    const r = await tool(kn, ['apply', '--yes', '--timeout', '5m']);
    timings.apply = Date.now() - t0;
    observe(`API unavailability during kubeadm-nonroot apply (${FROM}): ${JSON.stringify(await poll.stop())}`);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const v = await tool(kn, ['verify']);
    assert.equal(v.code, 0, `${v.stdout}\n${v.stderr}`);
    for (const c of COMPONENTS) ids.set(c, passwdIds(c, plan));
    measureCis('non-root');
  });

  test('the API shows the mirror pods Running with the new securityContext', async () => {
    const pods = await waitMirrorPodsReady(kn, 120_000, (p) => COMPONENTS.every((c) => (p.get(c)!.securityContext as any).runAsUser === ids.get(c)!.uid));
    for (const c of COMPONENTS) {
      const p = pods.get(c)!;
      assert.equal((p.securityContext as any).runAsUser, ids.get(c)!.uid, c);
      assert.equal((p.securityContext as any).runAsGroup, ids.get(c)!.gid, c);
      // kube-apiserver keeps allowPrivilegeEscalation unset: no_new_privs would block its binary's file
      // capability cap_net_bind_service (src/plan/plan.ts); the others get false.
      assert.equal((p.containerSC as any).allowPrivilegeEscalation, c === 'kube-apiserver' ? undefined : false, c);
      assert.deepEqual((p.containerSC as any).capabilities?.drop, ['ALL'], c);
    }
  });

  test('/proc shows the planned identities, no capabilities, seccomp filter, no_new_privs', async () => {
    const pods = await mirrorPods(kn);
    for (const c of COMPONENTS) {
      const procs = procOf(kn, c);
      assert.equal(procs.length, 1, `one ${c} process`);
      const p = procs[0]!;
      const want = ids.get(c)!;
      assert.deepEqual(p.uids, [want.uid, want.uid, want.uid, want.uid], `${c} Uid`);
      assert.deepEqual(p.gids, [want.gid, want.gid, want.gid, want.gid], `${c} Gid`);
      assert.deepEqual([...new Set([want.gid, ...p.groups])].sort((a, b) => a - b), want.groups, `${c} Groups`);
      // CapBnd is what the manifest's capabilities.add leaves after drop: [ALL] — nothing, or for
      // kube-apiserver at most NET_BIND_SERVICE (bit 10).
      const add: string[] = (pods.get(c)!.containerSC as any).capabilities?.add ?? [];
      const wantBnd = add.includes('NET_BIND_SERVICE') ? 1n << 10n : 0n;
      assert.ok(c === 'kube-apiserver' || add.length === 0, `${c} adds no capability`);
      assert.equal(p.capBnd, wantBnd, `${c} CapBnd`);
      // CapEff: only what the binary's file capability raises within the bounding set (kube-apiserver's
      // image carries cap_net_bind_service=+ep, so it runs with NET_BIND_SERVICE effective).
      assert.equal(p.capEff, wantBnd, `${c} CapEff`);
      assert.equal(p.seccomp, 2, `${c} Seccomp (RuntimeDefault filter)`);
      // NoNewPrivs follows allowPrivilegeEscalation: false (absent where the manifest adds a capability).
      assert.equal(p.noNewPrivs, (pods.get(c)!.containerSC as any).allowPrivilegeEscalation === false ? 1 : 0, `${c} NoNewPrivs`);
    }
  });

  test('the cluster works: Secret, ServiceAccount token, CSR signed by the controller-manager, scheduler binds a pod', async () => {
    await kubectl(kn, ['create', 'secret', 'generic', 'kn-secret', '--from-literal=k=v-123']);
    assert.equal(Buffer.from(await kubectl(kn, ['get', 'secret', 'kn-secret', '-o', 'jsonpath={.data.k}']), 'base64').toString(), 'v-123');
    await kubectl(kn, ['create', 'serviceaccount', 'kn-sa']);
    const token = (await kubectl(kn, ['create', 'token', 'kn-sa'])).trim();
    assert.match(token, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    const who = await kubectl(kn, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}', `--token=${token}`]).catch(async () =>
      kubectl(kn, ['get', '--raw', '/api', `--token=${token}`]));
    assert.ok(who.length > 0);
    // A CSR for a client certificate, approved, then signed by the controller-manager's csrsigner.
    await kn.node.run(['openssl', 'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', '/tmp/kn.key', '-out', '/tmp/kn.csr', '-subj', '/CN=kn-user']);
    const csr = Buffer.from(readFileSync(kn.node.path('/tmp/kn.csr'))).toString('base64');
    await kubectl(kn, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'kn-csr' }, spec: { request: csr, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] } }));
    await kubectl(kn, ['certificate', 'approve', 'kn-csr']);
    let cert = '';
    for (let i = 0; i < 60 && !cert; i++) {
      cert = await kubectl(kn, ['get', 'csr', 'kn-csr', '-o', 'jsonpath={.status.certificate}']);
      if (!cert) await sleep(1000);
    }
    assert.ok(cert, 'the controller-manager signed the approved CSR');
    // The scheduler binds a hostNetwork pod tolerating the not-ready taint (no CNI here).
    await kubectl(kn, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'kn-pod', namespace: 'default' },
      spec: { hostNetwork: true, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'p', image: `registry.k8s.io/pause:${from.pauseTag}`, imagePullPolicy: 'Never' }] },
    }));
    let node = '';
    for (let i = 0; i < 60 && !node; i++) {
      node = await kubectl(kn, ['get', 'pod', 'kn-pod', '-o', 'jsonpath={.spec.nodeName}']);
      if (!node) await sleep(1000);
    }
    assert.equal(node, kn.node.hostname, 'the scheduler bound the pod to the node');
  });

  /** Asserts every component runs with the IDs recorded after the first apply. */
  function assertSameIds(when: string): void {
    for (const c of COMPONENTS) {
      const procs = procOf(kn, c);
      assert.equal(procs.length, 1, `${when}: one ${c} process`);
      assert.equal(procs[0]!.uids[0], ids.get(c)!.uid, `${when}: ${c} UID`);
      assert.equal(procs[0]!.gids[0], ids.get(c)!.gid, `${when}: ${c} GID`);
    }
  }
  const newPods = (before: Map<Comp, { hash?: string }>, comps: readonly Comp[]) => (p: Map<Comp, { hash?: string }>) => comps.every((c) => p.get(c)?.hash !== before.get(c)?.hash);

  test('kubeadm certs renew all, restart of the static pods, verify', async () => {
    const before = snapshotFiles(kn, '/etc/kubernetes');
    const r = await kn.node.exec(['kubeadm', 'certs', 'renew', 'all'], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const after = snapshotFiles(kn, '/etc/kubernetes');
    for (const l of describeChanges(before, after)) observe(`${FROM} kubeadm certs renew all: ${l}`);
    // The kernel's view before and after is the oracle: a renewed file that kept its inode kept its owner and mode.
    for (const [p, a] of after) {
      const b = before.get(p);
      if (b && b.sha !== a.sha && b.ino === a.ino) assert.deepEqual([a.uid, a.gid, a.mode], [b.uid, b.gid, b.mode], `${p} rewritten in place keeps owner and mode`);
    }
    await restartComponents(kn, COMPONENTS);
    await waitMirrorPodsReady(kn, 300_000);
    const v = await tool(kn, ['verify']);
    observe(`${FROM} verify after certs renew all + restart: exit ${v.code}${v.code ? `\n${v.stdout}` : ''}`);
    assert.equal(v.code, 0, `${v.stdout}\n${v.stderr}`);
    assertSameIds('after certs renew');
  });

  test(`kubeadm upgrade apply ${TO} with the patches from kubeadm-nonroot patches keeps the node non-root`, async () => {
    const p = await tool(kn, ['patches', '--output-dir', '/root/nonroot-patches']);
    assert.equal(p.code, 0, p.stderr);
    to = TO === FROM ? from : await release(TO, undefined, { binaries: TO_BINARIES, etcdBinaries: ETCD_UPGRADE ? ETCD_BINARIES : [] });
    skipEtcd = !ETCD_UPGRADE && to.etcdTag !== from.etcdTag;
    if (skipEtcd) observe(`kubeadm ${TO} pins etcd ${to.etcdTag} (${FROM}: ${from.etcdTag}): upgrading with --etcd-upgrade=false`);
    await kn.importImages(to);
    kn.install(to, ['kubeadm']);
    const before = snapshotFiles(kn, '/etc/kubernetes');
    const pods = await waitMirrorPodsReady(kn, 300_000);
    const t0 = Date.now();
    const poll = await startLivezPoller(kn, 'livez-upgrade');
    const r = await kn.node.exec(['kubeadm', 'upgrade', 'apply', TO, '--yes', '--patches=/root/nonroot-patches', ...upgradeFlags()], { timeoutMs: 1_200_000 });
    timings.upgradeWithPatches = Date.now() - t0;
    observe(`API unavailability during kubeadm upgrade apply ${FROM}→${TO} --patches: ${JSON.stringify(await poll.stop())}`);
    observe(`${FROM}→${TO} kubeadm upgrade apply --patches: exit ${r.code}; output:\n${(r.stdout + r.stderr).split('\n').filter((l) => /\[upgrade|backup|tmp|skipping|equal|kubelet|etcd|renew|WARN|patch/i.test(l)).slice(0, 80).join('\n')}`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const l of describeChanges(before, snapshotFiles(kn, '/etc/kubernetes'))) observe(`${FROM}→${TO} upgrade apply --patches: ${l}`);
    observe(`/etc/kubernetes/tmp after the upgrade: ${listTree('/etc/kubernetes/tmp').join(', ')}`);
    await waitMirrorPodsReady(kn, 300_000, TO === FROM ? undefined : newPods(pods, upgraded()));
    const v = await tool(kn, ['verify']);
    observe(`${TO} verify right after upgrade apply --patches: exit ${v.code}${v.code ? `\n${v.stdout}` : ''}`);
    assert.equal(v.code, 0, `${v.stdout}\n${v.stderr}`);
    assertSameIds('after the upgrade with patches');
    // The operator upgrades the kubelet too (kubeadm's docs: after upgrade apply).
    await kn.restartKubelet();
    await waitMirrorPodsReady(kn, 300_000);
  });

  test(`rollback after the upgrade with --patches keeps ${TO} (images, flags), runs every component as root, the cluster works`, async () => {
    // The run rollback undoes is the apply made on ${FROM}: the manifests it saved are ${FROM}'s. Putting
    // them back would downgrade the control plane (and run an older etcd on data a newer one wrote);
    // rollback must undo only the migration's own fields on what kubeadm wrote for the new release.
    const manifestOf = (c: Comp) => readFileSync(kn.node.path(`/etc/kubernetes/manifests/${c}.yaml`), 'utf8');
    const imageOf = (text: string) => /^ +image: (\S+)$/m.exec(text)?.[1];
    const flagsOf = (text: string) => text.split('\n').filter((l) => /^ +- --/.test(l));
    const upgradedText = new Map(COMPONENTS.map((c) => [c, manifestOf(c)]));
    for (const c of upgraded()) if (c !== 'etcd') assert.equal(imageOf(upgradedText.get(c)!), `registry.k8s.io/${c}:${TO}`, `${c}: kubeadm upgraded it to ${TO}`);
    const r = await tool(kn, ['rollback', '--yes', '--timeout', '5m']);
    observe(`rollback right after kubeadm upgrade apply ${FROM}→${TO} --patches: exit ${r.code}\n${r.stdout}${r.stderr}`);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    for (const c of COMPONENTS) {
      const text = manifestOf(c);
      assert.equal(imageOf(text), imageOf(upgradedText.get(c)!), `${c}: rollback kept the image kubeadm upgraded it to`);
      assert.deepEqual(flagsOf(text), flagsOf(upgradedText.get(c)!), `${c}: rollback kept kubeadm's flags`);
      assert.doesNotMatch(text, /runAsUser|runAsNonRoot|drop:/, `${c}: the migration's fields are gone`);
    }
    await waitMirrorPodsReady(kn, 300_000, (p) => COMPONENTS.every((c) => (p.get(c)!.securityContext as any)?.runAsUser === undefined));
    for (const c of COMPONENTS) assert.equal(procOf(kn, c)[0]?.uids[0], 0, `${c} runs as root after rollback`);
    // The cluster works on the new release: the API answers, the node is listed, a write goes through.
    assert.equal((await kubectl(kn, ['get', '--raw', '/readyz'])).trim(), 'ok');
    assert.match(await kubectl(kn, ['get', 'nodes', '-o', 'name']), new RegExp(`node/${kn.node.hostname}`));
    assert.equal(JSON.parse(await kubectl(kn, ['get', '--raw', '/version'])).gitVersion, TO, `the API server is still ${TO}`);
    await kubectl(kn, ['create', 'configmap', 'kn-after-rollback', '--from-literal=k=v']);
    assert.equal(await kubectl(kn, ['get', 'configmap', 'kn-after-rollback', '-o', 'jsonpath={.data.k}']), 'v');
    // Migrate again for the rest of the flow (the accounts were removed: take the IDs from the node again).
    const a = await tool(kn, ['apply', '--yes', '--timeout', '5m']);
    assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
    assert.equal((await tool(kn, ['verify'])).code, 0);
    for (const c of COMPONENTS) ids.set(c, passwdIds(c, plan));
    await waitMirrorPodsReady(kn, 300_000);
  });

  test('kubeadm upgrade apply without the patches: verify reports the regenerated manifests, apply fixes them', async () => {
    const r = await kn.node.exec(['kubeadm', 'upgrade', 'apply', TO, '--yes', ...upgradeFlags()], { timeoutMs: 1_200_000 });
    observe(`${TO}→${TO} kubeadm upgrade apply without patches: exit ${r.code}; output:\n${(r.stdout + r.stderr).split('\n').filter((l) => /\[upgrade|skipping|equal|WARN/i.test(l)).slice(0, 60).join('\n')}`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await waitMirrorPodsReady(kn, 300_000);
    for (const c of upgraded()) assert.equal(procOf(kn, c)[0]?.uids[0], 0, `${c} runs as root after an upgrade without patches`);
    const v = await tool(kn, ['verify']);
    observe(`verify after upgrade without patches: exit ${v.code}\n${v.stdout}`);
    assert.equal(v.code, 1, `${v.stdout}\n${v.stderr}`);
    assert.match(v.stdout, /regenerated/);
    const a = await tool(kn, ['apply', '--yes', '--timeout', '5m']);
    assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
    assert.equal((await tool(kn, ['verify'])).code, 0);
    await waitMirrorPodsReady(kn, 300_000);
    assertSameIds('after apply following the upgrade without patches');
  });

  test('rollback of that apply: what the upgrade made root is root again, the API healthy', async () => {
    // rollback undoes the latest run: the apply after the patch-less upgrade, which re-migrated only what
    // that upgrade regenerated. With --etcd-upgrade=false etcd was not regenerated, so it keeps its
    // identity (observed, v1.36.3 → v1.37.2); `revert` below is what makes every component root.
    const r = await tool(kn, ['rollback', '--yes', '--timeout', '5m']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    await waitMirrorPodsReady(kn, 300_000);
    for (const c of COMPONENTS) {
      const want = upgraded().includes(c) ? 0 : ids.get(c)!.uid;
      assert.equal(procOf(kn, c)[0]?.uids[0], want, `${c} runs as ${want ? 'its user' : 'root'} after rollback`);
    }
    assert.equal((await kubectl(kn, ['get', '--raw', '/readyz'])).trim(), 'ok');
  });

  test('apply, then revert', async () => {
    const a = await tool(kn, ['apply', '--yes', '--timeout', '5m']);
    assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
    assert.equal((await tool(kn, ['verify'])).code, 0);
    const r = await tool(kn, ['revert', '--yes', '--timeout', '5m']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    await waitMirrorPodsReady(kn, 300_000);
    for (const c of COMPONENTS) assert.equal(procOf(kn, c)[0]?.uids[0], 0, `${c} runs as root after revert`);
    const passwd = readFileSync(kn.node.path('/etc/passwd'), 'utf8');
    for (const c of COMPONENTS) assert.ok(!passwd.split('\n').some((l) => l.startsWith(`${plan.components.find((x: any) => x.component === c).identity.user}:`)), `revert removed ${c}'s account`);
  });

  /** The manifests as they were before the user-namespace apply (stock kubeadm, after revert). */
  let stockManifests: Map<Comp, string>;
  const manifestText = (c: Comp) => readFileSync(kn.node.path(`/etc/kubernetes/manifests/${c}.yaml`), 'utf8');
  /** Waits until every component runs in a user namespace of its own (a mirror pod's Ready lags behind). */
  async function waitUserns(): Promise<UsernsView[]> {
    const deadline = Date.now() + 300_000;
    for (;;) {
      await waitMirrorPodsReady(kn, 300_000);
      try {
        const views = usernsViews(kn);
        if (views.every((v) => v.uidMap[0]!.outside !== 0)) return views;
      } catch { /* a component between two processes */ }
      if (Date.now() > deadline) throw new Error('not every component runs in a user namespace after 300 s');
      await sleep(2000);
    }
  }
  /** Asserts what a component's own mounts let it read (owner and mode as the kernel shows them through its root). */
  function assertReadsThroughPod(view: UsernsView, path: string, want: boolean): void {
    const { readable, seen } = readableThroughPod(kn, view.proc, path);
    observe(`${view.comp} (host IDs ${view.proc.uids[0]}:${view.proc.gids[0]}) sees ${path} through its mounts as ${seen}`);
    assert.equal(readable, want, `${view.comp} ${want ? 'reads' : 'cannot read'} ${path} through its idmapped mount (${seen})`);
  }
  /** The API serves, writes go through etcd, kube-apiserver signs a token with sa.key for the ServiceAccount the controller-manager made. */
  async function assertClusterServes(tag: string): Promise<void> {
    assert.equal((await kubectl(kn, ['get', '--raw', '/readyz'])).trim(), 'ok');
    await kubectl(kn, ['create', 'configmap', `kn-${tag}`, '--from-literal=k=v']);
    assert.equal(await kubectl(kn, ['get', 'configmap', `kn-${tag}`, '-o', 'jsonpath={.data.k}']), 'v');
    assert.match((await kubectl(kn, ['create', 'token', 'default'])).trim(), /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
  }

  test('apply --user-namespaces only: root:root 0600 keys, unreadable to every component\'s host identity, read through its idmapped mounts', async () => {
    const t0 = Date.now();
    stockManifests = new Map(COMPONENTS.map((c) => [c, manifestText(c)]));
    const before = snapshotFiles(kn, '/etc/kubernetes');
    const a = await tool(kn, ['apply', '--user-namespaces', 'only', '--yes', '--timeout', '5m']);
    timings.usernsOnlyApply = Date.now() - t0;
    observe(`apply --user-namespaces only: exit ${a.code} in ${timings.usernsOnlyApply} ms`);
    assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
    const v = await tool(kn, ['verify']);
    assert.equal(v.code, 0, `${v.stdout}\n${v.stderr}`);
    const views = await waitUserns();
    for (const view of views) {
      observe(`userns only, ${describeView(view)}`);
      assertOwnUserns(view, { uid: 0, gid: 0 });
    }
    // No owner or mode changed: every key and kubeconfig is still kubeadm's root:root 0600.
    for (const [p, st] of snapshotFiles(kn, '/etc/kubernetes')) {
      if (!/\.(key|conf)$/.test(p) || p.includes('/manifests/')) continue;
      assert.deepEqual([st.uid, st.gid, st.mode], [0, 0, 0o600], `${p} stays root:root 0600`);
      assert.deepEqual([st.uid, st.gid, st.mode], [before.get(p)!.uid, before.get(p)!.gid, before.get(p)!.mode], `${p} unchanged by the apply`);
    }
    // The kernel: each component's host identity reads a public file but not its secret by the host's
    // path; through its own (idmapped) mounts the same identity reads it, as the healthy pod does.
    for (const view of views) {
      assert.ok(await readableAs(kn, view.proc, PUBLIC_FILE), `${view.comp}'s host identity reads ${PUBLIC_FILE} (control)`);
      assert.equal(await readableAs(kn, view.proc, OWN_SECRET[view.comp]), false, `${view.comp}'s host identity ${view.proc.uids[0]} cannot read ${OWN_SECRET[view.comp]} on the host`);
      assertReadsThroughPod(view, OWN_SECRET[view.comp], true);
    }
    await assertClusterServes('userns-only');
    measureCis('userns only');
    timings.usernsOnly = Date.now() - t0;
  });

  test('rollback of the user-namespace apply: the stock manifests byte for byte, every component root without a user namespace', async () => {
    const t0 = Date.now();
    const r = await tool(kn, ['rollback', '--yes', '--timeout', '5m']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    for (const c of COMPONENTS) assert.equal(manifestText(c), stockManifests.get(c), `${c}.yaml is byte-equal to before the apply`);
    await waitMirrorPodsReady(kn, 300_000);
    const deadline = Date.now() + 300_000;
    while (!COMPONENTS.every((c) => procOf(kn, c).length === 1 && procOf(kn, c)[0]!.uids[0] === 0)) {
      if (Date.now() > deadline) throw new Error('not every component runs as root in the host user namespace after rollback');
      await sleep(2000);
    }
    for (const view of usernsViews(kn)) assert.equal(view.uidMap[0]!.outside, 0, `${view.comp} runs in the host's user namespace again`);
    timings.usernsRollback = Date.now() - t0;
  });

  test('apply --user-namespaces with-accounts: no component\'s host identity reads another\'s secret, each reads its own only through its pod', async () => {
    const t0 = Date.now();
    const a = await tool(kn, ['apply', '--user-namespaces', 'with-accounts', '--yes', '--timeout', '5m']);
    observe(`apply --user-namespaces with-accounts: exit ${a.code} in ${Date.now() - t0} ms`);
    assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
    const v = await tool(kn, ['verify']);
    assert.equal(v.code, 0, `${v.stdout}\n${v.stderr}`);
    const views = await waitUserns();
    for (const view of views) {
      observe(`userns with-accounts, ${describeView(view)}`);
      const want = passwdIds(view.comp, plan);
      assertOwnUserns(view, want);
      assert.ok(await readableAs(kn, view.proc, PUBLIC_FILE), `${view.comp}'s host identity reads ${PUBLIC_FILE} (control)`);
      assert.equal(await readableAs(kn, view.proc, OTHERS_SECRET[view.comp]), false, `${view.comp}'s host identity cannot read ${OTHERS_SECRET[view.comp]}`);
      assert.equal(await readableAs(kn, view.proc, OWN_SECRET[view.comp]), false, `${view.comp}'s host identity cannot read its own ${OWN_SECRET[view.comp]} on the host either`);
      assertReadsThroughPod(view, OWN_SECRET[view.comp], true);
    }
    // kube-controller-manager mounts all of pki: even through its own mounts, kube-apiserver's key is not its.
    const kcm = views.find((x) => x.comp === 'kube-controller-manager')!;
    assertReadsThroughPod(kcm, '/etc/kubernetes/pki/apiserver.key', false);
    await assertClusterServes('userns-with-accounts');
    measureCis('userns with-accounts');
    timings.usernsWithAccounts = Date.now() - t0;
  });

  test('CIS 1.1 as measured in the four layouts matches docs/ownership.md', () => {
    assert.deepEqual(cis.map((r) => r.mode), ['stock kubeadm', 'non-root', 'userns only', 'userns with-accounts']);
    checkCisTable(cis);
  });

  test('kubeadm reset', async () => {
    const reset = await kn.node.exec(['kubeadm', 'reset', '--force', '--v=1'], { timeoutMs: 600_000 });
    observe(`${TO} kubeadm reset --force: exit ${reset.code}; left: /etc/kubernetes: ${listTree('/etc/kubernetes').join(', ') || '(empty)'}; /var/lib/etcd: ${listTree('/var/lib/etcd').join(', ') || '(empty)'}; /var/lib/kubelet: ${readdirSync(kn.node.path('/var/lib/kubelet')).join(', ')}`);
    assert.equal(reset.code, 0, reset.stdout + reset.stderr);
  });
});

let to: Release;
function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string, depth: number): void => {
    let entries: string[];
    try { entries = readdirSync(kn.node.path(rel)); } catch { return; }
    for (const e of entries) {
      const p = `${rel}/${e}`;
      const st = statSync(kn.node.path(p));
      out.push(`${p} ${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`);
      if (st.isDirectory() && depth < 2) walk(p, depth + 1);
    }
  };
  walk(dir, 0);
  return out;
}
