// The journal: an append-only JSON-lines file in the backup directory. Every change is recorded with
// its undo BEFORE it is made ("intent", fsynced before the change starts) and marked when it is
// finished ("done"). A run killed at any instant (SIGKILL, power loss) therefore leaves a journal from
// which rollback can undo everything that might have happened: undo operations are idempotent, so
// undoing an intent whose change never happened is harmless.
//
// Which records are fsynced (appendDurable) and which are not (appendLine):
// - fsynced: begin, resume, intent (before its change: rollback must know of every change that may have
//   happened), commit, rollback-begin, rollback-done (the run's outcome: statusOf reads only these).
// - not fsynced: done, undone, gate — progress marks that protect no change. A killed process loses
//   none of them (the write reached the kernel before the next step); a power failure may lose those
//   written since the last fsync, and fsync(2) of the file makes them durable together with the next
//   fsynced record. What losing each means, as the code reads them:
//   - done: rollback ignores it (it undoes every intent, done or not). Only a resumed apply reads it:
//     for a step without done it removes the temp file the undo names (a finished step renamed that
//     temp away, so nothing is there to remove), and it gates a manifest the interrupted run wrote
//     from done.at (without it, from 0: the gate still waits for a process running as the new uid and
//     answering its probe, which only a process started from the new manifest does). A step whose
//     change happened is not redone: the resumed run plans from the node, where it is already made.
//   - undone: a later rollback runs that undo again, which is idempotent (src/apply/undo.ts: each undo
//     checks the current state first, or writes the same result).
//   - gate: a resumed apply waits for that component's health once more.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { appendDurable, appendLine, syncDir } from '../fs/atomic.js';
import type { RecordedManifestEdit } from './record.types.js';
import type { Xattr } from '../fs/xattr.js';

export type Undo =
  | { kind: 'delete-group'; name: string }
  | { kind: 'delete-user'; name: string }
  /** Undo of revert's account removal: create it again with the same IDs and memberships. */
  | { kind: 'recreate-group'; name: string; gid: number }
  | { kind: 'recreate-user'; name: string; uid: number; gid: number; group: string; supplementaryGroups: string[]; shell: string; home: string; comment: string }
  | { kind: 'remove-members'; group: string; members: string[] }
  /** Restore account files byte-for-byte from backupDir/accounts when shadow-utils left them otherwise. */
  | { kind: 'restore-account-files'; files: AccountFileRecord[] }
  | { kind: 'restore-owner-mode'; path: string; uid: number; gid: number; mode: number; temp?: string }
  /**
   * Restore a directory tree's owners: entries owned by appliedOwner (what apply gave them; absent in old
   * journals) back to the default owner, then the exceptions from backupDir/<ownersFile>.
   */
  | { kind: 'restore-tree'; path: string; uid: number; gid: number; mode: number; defaultOwner: [number, number]; ownersFile: string | null; appliedOwner?: [number, number] }
  | { kind: 'remove-directory'; path: string; createdParents: string[] }
  /**
   * sha256: of the saved original; a restore refuses a backup that does not match (torn or altered).
   * writtenSha256 and edits (absent in journals of earlier versions): the sha256 of the text the run wrote, and
   * each field it set. Rollback restores the saved bytes only over exactly what the run wrote; over a
   * manifest rewritten since (kubeadm upgrade --patches) it undoes just those fields (src/apply/manifest-restore.ts).
   */
  | { kind: 'restore-manifest'; path: string; backupFile: string; sha256?: string; uid: number; gid: number; mode: number; temp?: string; writtenSha256?: string; edits?: RecordedManifestEdit[] }
  /**
   * Put the migration record back as it was before the run (src/state/record.ts): `saved`, the copy of
   * the previous record in the backup dir, or null when there was none (the run's record is then kept,
   * marked rolled-back, as history).
   */
  | { kind: 'restore-record'; runId: string; saved: string | null };

