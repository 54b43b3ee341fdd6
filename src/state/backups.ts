// The backups directory: one folder per apply, each with its plan, journal and saved originals.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Journal, type RunStatus } from './journal.js';
import { backupsHostDir } from './locations.js';

export interface BackupInfo {
  id: string;
  dir: string;
  op: 'apply' | 'revert' | 'unknown';
  status: RunStatus;
  startedAt: string | null;
  changes: number;
}

export async function listBackups(root: string): Promise<BackupInfo[]> {
  const base = backupsHostDir(root);
  let names: string[];
  try {
    names = (await readdir(base, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: BackupInfo[] = [];
  for (const id of names) {
    const dir = join(base, id);
    const j = await Journal.open(dir);
    const begin = j.begin();
    out.push({ id, dir, op: begin?.op ?? 'unknown', status: j.status(), startedAt: begin?.at ?? null, changes: j.intents().length });
  }
  return out;
}

/** The most recent run that was neither committed nor completely rolled back (an apply must not stack on it), if any. */
export function unfinished(backups: BackupInfo[]): BackupInfo | null {
  const last = backups[backups.length - 1];
  return last && (last.status === 'unfinished' || last.status === 'rollback-unfinished' || last.status === 'rollback-failed') ? last : null;
}

/**
 * The rolled-back apply that leaves this node unmigrated, if any: the latest run was rolled back (an
 * apply, or a revert run after it), the latest apply was rolled back, and no apply stands. Then the
 * node is unmigrated even where `rollback --keep-accounts` kept the accounts. Any apply still 'applied'
 * means the node was migrated and stays so (a rolled-back revert puts that migration back).
 */
export function rolledBackApply(backups: BackupInfo[]): BackupInfo | null {
  const last = backups[backups.length - 1];
  const applies = backups.filter((b) => b.op === 'apply');
  const lastApply = applies[applies.length - 1];
  if (last?.status !== 'rolled-back' || lastApply?.status !== 'rolled-back' || applies.some((b) => b.status === 'applied')) return null;
  return lastApply;
}
