// Undo operations. Each is idempotent and safe to run when the change it undoes never happened (a run
// killed between journaling an intent and making the change), so rollback after a crash at any
// instant converges. Each also has a manual equivalent, printed when rollback itself fails.
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { backupFile } from '../state/backup-file.js';
import { parseGroup, parsePasswd } from '../discover/accounts.js';
import { formatMode } from '../model/perms.js';
import { safeHostPath } from '../paths.js';
import { groupadd, groupdel, removeFromGroup, useradd, userdel, type AccountTools } from './accounts.js';
import { restoreAccountFiles } from './account-files.js';
import { isTempNameFor, publishFile, republish } from '../fs/atomic.js';
import { applyExceptions, chownTree, ownerModeOf, rmdirIfEmpty, sameOwnerMode, setDirOwnerMode } from './fsops.js';
import type { Undo } from '../state/journal.js';
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
async function removeTemp(ctx: UndoContext, hostTarget: string, recorded: string | undefined): Promise<void> {
  if (!recorded) return;
  const name = basename(recorded);
  if (!isTempNameFor(hostTarget, name)) {
    ctx.warn(`the journal names ${recorded} as the temp file of ${hostTarget}; that is not a temp name of this tool for it, so it was left alone`);
    return;
  }
  await rm(join(dirname(hostTarget), name), { force: true });
}

async function accounts(ctx: UndoContext) {
  const [p, g] = await Promise.all([readFile(host(ctx, PASSWD_PATH), 'utf8'), readFile(host(ctx, GROUP_PATH), 'utf8')]);
  return { passwd: parsePasswd(p, PASSWD_PATH), group: parseGroup(g, GROUP_PATH) };
}

export async function performUndo(u: Undo, ctx: UndoContext): Promise<void> {
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
      const p = host(ctx, u.path);
      await removeTemp(ctx, p, u.temp);
      const now = await ownerModeOf(p);
      if (!now) throw new Error(`${u.path} is missing; cannot restore owner ${u.uid}:${u.gid} mode ${formatMode(u.mode)}`);
      if (sameOwnerMode(now, u)) return;
      if (now.type === 'file') await republish(p, u);
      else await setDirOwnerMode(p, u);
      return;
    }
    case 'restore-tree': {
      const p = host(ctx, u.path);
      if (!(await ownerModeOf(p))) throw new Error(`${u.path} is missing; cannot restore its owners`);
      // Only what apply handed over (owned by appliedOwner) goes back: anything else a component put in
      // its tree since (a link or a hard link to a file it does not own) is left alone.
      await chownTree(p, u.defaultOwner[0], u.defaultOwner[1], { from: u.appliedOwner, skipUnsafe: false });
      if (u.ownersFile) {
        const saved = JSON.parse(await readFile(backupFile(ctx, u.ownersFile), 'utf8')) as { exceptions: Parameters<typeof applyExceptions>[1] };
        for (const line of applyExceptions(p, saved.exceptions)) ctx.warn(`${u.path}/${line}`);
      }
      await setDirOwnerMode(p, u);
      return;
    }
    case 'remove-directory': {
      const p = host(ctx, u.path);
      if ((await ownerModeOf(p)) && !(await rmdirIfEmpty(p))) {
        // The component already wrote into it (audit logs): keep the data, hand it back to root as the
        // kubelet would have created it (DirectoryOrCreate: root, 0755).
        await setDirOwnerMode(p, { uid: 0, gid: 0, mode: 0o755 });
        ctx.warn(`${u.path} was not empty; kept it, owned by root`);
        return;
      }
      for (const d of [...u.createdParents].reverse()) await rmdirIfEmpty(host(ctx, d));
      return;
    }
    case 'restore-manifest': {
      const p = host(ctx, u.path);
      await removeTemp(ctx, p, u.temp);
      const saved = await readFile(backupFile(ctx, u.backupFile));
      if (u.sha256 && createHash('sha256').update(saved).digest('hex') !== u.sha256) {
        throw new Error(`the saved original ${backupFile(ctx, u.backupFile)} does not match its recorded sha256 (torn or altered); not restoring it`);
      }
      const now = await ownerModeOf(p);
      const current = now ? await readFile(p) : null;
      if (current?.equals(saved) && sameOwnerMode(now, u)) return;
      await publishFile(p, saved, u);
      return;
    }
  }
}

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
      return `chown ${u.uid}:${u.gid} ${h(u.path)} && chmod ${formatMode(u.mode)} ${h(u.path)}`;
    case 'restore-tree':
      return `chown -R -h ${u.defaultOwner[0]}:${u.defaultOwner[1]} ${h(u.path)} && chown ${u.uid}:${u.gid} ${h(u.path)} && chmod ${formatMode(u.mode)} ${h(u.path)}${u.ownersFile ? ` (then the exceptions listed in ${join(backupDir, u.ownersFile)})` : ''}`;
    case 'remove-directory':
      return `rmdir ${h(u.path)} (if it holds data, keep it: chown 0:0 ${h(u.path)} && chmod 0755 ${h(u.path)})`;
    case 'restore-manifest':
      return `cp ${join(backupDir, u.backupFile)} ${join(h(u.path), '..', `.${u.path.split('/').pop()}.restore`)} && chown ${u.uid}:${u.gid} … && chmod ${formatMode(u.mode)} … && mv it to ${h(u.path)} (keep the dot name until the owner and mode are right: the kubelet ignores dotfiles)`;
  }
}
