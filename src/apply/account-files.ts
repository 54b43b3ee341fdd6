// Byte-exact safety net for the account databases. Accounts are removed with userdel/groupdel on
// rollback; afterwards /etc/passwd, /etc/group, /etc/shadow, /etc/gshadow must be byte-identical to
// before the apply. shadow-utils also rotates the "-" backup copies (/etc/passwd- …), which we put
// back too. If a file differs from the saved copy in more than our own accounts' lines (someone added a
// user since the apply), it is left alone and reported: never clobber an operator's later change.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { safeHostPath } from '../paths.js';
import { withAccountLocks } from './account-lock.js';
import { backupFile } from '../state/backup-file.js';
import { publishFile, writeDurable } from '../fs/atomic.js';
import { readXattrs, sameXattrs } from '../fs/xattr.js';
import { ownerModeOf, sameOwnerMode } from './fsops.js';
import type { AccountFileRecord } from '../state/journal.js';
import { GROUP_PATH, GSHADOW_PATH, PASSWD_PATH, SHADOW_PATH } from '../model/node-paths.js';

export const ACCOUNT_FILES = [PASSWD_PATH, GROUP_PATH, SHADOW_PATH, GSHADOW_PATH];
const ALL = ACCOUNT_FILES.flatMap((p) => [p, `${p}-`]);

/** Copies go to backupDir/<subdir>/ — a resumed run takes its own snapshot and must not overwrite the first. */
export async function snapshotAccountFiles(root: string, backupDir: string, subdir: string): Promise<AccountFileRecord[]> {
  const out: AccountFileRecord[] = [];
  for (const p of ALL) {
    const host = safeHostPath(root, p); // refuses a symlinked account file: shadow-utils would follow it
    const st = await ownerModeOf(host);
    if (!st) {
      out.push({ path: p, saved: null, uid: 0, gid: 0, mode: 0 });
      continue;
    }
    const saved = `${subdir}/${p.slice('/etc/'.length)}`;
    await writeDurable(join(backupDir, saved), await readFile(host), 0o600);
    // shadow-utils rewrites these files without their ACLs and user.* attributes: the restore puts them back.
    out.push({ path: p, saved, uid: st.uid, gid: st.gid, mode: st.mode, xattrs: await readXattrs(host) });
  }
  return out;
}

/** Lines of `text` that do not concern any of `names` (as an entry or as a group member). */
function withoutNames(text: string, names: string[]): string[] {
  return text
    .split('\n')
    .filter((l) => !names.some((n) => l.startsWith(`${n}:`)))
    .map((l) => {
      const f = l.split(':');
      if (f.length !== 4 || !f[3]) return l;
      f[3] = f[3].split(',').filter((m) => !names.includes(m)).join(',');
      return f.join(':');
    })
    .filter((l) => l !== '');
}

/**
 * Returns human lines for files it had to leave as they are. The files are compared and published under
 * shadow-utils' own locks (account-lock.ts), so a concurrent useradd or chpasswd is never overwritten.
 */
export async function restoreAccountFiles(root: string, backupDir: string, records: AccountFileRecord[], createdNames: string[], o: { lockWaitMs?: number } = {}): Promise<string[]> {
  // The records come from the journal: only the account files and their "-" copies may be named.
  for (const r of records) {
    if (!ALL.includes(r.path)) throw new InputError(`the journal names ${r.path} as an account file; not restoring it`, backupDir);
  }
  const lockFiles = ACCOUNT_FILES.filter((p) => records.some((r) => r.path === p || r.path === `${p}-`)).map((p) => safeHostPath(root, p));
  return withAccountLocks(lockFiles, () => restoreUnlocked(root, backupDir, records, createdNames), o.lockWaitMs);
}

async function restoreUnlocked(root: string, backupDir: string, records: AccountFileRecord[], createdNames: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const r of records) {
    const host = safeHostPath(root, r.path);
    const isBackupCopy = r.path.endsWith('-');
    if (r.saved === null) {
      if (isBackupCopy) await rm(host, { force: true });
      continue;
    }
    const saved = await readFile(backupFile({ backupDir }, r.saved));
    const current = await readFile(host).catch(() => null);
    const want = { uid: r.uid, gid: r.gid, mode: r.mode, ...(r.xattrs ? { xattrs: r.xattrs } : {}) };
    if (current !== null && current.equals(saved)) {
      // userdel gives back the same bytes, but in a new file without the old one's ACLs and attributes.
      const xattrsKept = !r.xattrs || sameXattrs(await readXattrs(host), r.xattrs);
      if (!sameOwnerMode(await ownerModeOf(host), want) || !xattrsKept) await publishFile(host, saved, want);
      continue;
    }
    const ours = current === null || isBackupCopy || withoutNames(current.toString('utf8'), createdNames).join('\n') === withoutNames(saved.toString('utf8'), createdNames).join('\n');
    if (ours) await publishFile(host, saved, want);
    else left.push(`${r.path} changed since the apply in more than the tool's own accounts; left as it is (the pre-apply copy is in ${join(backupDir, r.saved)})`);
  }
  return left;
}
