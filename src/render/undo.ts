// What an undo restores, for the rollback preview: the owner, mode or content the node gets back —
// not the forward step it takes back ("restore /x to 0:0 0600", not "chown 1001 /x").
import type { Undo } from '../state/journal.js';
import { formatMode as mode } from '../model/perms.js';

export function describeUndo(u: Undo): string {
  switch (u.kind) {
    case 'delete-user':
      return `remove user ${u.name} (created by the run)`;
    case 'delete-group':
      return `remove group ${u.name} (created by the run)`;
    case 'recreate-group':
      return `recreate group ${u.name} (gid ${u.gid})`;
    case 'recreate-user':
      return `recreate user ${u.name} (uid ${u.uid}, gid ${u.gid}${u.supplementaryGroups.length ? `, groups ${u.supplementaryGroups.join(',')}` : ''})`;
    case 'remove-members':
      return `remove ${u.members.join(', ')} from group ${u.group}`;
    case 'restore-account-files':
      return `restore ${u.files.filter((f) => f.saved).map((f) => f.path).join(', ') || 'the account files'} from the backup if only the run's accounts differ`;
    case 'restore-owner-mode':
      return `${u.path} back to ${u.uid}:${u.gid} ${mode(u.mode)}`;
    case 'restore-tree':
      return `${u.path} back to ${u.uid}:${u.gid} ${mode(u.mode)}, everything below to ${u.defaultOwner[0]}:${u.defaultOwner[1]}${u.ownersFile ? ' except the recorded other owners' : ''}`;
    case 'remove-directory':
      return `remove ${u.path}${u.createdParents.length ? ` and its created parents ${u.createdParents.join(', ')}` : ''} (created by the run; kept, root 0755, if not empty)`;
    case 'restore-manifest':
      return u.edits
        ? `${u.path} back to its saved original (${u.backupFile}), ${u.uid}:${u.gid} ${mode(u.mode)}, if still as the run wrote it; else (rewritten since, e.g. by kubeadm upgrade) the run's ${u.edits.length} field edit(s) undone on it`
        : `${u.path} back to its saved original (${u.backupFile}), ${u.uid}:${u.gid} ${mode(u.mode)}`;
    case 'restore-record':
      return u.saved === null ? 'the migration record marked rolled-back (kept as history)' : `the migration record back to its state before the run (${u.saved})`;
  }
}
