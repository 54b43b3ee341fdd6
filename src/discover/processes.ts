// The processes running on the node, from /proc (proc(5)): each one's command line, real/effective/
// saved/filesystem UIDs and GIDs, and start time. apply's health gates and verify both ask which
// process runs a component.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Component } from '../model/components.js';

export interface ProcInfo {
  pid: number;
  argv: string[];
  /** Real, effective, saved, filesystem UIDs (Uid: line of /proc/PID/status). */
  uids: number[];
  /** Same for GIDs (Gid: line). */
  gids: number[];
  /** Start time, ms since the epoch. */
  startedAt: number;
}

const CLK_TCK = 100; // USER_HZ: 100 on every Linux architecture the tool ships for (x86_64, arm64)

async function bootTimeMs(proc: string): Promise<number> {
  const stat = await readFile(join(proc, 'stat'), 'utf8');
  const m = /^btime (\d+)$/m.exec(stat);
  return m ? Number(m[1]) * 1000 : 0;
}

export async function listProcesses(proc = '/proc'): Promise<ProcInfo[]> {
  const boot = await bootTimeMs(proc);
  const out: ProcInfo[] = [];
  for (const name of await readdir(proc)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const [cmdline, status, stat] = await Promise.all([
        readFile(join(proc, name, 'cmdline'), 'utf8'),
        readFile(join(proc, name, 'status'), 'utf8'),
        readFile(join(proc, name, 'stat'), 'utf8'),
      ]);
      if (!cmdline) continue; // kernel threads and zombies
      const uids = (/^Uid:\s+(.*)$/m.exec(status)?.[1] ?? '').trim().split(/\s+/).map(Number);
      const gids = (/^Gid:\s+(.*)$/m.exec(status)?.[1] ?? '').trim().split(/\s+/).map(Number);
      const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      out.push({ pid: Number(name), argv: cmdline.replace(/\0$/, '').split('\0'), uids, gids, startedAt: boot + (start * 1000) / CLK_TCK });
    } catch {
      /* the process went away while we read it */
    }
  }
  return out;
}

/**
 * Does this process run the component? Its binary name must be the component's, and every flag of the
 * manifest whose value is not a host path must be on its command line (so that, with several nodes'
 * sandboxes on one machine, the etcd on port 23791 is not mistaken for the one on 23792).
 */
export function runsComponent(p: ProcInfo, component: Component, manifestArgv: string[]): boolean {
  const bin = p.argv[0]?.split('/').pop();
  if (bin !== component) return false;
  const identifying = manifestArgv.slice(1).filter((a) => a.startsWith('--') && !/=\//.test(a) && !a.includes(',/'));
  return identifying.every((a) => p.argv.includes(a));
}
