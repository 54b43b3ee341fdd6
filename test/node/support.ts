// Helpers for the real-node flow tests: /proc, files and API downtime as seen inside a KubeNode (the tool
// and the mirror pods: scripts/lib/control-plane.ts).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { KubeNode } from '../../scripts/kube-node.js';
import type { Comp } from '../../scripts/lib/control-plane.js';
import { hostBinariesWithLibraries, type ImageSpec } from '../../scripts/oci-image.js';
import { REPO_ROOT } from '../../scripts/lib/paths.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcStatus { pid: number; uids: number[]; gids: number[]; groups: number[]; capBnd: bigint; capEff: bigint; seccomp: number; noNewPrivs: number }

/** The node's process of a component (its binary name as argv[0]'s basename), from the node's /proc. */
export function procOf(kn: KubeNode, comp: Comp): ProcStatus[] {
  const proc = kn.node.path('/proc');
  const found: ProcStatus[] = [];
  for (const d of readdirSync(proc)) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv0 = readFileSync(join(proc, d, 'cmdline'), 'utf8').split('\0')[0] ?? '';
      if (argv0.split('/').pop() !== comp) continue;
      const s = readFileSync(join(proc, d, 'status'), 'utf8');
      const f = (k: string) => (new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(s)?.[1] ?? '').trim();
      found.push({
        pid: Number(d),
        uids: f('Uid').split(/\s+/).map(Number),
        gids: f('Gid').split(/\s+/).map(Number),
        groups: f('Groups').split(/\s+/).filter(Boolean).map(Number),
        capBnd: BigInt(`0x${f('CapBnd')}`),
        capEff: BigInt(`0x${f('CapEff')}`),
        seccomp: Number(f('Seccomp')),
        noNewPrivs: Number(f('NoNewPrivs')),
      });
    } catch { /* gone */ }
  }
  return found;
}

export interface FileStat { ino: number; uid: number; gid: number; mode: number; sha: string }

/** Every regular file under `dir` in the node: inode, owner, mode, content digest. */
export function snapshotFiles(kn: KubeNode, dir: string): Map<string, FileStat> {
  const out = new Map<string, FileStat>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(kn.node.path(rel), { withFileTypes: true })) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = statSync(kn.node.path(p));
        out.set(p, { ino: st.ino, uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, sha: createHash('sha256').update(readFileSync(kn.node.path(p))).digest('hex') });
      }
    }
  };
  walk(dir);
  return out;
}

/** What changed between two snapshots, one line per file, for the observation log. */
export function describeChanges(before: Map<string, FileStat>, after: Map<string, FileStat>): string[] {
  const lines: string[] = [];
  for (const [p, a] of after) {
    const b = before.get(p);
    if (!b) { lines.push(`${p}: new, ${a.uid}:${a.gid} ${a.mode.toString(8)}`); continue; }
    const what: string[] = [];
    if (b.sha !== a.sha) what.push('content');
    if (b.ino !== a.ino) what.push('inode (new file)');
    if (b.uid !== a.uid || b.gid !== a.gid) what.push(`owner ${b.uid}:${b.gid}→${a.uid}:${a.gid}`);
    if (b.mode !== a.mode) what.push(`mode ${b.mode.toString(8)}→${a.mode.toString(8)}`);
    if (what.length) lines.push(`${p}: ${what.join(', ')} (now ${a.uid}:${a.gid} ${a.mode.toString(8)})`);
  }
  for (const p of before.keys()) if (!after.has(p)) lines.push(`${p}: removed`);
  return lines;
}

/**
 * Restarts static pods' containers as an operator can without crictl: SIGTERM to each process (PIDs of
 * the node); the kubelet restarts them. Returns once every component runs as a NEW process (mirror pod
 * status lags behind: it still says Ready right after the kill).
 */
