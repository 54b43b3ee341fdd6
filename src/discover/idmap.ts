// A process's user namespace as the host sees it: /proc/PID/uid_map and gid_map (user_namespaces(7)),
// one "inside outside count" range per line. Read through --proc, as the health gates and verify read
// the rest of /proc. The initial namespace's map is the identity "0 0 4294967295".
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface IdRange {
  inside: number;
  outside: number;
  count: number;
}

/** The ranges of a uid_map or gid_map text; null when a line is not three numbers. */
export function parseIdMap(text: string): IdRange[] | null {
  const ranges: IdRange[] = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const m = /^(\d+)\s+(\d+)\s+(\d+)$/.exec(line);
    if (!m) return null;
    ranges.push({ inside: Number(m[1]), outside: Number(m[2]), count: Number(m[3]) });
  }
  return ranges;
}

/** The initial user namespace's map, every ID mapped to itself: the process shares the host's IDs. */
export function isIdentityMap(ranges: readonly IdRange[]): boolean {
  return ranges.length === 1 && ranges[0]!.inside === 0 && ranges[0]!.outside === 0 && ranges[0]!.count === 4294967295;
}

/** The ID inside the namespace of a host ID (what /proc/PID/status shows to the host); null when unmapped. */
export function insideId(ranges: readonly IdRange[], hostId: number): number | null {
  const r = ranges.find((x) => hostId >= x.outside && hostId < x.outside + x.count);
  return r ? hostId - r.outside + r.inside : null;
}

/** The host ID of an ID inside the namespace; null when unmapped. */
export function outsideId(ranges: readonly IdRange[], id: number): number | null {
  const r = ranges.find((x) => id >= x.inside && id < x.inside + x.count);
  return r ? id - r.inside + r.outside : null;
}

/** A process's uid_map and gid_map from `<proc>/<pid>/`; null when unreadable (it exited, or no such file). */
export async function readIdMaps(proc: string, pid: number): Promise<{ uid: IdRange[]; gid: IdRange[] } | null> {
  try {
    const [uid, gid] = await Promise.all([readFile(join(proc, String(pid), 'uid_map'), 'utf8'), readFile(join(proc, String(pid), 'gid_map'), 'utf8')]);
    const u = parseIdMap(uid);
    const g = parseIdMap(gid);
    return u && g ? { uid: u, gid: g } : null;
  } catch {
    return null;
  }
}
