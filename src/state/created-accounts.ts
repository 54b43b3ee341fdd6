// Which accounts the tool created on this node and has not removed since, from its own journals: an
// apply's create-user/create-group steps are journaled with the undo delete-user/delete-group, a
// revert's removals with recreate-user/recreate-group; an undone step (rolled back) did not stand. Read
// in run order, so an account a finished revert removed — and the operator later created again under
// the same name — is not the tool's. revert removes only these, never accounts matched by name.
import type { BackupInfo } from './backups.js';
import { Journal } from './journal.js';

export interface CreatedAccounts {
  users: string[];
  groups: string[];
}

/** The accounts the journals of `backups` (oldest first) say the tool created and did not remove since. */
export async function createdAccounts(backups: readonly BackupInfo[]): Promise<CreatedAccounts> {
  const users = new Set<string>();
  const groups = new Set<string>();
  for (const b of backups) {
    const journal = await Journal.open(b.dir);
    for (const i of journal.intents()) {
      if (i.undone || !i.undo) continue;
      if (i.undo.kind === 'delete-user') users.add(i.undo.name);
      if (i.undo.kind === 'delete-group') groups.add(i.undo.name);
      if (i.undo.kind === 'recreate-user') users.delete(i.undo.name);
      if (i.undo.kind === 'recreate-group') groups.delete(i.undo.name);
    }
  }
  return { users: [...users].sort(), groups: [...groups].sort() };
}