export async function restartComponents(kn: KubeNode, comps: readonly Comp[], timeoutMs = 300_000): Promise<void> {
  const old = new Set(comps.flatMap((c) => procOf(kn, c).map((p) => p.pid)));
  for (const pid of old) await kn.node.run(['kill', String(pid)]);
  const deadline = Date.now() + timeoutMs;
  while (!comps.every((c) => procOf(kn, c).some((p) => !old.has(p.pid)))) {
    if (Date.now() > deadline) throw new Error(`not all of ${comps.join(', ')} restarted within ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

export interface Downtime { polls: number; failed: number; unavailableMs: number; longestMs: number }

/**
 * Polls the API's /livez every 100 ms from inside the node (a daemon, stopped by PID) and, when stopped,
 * reports how long it was unavailable: the sum and the longest run of intervals whose poll failed.
 */
export async function startLivezPoller(kn: KubeNode, name: string): Promise<{ stop(): Promise<Downtime> }> {
  const url = `https://${kn.node.address}:6443/livez`;
  const code = `const https=require('https');const ca=require('fs').readFileSync('/etc/kubernetes/pki/ca.crt');
setInterval(()=>{const t=Date.now();const r=https.get(${JSON.stringify(url)},{ca,timeout:90},(res)=>{res.resume();console.log(t,res.statusCode)});
r.on('timeout',()=>r.destroy(new Error('timeout')));r.on('error',()=>console.log(t,0));},100);`;
  await kn.node.startDaemon(name, [process.execPath, '-e', code]);
  const log = kn.node.daemons.get(name)!.log;
  return {
    async stop(): Promise<Downtime> {
      await kn.node.stopDaemon(name, 2000);
      const polls = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').map(Number) as [number, number]).sort((a, b) => a[0] - b[0]);
      let unavailableMs = 0, longestMs = 0, run = 0, failed = 0;
      for (let i = 0; i < polls.length; i++) {
        const [t, status] = polls[i]!;
        const dt = i + 1 < polls.length ? polls[i + 1]![0] - t : 100;
        if (status !== 200) { failed++; unavailableMs += dt; run += dt; longestMs = Math.max(longestMs, run); } else run = 0;
      }
      return { polls: polls.length, failed, unavailableMs, longestMs };
    },
  };
}

/** The "#!/bin/sh" block of docs/fleet.md, exactly as an operator copies it. */
export function rolloutScript(): string {
  const script = /```sh\n(#!\/bin\/sh\n[\s\S]*?)```/.exec(readFileSync(join(REPO_ROOT, 'docs', 'fleet.md'), 'utf8'))?.[1];
  assert.ok(script, 'no "#!/bin/sh" script block in docs/fleet.md');
  return script;
}

/** The shell commands of a ```sh block of docs/fleet.md (found by `re`, group 1), backslash-continued lines joined. */
export function fleetDocCommands(re: RegExp): string[] {
  const block = re.exec(readFileSync(join(REPO_ROOT, 'docs', 'fleet.md'), 'utf8'))?.[1];
  assert.ok(block, `no such block in docs/fleet.md: ${re}`);
  return block.replace(/\\\n\s*/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
}

/** docs/fleet.md's load-balancer hooks (the `export BEFORE_NODE=… AFTER_NODE=…` block) as printed, for haproxy's stats socket at `statsSocket`. */
export function loadBalancerHooks(statsSocket: string): string {
  const hooks = /### Behind a load balancer[\s\S]*?```sh\n([\s\S]*?)```/.exec(readFileSync(join(REPO_ROOT, 'docs', 'fleet.md'), 'utf8'))?.[1];
  assert.ok(hooks && hooks.includes('export BEFORE_NODE=') && hooks.includes('export AFTER_NODE='), 'the hooks block of docs/fleet.md');
  return hooks.replaceAll('/run/haproxy/admin.sock', statsSocket);
}

/**
 * The image templates/rollout/job.yaml's header asks for, named `name`: the single executable `exe`,
 * glibc and libstdc++ (its loader's needs), shadow-utils and chown (find for trees with hard links),
 * gpasswd and attr's tools, all from this machine with their libraries.
 */
export function toolImage(name: string, exe: string): ImageSpec {
  const bins: Record<string, string> = { 'usr/local/bin/kubeadm-nonroot': exe };
  for (const b of ['useradd', 'groupadd', 'usermod', 'userdel', 'groupdel']) bins[`usr/sbin/${b}`] = `/usr/sbin/${b}`;
  for (const b of ['chown', 'find', 'gpasswd', 'getfattr', 'setfattr']) bins[`usr/bin/${b}`] = `/usr/bin/${b}`;
  return { name, files: hostBinariesWithLibraries(bins) };
}
