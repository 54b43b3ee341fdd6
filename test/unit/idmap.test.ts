// uid_map/gid_map reading (user_namespaces(7): "ID-inside-ns ID-outside-ns length" per line) and the
// health gate's use of it: with hostUsers: false the kubelet maps the pod's IDs 0..65535 to a range of
// its own (KEP-127: a multiple of 65536 from 65536 on), so /proc/PID/status shows the host IDs; the gate
// must see the process inside a user namespace of its own, with the planned IDs there.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { waitHealthy } from '../../src/apply/gates.js';
import { insideId, isIdentityMap, outsideId, parseIdMap } from '../../src/discover/idmap.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('uid_map', () => {
  it('the initial namespace is the identity map; a pod\'s map is not', () => {
    assert.equal(isIdentityMap(parseIdMap('         0          0 4294967295\n')!), true);
    const pod = parseIdMap('         0  458752      65536\n')!;
    assert.equal(isIdentityMap(pod), false);
    assert.equal(insideId(pod, 458752 + 2001), 2001);
    assert.equal(outsideId(pod, 0), 458752);
    assert.equal(insideId(pod, 2001), null, 'a host ID outside the range is unmapped');
    assert.equal(parseIdMap('0 0\n'), null);
  });
});

/** A fake procfs with one kube-scheduler process: its status IDs as the host sees them, and its maps. */
async function fakeProc(hostUid: number, uidMap: string): Promise<string> {
  const proc = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-idmap-'));
  dirs.push(proc);
  await writeFile(path.join(proc, 'stat'), 'cpu 0 0 0 0\nbtime 1700000000\n');
  const pid = path.join(proc, '4242');
  await mkdir(pid);
  await writeFile(path.join(pid, 'cmdline'), 'kube-scheduler\0--secure-port=10259\0');
  await writeFile(path.join(pid, 'status'), `Name:\tkube-scheduler\nUid:\t${hostUid}\t${hostUid}\t${hostUid}\t${hostUid}\nGid:\t${hostUid}\t${hostUid}\t${hostUid}\t${hostUid}\n`);
  // start time far after btime, so "started after the write" holds for writtenAt 0
  await writeFile(path.join(pid, 'stat'), `4242 (kube-scheduler) S ${'1 '.repeat(18)}999999999 0\n`);
  await writeFile(path.join(pid, 'uid_map'), uidMap);
  await writeFile(path.join(pid, 'gid_map'), uidMap);
  return proc;
}

const MANIFEST = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-scheduler\n  namespace: kube-system\nspec:\n  hostNetwork: true\n  hostUsers: false\n  containers:\n  - name: kube-scheduler\n    image: registry.k8s.io/kube-scheduler:v1.36.3\n    command:\n    - kube-scheduler\n    - --secure-port=10259\n';

function gate(proc: string, uid: number, userNamespace: boolean) {
  return waitHealthy({ component: 'kube-scheduler', manifestPath: '/m/kube-scheduler.yaml', manifestText: MANIFEST, uid, gid: uid, userNamespace, before: new Set(), writtenAt: 0, timeoutMs: 1, proc, signal: new AbortController().signal });
}

describe('health gate in a user namespace', () => {
  it('root inside the pod\'s own namespace (userns only): healthy; the same IDs seen without a namespace: not', async () => {
    const proc = await fakeProc(458752, '0 458752 65536\n');
    assert.match(await gate(proc, 0, true), /pid 4242 runs as uid 0/);
    await assert.rejects(gate(proc, 0, false), /runs as uid 458752 gid 458752, expected 0/);
  });

  it('uid 2004 inside (with-accounts) is host uid 458752 + 2004', async () => {
    const proc = await fakeProc(458752 + 2004, '0 458752 65536\n');
    assert.match(await gate(proc, 2004, true), /runs as uid 2004/);
  });

  it('a process in the host\'s namespace (identity map) never passes a user-namespace gate, even as the planned uid', async () => {
    const proc = await fakeProc(2004, '0 0 4294967295\n');
    await assert.rejects(gate(proc, 2004, true), /did not become healthy/);
    assert.match(await gate(proc, 2004, false), /runs as uid 2004/);
  });
});
