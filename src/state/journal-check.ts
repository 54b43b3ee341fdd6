// The journal is input: it may be copied from another node or root, or altered by hand. Before rollback
// or a resuming apply acts on an unfinished journal, every name it holds is checked here — one check for
// both paths, so neither can be made to delete, re-own or restore anything the tool never wrote.
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import { isTempNameFor } from '../fs/atomic.js';
import { ACCOUNT_NAME_RE } from '../model/account-names.js';
import { GROUP_PATH, GSHADOW_PATH, PASSWD_PATH, SHADOW_PATH } from '../model/node-paths.js';
import type { JournalRecord, Undo } from './journal.js';

/** The account databases and the "-" copies shadow-utils keeps: the only files restore-account-files may name. */
const ACCOUNT_DATABASES = new Set([PASSWD_PATH, GROUP_PATH, SHADOW_PATH, GSHADOW_PATH].flatMap((p) => [p, `${p}-`]));

/** A clean absolute node path: no "", "." or ".." segments, no trailing slash. */
function isNodePath(p: unknown): p is string {
  if (typeof p !== 'string' || !p.startsWith('/') || p === '/') return false;
  return p.slice(1).split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/** A plain relative path inside the backup directory (src/state/backup-file.ts accepts the same). */
function isBackupName(p: unknown): boolean {
  return typeof p === 'string' && p !== '' && !p.startsWith('/') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/**
 * Is `recorded` a temp file the tool made for node path `nodePath` (src/fs/atomic.ts tempNameFor)? Its
 * base name must be the tool's temp name for that very file. The directory part is the host path the run
 * resolved (through the root it used, and any link in the path's parents), so it is never used: the temp
 * is looked for only next to the journaled path under THIS root.
 */
export function isOwnTempFor(nodePath: string, recorded: string): boolean {
  return isTempNameFor(nodePath, basename(recorded));
}

/** What is wrong with one journaled undo, or null when every name it holds is one the tool could have written. */
export function undoProblem(u: Undo): string | null {
  switch (u.kind) {
    case 'delete-user':
    case 'delete-group':
    case 'recreate-group':
    case 'recreate-user':
      return ACCOUNT_NAME_RE.test(u.name) && u.name !== 'root' ? null : `account name "${u.name}" is not one the tool creates`;
    case 'remove-members':
      return ACCOUNT_NAME_RE.test(u.group) && u.members.every((m) => ACCOUNT_NAME_RE.test(m) && m !== 'root') ? null : `group "${u.group}" or members ${u.members.join(',')} are not account names the tool uses`;
    case 'restore-account-files': {
      const bad = u.files.find((f) => !ACCOUNT_DATABASES.has(f.path) || (f.saved !== null && !isBackupName(f.saved)));
      return bad ? `account file record ${bad.path} (saved as ${String(bad.saved)}) is not an account database with a copy inside the backup directory` : null;
    }
    case 'restore-owner-mode':
    case 'restore-manifest': {
      if (!isNodePath(u.path)) return `path "${u.path}" is not a clean absolute node path`;
      if (u.temp !== undefined && !isOwnTempFor(u.path, u.temp)) return `temp name "${u.temp}" is not the tool's temp name for ${u.path}`;
      if (u.kind === 'restore-manifest' && !isBackupName(u.backupFile)) return `backup file "${u.backupFile}" is not inside the backup directory`;
      if (u.kind === 'restore-manifest' && u.edits?.some((e) => e.path !== u.path)) return `a recorded edit of ${u.path} names another file`;
      return null;
    }
    case 'restore-tree':
      if (!isNodePath(u.path)) return `path "${u.path}" is not a clean absolute node path`;
      return u.ownersFile === null || isBackupName(u.ownersFile) ? null : `owners file "${u.ownersFile}" is not inside the backup directory`;
    case 'remove-directory': {
      const bad = [u.path, ...u.createdParents].find((p) => !isNodePath(p));
      return bad === undefined ? null : `path "${bad}" is not a clean absolute node path`;
    }
    case 'restore-record':
      if (!/^[0-9A-Za-z.:-]+$/.test(u.runId)) return `run id "${u.runId}" is not a backup id`;
      return u.saved === null || isBackupName(u.saved) ? null : `saved record "${u.saved}" is not inside the backup directory`;
    default:
      return `unknown undo kind "${(u as { kind: unknown }).kind as string}"`;
  }
}

/** Every journal intent whose undo names something the tool could not have written, as "step: why". */
export function journalProblems(records: readonly JournalRecord[]): string[] {
  return records.flatMap((r) => {
    if (r.t !== 'intent' || r.undo === null) return [];
    const why = undoProblem(r.undo);
    return why === null ? [] : [`step ${r.step} ("${r.title}"): ${why}`];
  });
}

/**
 * Refuse (exit 2, nothing touched) a journal holding any record the tool could not have written. Called
 * by rollback and by a resuming apply before either acts on it.
 */
export function assertJournalTrusted(records: readonly JournalRecord[], journalPath: string): void {
  const problems = journalProblems(records);
  if (problems.length === 0) return;
  throw new InputError(`holds records this tool never writes (${problems.slice(0, 2).join('; ')}${problems.length > 2 ? `; and ${problems.length - 2} more` : ''}); refusing to act on it — it was copied from elsewhere or altered: compare it with the node and undo by hand, then move its backup directory away`, journalPath);
}
