// Unix permission evaluation for a non-root process, as the kernel does it (generic_permission() in
// fs/namei.c): exactly one class applies — owner if the fsuid matches, else group if the file's gid is
// the process's gid or one of its supplementary groups, else other. Root is never asked here: the
// components we plan for are non-root by construction.
import type { FileStat } from './node.js';

export interface ProcessIdentity {
  uid: number;
  gid: number;
  groups: number[];
}

type Want = 'read' | 'write' | 'search';

const BITS: Record<Want, number> = { read: 4, write: 2, search: 1 };

/** The permission triplet (0-7) that applies to this identity for this file. */
function applicableBits(stat: Pick<FileStat, 'uid' | 'gid' | 'mode'>, who: ProcessIdentity): number {
  if (stat.uid === who.uid) return (stat.mode >> 6) & 7;
  if (stat.gid === who.gid || who.groups.includes(stat.gid)) return (stat.mode >> 3) & 7;
  return stat.mode & 7;
}

export function can(stat: Pick<FileStat, 'uid' | 'gid' | 'mode'>, who: ProcessIdentity, want: Want): boolean {
  if (who.uid === 0) return true;
  return (applicableBits(stat, who) & BITS[want]) !== 0;
}

export function formatMode(mode: number): string {
  return '0' + (mode & 0o7777).toString(8).padStart(3, '0');
}
