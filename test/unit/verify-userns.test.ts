// verify in the user-namespace modes, on a fake procfs (--proc) holding the four components' processes
// as the host sees them: /proc/PID/status with host IDs, /proc/PID/uid_map and gid_map as the kernel
// writes them for a pod with hostUsers: false (user_namespaces(7); the kubelet gives each pod 65536 IDs
// from a multiple of 65536, KEP-127). A process in the host's namespace (identity map "0 0 4294967295")
// or mapped onto host IDs below 65536 is a finding; the IDs a manifest names are compared inside.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { defaultConfig } from '../../src/plan/config.js';
import { buildPlan } from '../../src/plan/plan.js';
import type { Plan } from '../../src/plan/types.js';
import type { UserNamespaceMode } from '../../src/model/userns.js';
import { runtimeFindings } from '../../src/verify/runtime.js';
import { userNamespaceFindings } from '../../src/verify/userns.js';
import { fixtureNode } from '../support/fixture-node.js';

const FIXTURE = 'v1.32-rhel-stacked';
const BASE = 458752; // 7 × 65536
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Fake {
  /** uid_map/gid_map text; default: the pod's own range from BASE. */
  map?: string;
  /** Host uid/gid in status; default: BASE + the planned ID (0 in only). */
  hostId?: number;
  absent?: boolean;
}

/** A procfs with one process per component of the plan, each as the kernel shows a hostUsers: false pod. */
async function fakeProc(plan: Plan, node: ReturnType<typeof fixtureNode>, fakes: Record<string, Fake> = {}): Promise<string> {
  const proc = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-verify-userns-'));
  dirs.push(proc);
  await writeFile(path.join(proc, 'stat'), 'btime 1700000000\n');
  let pid = 1000;
  for (const c of plan.components) {
    const f = fakes[c.component] ?? {};
    if (f.absent) continue;
    const manifest = parse(node.manifests.find((m) => m.path === c.manifest)!.text);
    const argv: string[] = [...(manifest.spec.containers[0].command ?? []), ...(manifest.spec.containers[0].args ?? [])];
    const dir = path.join(proc, String(++pid));
    await mkdir(dir);
    const uid = f.hostId ?? BASE + (c.identity?.uid ?? 0);
    const gid = f.hostId ?? BASE + (c.identity?.gid ?? 0);
    const groups = (c.identity?.supplementalGroups ?? []).map((g) => BASE + g.gid).join(' ');
    await writeFile(path.join(dir, 'cmdline'), argv.join('\0') + '\0');
    await writeFile(path.join(dir, 'status'), `Name:\t${c.component}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${gid}\t${gid}\t${gid}\t${gid}\nGroups:\t${groups}\nNoNewPrivs:\t1\nSeccomp:\t2\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n`);
    await writeFile(path.join(dir, 'stat'), `${pid} (${c.component}) S ${'1 '.repeat(18)}100 0\n`);
    const map = f.map ?? `         0     ${BASE}      65536\n`;
    await writeFile(path.join(dir, 'uid_map'), map);
    await writeFile(path.join(dir, 'gid_map'), map);
  }
  return proc;
}

function planFor(mode: UserNamespaceMode) {
  const node = fixtureNode(FIXTURE);
  return { node, plan: buildPlan(node, { ...defaultConfig(), userNamespaces: mode }, { now: new Date(0) }) };
}

describe('verify: each component in a user namespace of its own', () => {
  it('only: all four in their own namespace from host ID 458752: no finding', async () => {
    const { node, plan } = planFor('only');
    assert.deepEqual(await userNamespaceFindings(plan, node, await fakeProc(plan, node)), []);
  });

  it('a process in the host\'s namespace (identity map), one mapped onto host IDs below 65536, one missing: each named', async () => {
    const { node, plan } = planFor('only');
    const proc = await fakeProc(plan, node, { etcd: { map: '         0          0 4294967295\n', hostId: 0 }, 'kube-scheduler': { map: '0 1000 65536\n' }, 'kube-controller-manager': { absent: true } });
    const findings = await userNamespaceFindings(plan, node, proc);
    assert.deepEqual(findings.map((f) => f.subject.replace(/^pid \d+ /, '')).sort(), ['(etcd)', '(kube-scheduler)', 'kube-controller-manager']);
    assert.match(findings.find((f) => f.subject.endsWith('(etcd)'))!.message, /uid_map is the identity map 0 0 4294967295: it runs in the host's user namespace/);
    assert.match(findings.find((f) => f.subject.endsWith('(kube-scheduler)'))!.message, /uid_map maps onto host IDs below 65536 \(0 1000 65536\)/);
    assert.match(findings.find((f) => f.subject === 'kube-controller-manager')!.message, /no running kube-controller-manager process/);
  });

  it('with-accounts: runAsUser is compared inside the namespace (host uid 458752 + uid is the planned uid)', async () => {
    const { node, plan } = planFor('with-accounts');
    const proc = await fakeProc(plan, node);
    assert.deepEqual(await runtimeFindings(plan, node, proc), []);
    assert.deepEqual(await userNamespaceFindings(plan, node, proc), []);
    // The same host IDs without a namespace of its own: the uid is wrong and the mode is not in force.
    const hostNs = await fakeProc(plan, node, { 'kube-scheduler': { map: '0 0 4294967295\n' } });
    assert.match((await runtimeFindings(plan, node, hostNs)).map((f) => f.message).join('\n'), /Uid 45\d+ .*expected \d+/);
    assert.equal((await userNamespaceFindings(plan, node, hostNs)).length, 1);
  });
});