export interface AccountFileRecord {
  /** Node path, e.g. /etc/passwd; also the "-" backups shadow-utils keeps (/etc/passwd-). */
  path: string;
  /** Path of the saved copy relative to the backup dir, or null when the file did not exist. */
  saved: string | null;
  uid: number;
  gid: number;
  mode: number;
  /** Its extended attributes when saved (getfattr, base64 values); absent in journals of older versions. */
  xattrs?: Xattr[];
}

export type JournalRecord =
  | { t: 'begin'; op: 'apply' | 'revert'; at: string; pid: number; fingerprint: string; tool: string }
  | { t: 'resume'; at: string; pid: number }
  /** `at`: ms since the epoch when the change started (with done.at, what each step took). */
  | { t: 'intent'; step: string; title: string; undo: Undo | null; at?: number }
  | { t: 'done'; step: string; at: number }
  | { t: 'gate'; component: string; ok: boolean; detail: string }
  | { t: 'commit'; at: string }
  | { t: 'rollback-begin'; at: string; reason: string }
  | { t: 'undone'; step: string; at?: number; took?: number }
  | { t: 'rollback-done'; at: string; failures: string[] };

export type RunStatus = 'applied' | 'rolled-back' | 'unfinished' | 'rollback-unfinished' | 'rollback-failed';

export const JOURNAL_FILE = 'journal.jsonl';

/** Records made durable by the next durable record rather than by their own fsync (see the top of this file). */
const PROGRESS_ONLY: ReadonlySet<JournalRecord['t']> = new Set(['done', 'undone', 'gate']);

export class Journal {
  private constructor(readonly dir: string, private records: JournalRecord[]) {}

  static async create(dir: string): Promise<Journal> {
    return new Journal(dir, []);
  }

  static async open(dir: string): Promise<Journal> {
    return new Journal(dir, await readJournal(dir));
  }

  get entries(): readonly JournalRecord[] {
    return this.records;
  }

  async record(r: JournalRecord): Promise<void> {
    const creating = this.records.length === 0;
    await (PROGRESS_ONLY.has(r.t) ? appendLine : appendDurable)(join(this.dir, JOURNAL_FILE), JSON.stringify(r) + '\n');
    if (creating) await syncDir(this.dir); // the new file's directory entry must be durable too
    this.records.push(r);
  }

  status(): RunStatus {
    return statusOf(this.records);
  }

  /** Intents in the order they were recorded, with whether they completed and were undone. */
  intents(): Array<{ step: string; title: string; undo: Undo | null; done: boolean; undone: boolean }> {
    const done = new Set(this.records.filter((r) => r.t === 'done').map((r) => (r as { step: string }).step));
    const undone = new Set(this.records.filter((r) => r.t === 'undone').map((r) => (r as { step: string }).step));
    return this.records.flatMap((r) => (r.t === 'intent' ? [{ step: r.step, title: r.title, undo: r.undo, done: done.has(r.step), undone: undone.has(r.step) }] : []));
  }

  begin(): Extract<JournalRecord, { t: 'begin' }> | null {
    return (this.records.find((r) => r.t === 'begin') as Extract<JournalRecord, { t: 'begin' }>) ?? null;
  }
}

export function statusOf(records: readonly JournalRecord[]): RunStatus {
  const last = (t: JournalRecord['t']) => records.map((r) => r.t).lastIndexOf(t);
  const rbBegin = last('rollback-begin');
  const rbDone = last('rollback-done');
  if (rbBegin >= 0) {
    if (rbDone < rbBegin) return 'rollback-unfinished';
    const done = records[rbDone] as Extract<JournalRecord, { t: 'rollback-done' }>;
    return done.failures.length ? 'rollback-failed' : 'rolled-back';
  }
  return last('commit') > Math.max(last('intent'), last('resume')) ? 'applied' : 'unfinished';
}

export async function readJournal(dir: string): Promise<JournalRecord[]> {
  const path = join(dir, JOURNAL_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: JournalRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as JournalRecord);
    } catch {
      // A torn last line is what a kill during append leaves: the change it announced never started.
      if (i === lines.length - 1 || lines.slice(i + 1).every((l) => !l)) break;
      throw new InputError(`journal line ${i + 1} is corrupt; inspect it before rolling back by hand`, path);
    }
  }
  return out;
}
