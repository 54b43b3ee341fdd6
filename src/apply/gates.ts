// Health gates: after a component's manifest is written, wait until (1) the kubelet has restarted it
// under the expected identity — a process of that component, not one we saw before the write, running
// with the expected UID and started after the write — and (2) the component's own probe from its
// manifest (startupProbe, else livenessProbe) answers 2xx. Waiting for a NEW process matters: the old
// pod's endpoint stays healthy until it is replaced, which would make the gate pass falsely (kubeadm's
// upgrade waits for the mirror pod hash to change for the same reason, phases/upgrade/staticpods.go).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { insideId, isIdentityMap, readIdMaps } from '../discover/idmap.js';
import { listProcesses, runsComponent, type ProcInfo } from '../discover/processes.js';
import type { Component } from '../model/components.js';
import { parsePod } from '../model/pod.js';
import type { HttpProbe } from '../model/pod.types.js';
import { setTimeout as sleep } from 'node:timers/promises';

function gateProbe(manifestText: string, path: string): HttpProbe | null {
  const pod = parsePod(manifestText, path);
  return pod.probes.find((p) => p.kind === 'startupProbe') ?? pod.probes.find((p) => p.kind === 'livenessProbe') ?? null;
}

async function probeOnce(p: HttpProbe, timeoutMs = 2000): Promise<{ ok: boolean; detail: string }> {
  const req = p.scheme === 'HTTPS' ? httpsRequest : httpRequest;
  const host = p.host ?? '127.0.0.1';
  return new Promise((resolve) => {
    const r = req(
      // Like the kubelet's prober, do not verify the serving certificate (pkg/probe/http).
      { host, port: p.port, path: p.path, method: 'GET', timeout: timeoutMs, rejectUnauthorized: false },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 300, detail: `${p.scheme} ${host}:${p.port}${p.path} answered ${code}` });
      },
    );
    r.on('timeout', () => r.destroy(new Error('timed out')));
    r.on('error', (e) => resolve({ ok: false, detail: `${p.scheme} ${host}:${p.port}${p.path}: ${e.message}` }));
    r.end();
  });
}

export interface GateSpec {
  component: Component;
  manifestPath: string;
  manifestText: string;
  /** The UID (and GID) the restarted process must run as (inside its user namespace when `userNamespace`). */
  uid: number;
  gid?: number;
  /**
   * The pod runs with hostUsers: false: the process must be in a user namespace of its own (its
   * uid_map not the identity) and `uid`/`gid` are its IDs there; the host sees them mapped to the
   * kubelet's range for the pod.
   */
  userNamespace?: boolean;
  /** PIDs of this component seen before the manifest was written. */
  before: Set<number>;
  /** When the manifest was written (ms since the epoch). */
  writtenAt: number;
  timeoutMs: number;
  proc: string;
  signal: AbortSignal;
  onProgress?: (msg: string) => void;
  /**
   * Called once, as soon as none of the processes seen before the write is alive any more. The old
   * process ran as root until the kubelet stopped it, and may have created files (a WAL segment, a
   * snapshot) after the files step changed their directory's owner; the caller re-applies that
   * ownership here, so a new process that failed on them succeeds on its next restart.
   */
  onOldGone?: () => Promise<void>;
}

export async function pidsOf(component: Component, manifestText: string, path: string, proc: string): Promise<Set<number>> {
  const argv = parsePod(manifestText, path).argv;
  return new Set((await listProcesses(proc)).filter((p) => runsComponent(p, component, argv)).map((p) => p.pid));
}

/**
 * The process with its IDs as its own user namespace sees them, when the gate expects one: a process
 * in the host's namespace (identity map) or with unreadable maps gets -1s, which never match.
 */
async function asSeenInside(p: ProcInfo, g: Pick<GateSpec, 'proc' | 'userNamespace'>): Promise<ProcInfo> {
  if (!g.userNamespace) return p;
  const maps = await readIdMaps(g.proc, p.pid);
  if (!maps || isIdentityMap(maps.uid)) return { ...p, uids: p.uids.map(() => -1), gids: p.gids.map(() => -1) };
  return { ...p, uids: p.uids.map((u) => insideId(maps.uid, u) ?? -1), gids: p.gids.map((x) => insideId(maps.gid, x) ?? -1) };
}

/** Resolves with a description when healthy; rejects with the last observation on timeout or abort. */
export async function waitHealthy(g: GateSpec): Promise<string> {
  const argv = parsePod(g.manifestText, g.manifestPath).argv;
  const probe = gateProbe(g.manifestText, g.manifestPath);
  const deadline = Date.now() + g.timeoutMs;
  let last = 'no observation yet';
  // /proc start times have 10 ms ticks and btime whole seconds: allow one second of slack.
  const since = g.writtenAt - 1000;
  let settled = !g.onOldGone;
  while (true) {
    if (g.signal.aborted) throw new Error(`${g.component}: interrupted while waiting for it to become healthy (${last})`);
    const all = await listProcesses(g.proc);
    if (!settled && !all.some((p) => g.before.has(p.pid))) {
      settled = true;
      await g.onOldGone!();
    }
    const mine = await Promise.all(all.filter((p) => runsComponent(p, g.component, argv) && !g.before.has(p.pid) && p.startedAt >= since).map((p) => asSeenInside(p, g)));
    const right = mine.find((p) => p.uids[0] === g.uid && p.uids[1] === g.uid && (g.gid === undefined || (p.gids[0] === g.gid && p.gids[1] === g.gid)));
    if (!right) {
      last = mine.length ? `a new ${g.component} process runs as uid ${mine[0]!.uids[1]} gid ${mine[0]!.gids[1]}, expected ${g.uid}${g.gid === undefined ? '' : ` gid ${g.gid}`}` : `no new ${g.component} process since the manifest was written`;
    } else if (!probe) {
      return `pid ${right.pid} runs as uid ${g.uid} (the manifest has no HTTP probe)`;
    } else {
      const r = await probeOnce(probe);
      if (r.ok) return `pid ${right.pid} runs as uid ${g.uid}; ${r.detail}`;
      last = `pid ${right.pid} runs as uid ${g.uid}; ${r.detail}`;
    }
    g.onProgress?.(last);
    if (Date.now() >= deadline) throw new Error(`${g.component} did not become healthy within ${Math.round(g.timeoutMs / 1000)}s: ${last}`);
    await sleep(500);
  }
}
