// What rollback does to one manifest the run wrote, decided from what the manifest is NOW:
// - exactly what the run wrote (or already the saved original) → the saved original, byte for byte;
// - rewritten since (kubeadm upgrade apply/node --patches writes the new release with the migration's
//   fields merged in) → only the run's recorded edits undone on the current text (src/plan/manifest-undo.ts):
//   the new release's images and flags stay, rollback never downgrades the control plane;
// - anything it cannot tell (a recorded field changed by hand, not that component's pod any more, a
//   journal from before the edits were recorded whose plan is gone) → refused, exit 2, naming revert.
// preflightManifestRestores decides this for every pending undo before rollback changes anything.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { safeHostPath } from '../paths.js';
import { sha256 } from '../plan/fingerprint.js';
import { undoManifestEdits } from '../plan/manifest-undo.js';
import { backupFile } from '../state/backup-file.js';
import type { Undo } from '../state/journal.js';
import { ownerModeOf, sameOwnerMode, type OwnerMode } from './fsops.js';

type RestoreManifestUndo = Extract<Undo, { kind: 'restore-manifest' }>;

interface ManifestNow {
  /** null: the file is missing. */
  bytes: Buffer | null;
  owner: OwnerMode | null;
}

type ManifestRestore =
  /** Nothing to write: already the saved original, or nothing of the migration is left in it. */
  | { kind: 'keep'; note?: string }
  /** Write `content` with `owner` (the saved original; or the current text with the run's edits undone). */
  | { kind: 'write'; content: Buffer; owner: OwnerMode; how: 'saved original' | 'edits undone' };

interface Where {
  root: string;
  backupDir: string;
}

export async function manifestNow(where: Where, path: string): Promise<ManifestNow> {
  const p = safeHostPath(where.root, path);
  const owner = await ownerModeOf(p);
  return { bytes: owner ? await readFile(p) : null, owner };
}

/** What restoring `u` over `now` writes; throws InputError (nothing changed) when rollback cannot tell. */
export async function decideManifestRestore(u: RestoreManifestUndo, now: ManifestNow, where: Where): Promise<ManifestRestore> {
  const recorded = { uid: u.uid, gid: u.gid, mode: u.mode };
  if (!now.bytes) {
    // Removed since (kubeadm reset, an operator stopping the component): the migration's edits went
    // with it, and the saved original must not come back over whatever removed it.
    return { kind: 'keep', note: `${u.path} is missing; nothing of the migration is left in it, so the saved original (${join(where.backupDir, u.backupFile)}) was not put back` };
  }
  const saved = await readFile(backupFile(where, u.backupFile));
  if (u.sha256 && createHash('sha256').update(saved).digest('hex') !== u.sha256) {
    // Checked in the preflight too (preflightManifestRestores): a damaged backup refuses the rollback
    // before any change (exit 2), instead of a rollback that stops half-way.
    throw new InputError(`does not match its recorded sha256 (torn or altered); not restoring it, and nothing was changed. Put the original back from another copy, or run as root again without the journal: kubeadm-nonroot revert${where.root === '/' ? '' : ` --root ${where.root}`} (docs/revert.md)`, backupFile(where, u.backupFile));
  }
  if (now.bytes.equals(saved)) return sameOwnerMode(now.owner, recorded) ? { kind: 'keep' } : { kind: 'write', content: saved, owner: recorded, how: 'saved original' };
  const current = createHash('sha256').update(now.bytes).digest('hex');
  if (current === (u.writtenSha256 ?? (await plannedSha256(where.backupDir, u.path)))) return { kind: 'write', content: saved, owner: recorded, how: 'saved original' };
  if (!u.edits) refuse(u.path, where, 'it changed since the run wrote it, and the journal (written by an older version) does not record which fields the run set');
  const text = now.bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(now.bytes)) refuse(u.path, where, 'it changed since the run wrote it and is not UTF-8 text any more');
  const undone = undoManifestEdits(text, u.edits, u.path);
  if (!undone.ok) refuse(u.path, where, `it changed since the run wrote it: ${undone.reason}`);
  if (undone.text === text) return { kind: 'keep', note: `${u.path} was rewritten since the run and no longer holds any of its edits; left as it is` };
  // The file is kubeadm's now: its owner and mode stay as they are (the run never changed them).
  return { kind: 'write', content: Buffer.from(undone.text, 'utf8'), owner: now.owner!, how: 'edits undone' };
}

/**
 * Decide every pending manifest restore, in the order rollback runs them, before anything changes: a
 * refusal then leaves the node exactly as it is. Undos of one file (a resumed run journals its own)
 * are decided on what the earlier ones will have written.
 */
export async function preflightManifestRestores(pending: readonly Undo[], where: Where): Promise<void> {
  const simulated = new Map<string, ManifestNow>();
  for (const u of pending) {
    if (u.kind !== 'restore-manifest') continue;
    const now = simulated.get(u.path) ?? (await manifestNow(where, u.path));
    const d = await decideManifestRestore(u, now, where);
    simulated.set(u.path, d.kind === 'write' ? { bytes: d.content, owner: d.owner } : now);
  }
}

/** Journals from before writtenSha256: the text the run's plan (saved in its backup dir) wrote there. */
async function plannedSha256(backupDir: string, path: string): Promise<string | null> {
  let plan: { manifests?: Array<{ path?: unknown; after?: unknown }> };
  try {
    plan = JSON.parse(await readFile(join(backupDir, 'plan.json'), 'utf8')) as typeof plan;
  } catch {
    return null;
  }
  const after = plan.manifests?.find((m) => m.path === path)?.after;
  return typeof after === 'string' ? sha256(after) : null;
}

function refuse(path: string, where: Where, why: string): never {
  const revert = `kubeadm-nonroot revert${where.root === '/' ? '' : ` --root ${where.root}`}`;
  throw new InputError(
    `${why}. Rollback restores neither the bytes saved before the apply over it (that would undo whatever changed it, e.g. a kubeadm upgrade) nor guesses; nothing was changed. Fix the field by hand, or run as root again without the journal: ${revert} (docs/revert.md)`,
    safeHostPath(where.root, path),
  );
}
