// No new grant without consent. The migration record (src/state/record.types.ts) holds what the
// operator reviewed and the tool granted; a later plan restores that without asking. Anything beyond
// it — a path the record does not hold, write where read was granted, a reader the record does not
// name (a new reader of a secret), a path named only by a changed config file — is a NEW GRANT: marked
// on its file action with where it came from, and a blocking problem unless the operator consents to
// that exact path (apply --grant PATH, config `grants:`). Nothing a component can write decides it:
// the record lives in the tool's root-owned state dir.
import type { MigrationRecord, RecordedGrant } from '../state/record.types.js';
import type { PathUse } from './ownership.js';
import type { FileAction, Problem } from './types.js';

/** Why `action` goes beyond what `granted` (the record's grant of the same path, if any) gave, or null. */
export function beyondRecord(action: Pick<FileAction, 'access' | 'readers'>, granted: RecordedGrant | undefined): string | null {
  if (granted === undefined) return 'a path the migration record does not hold';
  if (action.access === 'write' && granted.access === 'read') return 'write where the record granted read';
  const added = action.readers.filter((c) => !granted.components.includes(c));
  if (added.length > 0) return `a new reader: ${added.join(', ')}`;
  return null;
}

/** Where a path was named: "kube-controller-manager --kubeconfig → client-key". */
function sourceOf(action: FileAction, use: PathUse | undefined): string {
  return `${action.readers.join(', ')} ${(use?.flags ?? []).join(', ')}`.trim();
}

/**
 * Mark the file actions that go beyond the record as new grants; each one the operator did not consent
 * to is also a blocking problem. Without a record of a migration in force (first apply, or after a
 * rollback or revert) nothing is new: the operator reviews the whole plan.
 */
export function markNewGrants(files: FileAction[], uses: readonly PathUse[], record: MigrationRecord | null | undefined, consented: readonly string[] = []): { files: FileAction[]; problems: Problem[] } {
  if (!record || record.status !== 'migrated') return { files, problems: [] };
  const granted = new Map(record.grants.map((g) => [g.path, g]));
  const useOf = new Map(uses.map((u) => [u.path, u]));
  const problems: Problem[] = [];
  const marked = files.map((f) => {
    const why = beyondRecord(f, granted.get(f.path));
    if (why === null) return f;
    const source = sourceOf(f, useOf.get(f.path));
    if (!consented.includes(f.path)) {
      problems.push({ code: 'new-grant', message: `NEW GRANT: ${f.path} (${f.access}, ${f.desired.user ?? f.desired.uid}:${f.desired.group ?? f.desired.gid} ${f.desired.mode.toString(8).padStart(4, '0')}) is ${why}, named by ${source}; a later apply grants only what the record holds`, path: f.path, component: f.readers[0], fix: `check why ${source} names ${f.path} (a component may have edited a file it could write); only if ${f.readers.join(' and ')} must have it: apply --grant ${f.path} (or list it under grants: in the config)` });
    }
    return { ...f, newGrant: { source } };
  });
  return { files: marked, problems };
}
