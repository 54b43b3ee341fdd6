// The backups directory: one folder per apply, each with its plan, journal and saved originals.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Journal, type RunStatus } from './journal.js';
import type { RunJournal } from './history.js';
import { backupsHostDir } from './locations.js';

export interface BackupInfo {
  id: string;
  dir: string;
  op: 'apply' | 'revert' | 'unknown';
  status: RunStatus;
  startedAt: string | null;
  changes: number;
}

/** Each run's backup directory with its journal, oldest first (ids sort by start time). */
async function openRuns(root: string): Promise<Array<{ id: string; dir: string; journal: Journal }>> {
  const base = backupsHostDir(root);
  let names: string[];
  try {
    names = (await readdir(base, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: Array<{ id: string; dir: string; journal: Journal }> = [];
  for (const id of names) out.push({ id, dir: join(base, id), journal: await Journal.open(join(base, id)) });
  return out;
}

export async function listBackups(root: string): Promise<BackupInfo[]> {
  return (await openRuns(root)).map(({ id, dir, journal: j }) => {
    const begin = j.begin();
    return { id, dir, op: begin?.op ?? 'unknown', status: j.status(), startedAt: begin?.at ?? null, changes: j.intents().length };
  });
}

/** Every run's journal, for replayJournals (src/state/history.ts). */
export async function readRunJournals(root: string): Promise<RunJournal[]> {
  return (await openRuns(root)).map(({ id, journal: j }) => ({ id, op: j.begin()?.op ?? 'unknown', records: j.entries }));
}

