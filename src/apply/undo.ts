// Undo operations. Each is idempotent and safe to run when the change it undoes never happened (a run
// killed between journaling an intent and making the change), so rollback after a crash at any
// instant converges. Each also has a manual equivalent, printed when rollback itself fails.
import { readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { backupFile } from '../state/backup-file.js';
import { parseGroup, parsePasswd } from '../discover/accounts.js';
import { formatMode } from '../model/perms.js';
import { safeHostPath } from '../paths.js';
import { groupadd, groupdel, removeFromGroup, useradd, userdel, type AccountTools } from './accounts.js';
import { restoreAccountFiles } from './account-files.js';
import { publishFile } from '../fs/atomic.js';
import { rmdirUnder, setOwnerModeFd, setOwnerModeUnder, stateUnder, UnsafePathError } from '../fs/handles.js';
import { applyExceptions, chownTreeAt, sameOwnerMode, withTreeTop } from './fsops.js';
import { isOwnTempFor } from '../state/journal-check.js';
import type { Undo } from '../state/journal.js';
import { RECORD_FILE, restoreRecord } from '../state/record.js';
import { decideManifestRestore, manifestNow } from './manifest-restore.js';
import { GROUP_PATH, PASSWD_PATH } from '../model/node-paths.js';

export interface UndoContext {
  root: string;
  backupDir: string;
  tools: AccountTools;
  /** Names of accounts the run created (for the account-file safety net). */
  createdNames: string[];
  warn(msg: string): void;
}

const host = (ctx: UndoContext, p: string) => safeHostPath(ctx.root, p);

/**
 * The temp file an interrupted publish may have left next to `hostTarget`, from the name the journal
 * recorded. Only its base name is used, and only when it is a temp name this tool makes for that very
 * file: a journal from another root (or an altered one) can never make rollback delete anything else.
 */
async function removeTemp(ctx: UndoContext, nodePath: string, hostTarget: string, recorded: string | undefined): Promise<void> {
  if (!recorded) return;
  const name = basename(recorded);
  if (!isOwnTempFor(nodePath, recorded)) {
    ctx.warn(`the journal names ${recorded} as the temp file of ${hostTarget}; that is not a temp name of this tool for it, so it was left alone`);
    return;
  }
  await rm(join(dirname(hostTarget), name), { force: true });
}

async function accounts(ctx: UndoContext) {
  const [p, g] = await Promise.all([readFile(host(ctx, PASSWD_PATH), 'utf8'), readFile(host(ctx, GROUP_PATH), 'utf8')]);
  return { passwd: parsePasswd(p, PASSWD_PATH), group: parseGroup(g, GROUP_PATH) };
}

/**
 * Run one undo. An owner, mode or directory undo that finds its entry replaced by a symbolic link (or a
 * link a component could have swapped on the way to it) leaves it alone with a warning: what the tool
 * changed is no longer at that name — the component moved it, within a directory it can write, which
 * is inside a tree the tool hands back as a whole — and nothing is ever done through the link.
 */
export async function performUndo(u: Undo, ctx: UndoContext): Promise<void> {
  try {
    await undoOnce(u, ctx);
  } catch (e) {
    if (!(e instanceof UnsafePathError) || !(u.kind === 'restore-owner-mode' || u.kind === 'restore-tree' || u.kind === 'remove-directory')) throw e;
    ctx.warn(`${e.message}; left alone, nothing followed`);
  }
}

async function undoOnce(u: Undo, ctx: UndoContext): Promise<void> {
  switch (u.kind) {
    case 'delete-user':
      if ((await accounts(ctx)).passwd.some((p) => p.name === u.name)) await userdel(ctx.tools, u.name);
      return;
    case 'delete-group':
      if ((await accounts(ctx)).group.some((g) => g.name === u.name)) await groupdel(ctx.tools, u.name);
      return;
    case 'recreate-group':
      if (!(await accounts(ctx)).group.some((g) => g.name === u.name)) await groupadd(ctx.tools, u.name, u.gid);
      return;
    case 'recreate-user': {
      const now = await accounts(ctx);
      if (now.passwd.some((p) => p.name === u.name)) return;
      // userdel removed the same-named primary group too (USERGROUPS_ENAB, login.defs(5)); bring it back first.
      if (!now.group.some((g) => g.gid === u.gid)) await groupadd(ctx.tools, u.group, u.gid);
      await useradd(ctx.tools, u);
      return;
    }
    case 'remove-members': {
      const g = (await accounts(ctx)).group.find((x) => x.name === u.group);
      for (const m of u.members) if (g?.members.includes(m)) await removeFromGroup(ctx.tools, m, u.group);
      return;
    }
    case 'restore-account-files':
      for (const line of await restoreAccountFiles(ctx.root, ctx.backupDir, u.files, ctx.createdNames)) ctx.warn(line);
      return;
    case 'restore-owner-mode': {
      // In place, through the entry's descriptor (src/fs/handles.ts): never a copy (a file being written
      // keeps every write; a sparse or huge file costs nothing), never through a link.
      await removeTemp(ctx, u.path, host(ctx, u.path), u.temp); // journals of versions that republished a copy
      const now = stateUnder(ctx.root, u.path);
      if (!now) throw new Error(`${u.path} is missing; cannot restore owner ${u.uid}:${u.gid} mode ${formatMode(u.mode)}`);
      if (sameOwnerMode(now, u)) return;
      if (!setOwnerModeUnder(ctx.root, u.path, u)) throw new Error(`${u.path} disappeared; cannot restore owner ${u.uid}:${u.gid} mode ${formatMode(u.mode)}`);
      return;
    }
    case 'restore-tree': {
      // Everything through the one held top: the chown walk starts inside it, the exceptions are
      // reached from it, and its own owner and mode are set on it.
      await withTreeTop(ctx.root, u.path, async (top) => {
        // Only what apply handed over (owned by appliedOwner) goes back: anything else a component put in
        // its tree since (a link or a hard link to a file it does not own) is left alone.
        await chownTreeAt(top, u.path, u.defaultOwner[0], u.defaultOwner[1], { from: u.appliedOwner, skipUnsafe: false });
        if (u.ownersFile) {
          const saved = JSON.parse(await readFile(backupFile(ctx, u.ownersFile), 'utf8')) as { exceptions: Parameters<typeof applyExceptions>[1] };
          for (const line of applyExceptions(top, saved.exceptions)) ctx.warn(`${u.path}/${line}`);
        }
        setOwnerModeFd(top, u);
      });
      return;
    }
    case 'remove-directory': {
      if (stateUnder(ctx.root, u.path) && !rmdirUnder(ctx.root, u.path)) {
        // The component already wrote into it (audit logs): keep the data, hand it back to root as the
        // kubelet would have created it (DirectoryOrCreate: root, 0755).
        setOwnerModeUnder(ctx.root, u.path, { uid: 0, gid: 0, mode: 0o755 });
        ctx.warn(`${u.path} was not empty; kept it, owned by root`);
        return;
      }
      for (const d of [...u.createdParents].reverse()) rmdirUnder(ctx.root, d);
      return;
    }
    case 'restore-manifest': {
      // The saved original only over exactly what the run wrote; over a manifest rewritten since, just
      // the run's own edits undone (src/apply/manifest-restore.ts): never an older release back.
      const p = host(ctx, u.path);
      await removeTemp(ctx, u.path, p, u.temp);
      const d = await decideManifestRestore(u, await manifestNow(ctx, u.path), ctx);
      if (d.kind === 'keep') {
        if (d.note) ctx.warn(d.note);
        return;
      }
      await publishFile(p, d.content, d.owner);
      return;
    }
    case 'restore-record':
      await restoreRecord(ctx.root, u.saved === null ? null : await readFile(backupFile(ctx, u.saved), 'utf8'), u.runId);
      return;
  }
}

/**
 * The printed steps never follow a link: chown -h, find -P with -execdir (each name changed from its own
 * directory), and a test that the path itself is not a link before chmod (which has no -h).
 */
const notALink = (p: string) => `test ! -L ${p}`;
const NO_LINK_ON_THE_WAY = '(first check with ls -ld that no directory on the way is a symbolic link a component could have put there)';

/** The shell equivalent of an undo, for the operator when rollback fails. */
export function manualStep(u: Undo, root: string, backupDir: string): string {
  const prefix = root === '/' ? '' : ` --prefix ${root}`;
  const h = (p: string) => join(root, p);
  switch (u.kind) {
    case 'delete-user':
      return `userdel${prefix} ${u.name}`;
    case 'delete-group':
      return `groupdel${prefix} ${u.name}`;
    case 'recreate-group':
      return `groupadd${prefix} --system --gid ${u.gid} ${u.name}`;
    case 'recreate-user':
      return `groupadd${prefix} --system --gid ${u.gid} ${u.group} (if missing) && useradd${prefix} --system --no-create-home --no-user-group --uid ${u.uid} --gid ${u.gid}${u.supplementaryGroups.length ? ` --groups ${u.supplementaryGroups.join(',')}` : ''} --home-dir ${u.home || '/nonexistent'} --shell ${u.shell} ${u.name}`;
    case 'remove-members':
      return u.members.map((m) => `gpasswd${root === '/' ? '' : ` --root ${root}`} --delete ${m} ${u.group}`).join(' && ');
    case 'restore-account-files':
      return `compare ${u.files.filter((f) => f.saved).map((f) => h(f.path)).join(', ')} with the copies in ${backupDir} and restore them if only the tool's accounts differ`;
    case 'restore-owner-mode':
      return `${notALink(h(u.path))} && chown -h ${u.uid}:${u.gid} ${h(u.path)} && chmod ${formatMode(u.mode)} ${h(u.path)} ${NO_LINK_ON_THE_WAY}`;
    case 'restore-tree':
      return `${notALink(h(u.path))} && find -P ${h(u.path)} -execdir chown -h${u.appliedOwner ? ` --from=${u.appliedOwner[0]}:${u.appliedOwner[1]}` : ''} -- ${u.defaultOwner[0]}:${u.defaultOwner[1]} {} + && chown -h ${u.uid}:${u.gid} ${h(u.path)} && chmod ${formatMode(u.mode)} ${h(u.path)}${u.ownersFile ? ` (then the exceptions listed in ${join(backupDir, u.ownersFile)}, each with chown -h)` : ''} ${NO_LINK_ON_THE_WAY}`;
    case 'remove-directory':
      return `rmdir ${h(u.path)} (if it holds data, keep it: ${notALink(h(u.path))} && chown -h 0:0 ${h(u.path)} && chmod 0755 ${h(u.path)}) ${NO_LINK_ON_THE_WAY}`;
    case 'restore-manifest':
      return `cp ${join(backupDir, u.backupFile)} ${join(h(u.path), '..', `.${u.path.split('/').pop()}.restore`)} && chown ${u.uid}:${u.gid} … && chmod ${formatMode(u.mode)} … && mv it to ${h(u.path)} (keep the dot name until the owner and mode are right: the kubelet ignores dotfiles)`;
    case 'restore-record':
      return u.saved === null
        ? `the migration record ${h(RECORD_FILE)} needs no restore: set its "status" to "rolled-back" (it is history now)`
        : `install -o 0 -g 0 -m 0600 ${join(backupDir, u.saved)} ${h(RECORD_FILE)}`;
  }
}
