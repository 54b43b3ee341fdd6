// The migration record (types in ./record.types.ts): read, validated, written and merged.
// It lives in the tool's own state dir, root:root 0600, and is only trusted when it still is: a record a
// component (or anyone but root) could have written would let that writer decide what later runs grant.
// Written like the backups: a temp file in the same directory, fchown/fchmod, fsync, rename, directory
// fsync (src/fs/atomic.ts publishFile), so a reader sees the old record or the new one, never a torn one.
import { mkdirSync } from 'node:fs';
import { readRootOwned } from '../fs/root-owned.js';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { InputError } from '../errors.js';
import { publishFile } from '../fs/atomic.js';
import { COMPONENTS, isComponent, type Component } from '../model/components.js';
import type { Config } from '../model/config.js';
import { parseConfig } from '../plan/config.js';
import { manifestEdits, undoManifestEdits, type ManifestUndo } from '../plan/manifest-undo.js';
import { PLAN_KIND, type AccountAction, type FileAction, type Plan } from '../plan/types.js';
import { confinedHostPath } from '../paths.js';
import { STATE_DIR } from './locations.js';
import { VERSION } from '../version.js';
import { Editor, type PathKey } from '../yaml/splice.js';
import { RECORD_API_VERSION, RECORD_KIND, type MigrationRecord, type RecordedAccount, type RecordedGrant, type RecordedManifestEdit, type RecordHistoryEntry } from './record.types.js';

export const RECORD_FILE = `${STATE_DIR}/record.json`;

const FIX = `restore it from a backup copy, or move it away to start without a record (plan, apply and verify then need -c for a config that is not the default)`;

/** Host path of the record, inside the root (refused when a link there leads out of it). */
export function recordHostPath(root: string): string {
  return confinedHostPath(root, RECORD_FILE);
}

/**
 * The record's text, or null when there is none. Opened without following a link, and refused (exit 2)
 * unless it is a regular file owned by root that neither group nor others can write.
 */
export function readRecordText(root: string): string | null {
  return readRootOwned(recordHostPath(root), 'the migration record', FIX);
}

/** The node's record, validated; null when the node has none. */
export function readRecord(root: string): MigrationRecord | null {
  const text = readRecordText(root);
  return text === null ? null : parseRecord(text, recordHostPath(root));
}

/** Parse and validate a record's text: apiVersion, kind and the shape of every part (InputError naming `path`). */
export function parseRecord(text: string, path: string): MigrationRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`the migration record is not valid JSON (${(e as Error).message}); ${FIX}`, path);
  }
  const bad = (what: string): never => {
    throw new InputError(`the migration record is malformed: ${what}; ${FIX}`, path);
  };
  if (!isObject(raw)) return bad('not a JSON object');
  if (raw.apiVersion !== RECORD_API_VERSION) bad(`apiVersion is ${JSON.stringify(raw.apiVersion)}, expected ${RECORD_API_VERSION}`);
  if (raw.kind !== RECORD_KIND) bad(`kind is ${JSON.stringify(raw.kind)}, expected ${RECORD_KIND}`);
  if (!['migrated', 'rolled-back', 'reverted'].includes(raw.status as string)) bad(`status ${JSON.stringify(raw.status)} is not migrated, rolled-back or reverted`);
  if (!isObject(raw.config)) bad('config is not an object');
  // The recorded config obeys the same rules as a config file (JSON is YAML): one validator for both.
  let config: Config;
  try {
    config = parseConfig(JSON.stringify(raw.config), path);
  } catch (e) {
    return bad(`config: ${(e as Error).message.replace(`${path}: `, '')}`);
  }
  for (const key of ['migratedAt', 'updatedAt', 'toolVersion', 'by'] as const) if (typeof raw[key] !== 'string') bad(`${key} is not a string`);
  for (const key of ['kubernetesVersion', 'etcdVersion'] as const) if (raw[key] !== null && typeof raw[key] !== 'string') bad(`${key} is neither a string nor null`);
  const list = (key: string, check: (v: Record<string, unknown>) => string | null): void => {
    const v = raw[key];
    if (!Array.isArray(v)) return bad(`${key} is not a list`);
    v.forEach((item, i) => {
      const why = isObject(item) ? check(item) : 'not an object';
      if (why) bad(`${key}[${i}]: ${why}`);
    });
  };
  list('accounts', checkAccount);
  list('grants', checkGrant);
  list('manifestEdits', checkEdit);
  list('history', checkHistory);
  return { ...(raw as unknown as MigrationRecord), config };
}

function checkAccount(a: Record<string, unknown>): string | null {
  if (a.kind !== 'user' && a.kind !== 'group') return 'kind is not user or group';
  if (typeof a.name !== 'string' || !a.name) return 'name is not a string';
  if (!isId(a.id) || a.id === 0) return 'id is not a positive integer';
  if (a.gid !== undefined && !isId(a.gid)) return 'gid is not an integer';
  if (typeof a.created !== 'boolean') return 'created is not true or false';
  if (a.component !== null && !(typeof a.component === 'string' && isComponent(a.component))) return 'component is not a component or null';
  if (a.membersAdded !== undefined && !(Array.isArray(a.membersAdded) && a.membersAdded.every((m) => typeof m === 'string'))) return 'membersAdded is not a list of names';
  return null;
}

function checkGrant(g: Record<string, unknown>): string | null {
  if (typeof g.path !== 'string' || !g.path.startsWith('/')) return 'path is not an absolute node path';
  if (g.type !== 'file' && g.type !== 'directory') return 'type is not file or directory';
  if (!Array.isArray(g.components) || !g.components.every((c) => typeof c === 'string' && isComponent(c))) return 'components is not a list of components';
  if (g.access !== 'read' && g.access !== 'write') return 'access is not read or write';
  if (typeof g.recursive !== 'boolean' || typeof g.secret !== 'boolean') return 'recursive or secret is not true or false';
  if (!isOwnerMode(g.given)) return 'given is not {uid, gid, mode}';
  if (g.before !== null && !isOwnerMode(g.before)) return 'before is neither {uid, gid, mode} nor null';
  if (typeof g.source !== 'string') return 'source is not a string';
  return null;
}

function checkEdit(e: Record<string, unknown>): string | null {
  if (typeof e.component !== 'string' || !isComponent(e.component)) return 'component is not a component';
  if (typeof e.path !== 'string' || !e.path.startsWith('/')) return 'path is not an absolute node path';
  if (!Array.isArray(e.field) || e.field.length === 0 || !e.field.every((k) => typeof k === 'string' || isId(k))) return 'field is not a path of keys';
  return null;
}

function checkHistory(h: Record<string, unknown>): string | null {
  if (!['apply', 'rollback', 'revert'].includes(h.op as string)) return 'op is not apply, rollback or revert';
  for (const k of ['runId', 'at', 'by', 'toolVersion']) if (typeof h[k] !== 'string') return `${k} is not a string`;
  return null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isOwnerMode = (v: unknown): boolean => isObject(v) && isId(v.uid) && isId(v.gid) && isId(v.mode) && (v.mode as number) <= 0o7777;

/** Write the record durably, root:root 0600 (the state dir is created 0700 when missing). */
export async function writeRecord(root: string, record: MigrationRecord): Promise<void> {
  mkdirSync(dirname(confinedHostPath(root, STATE_DIR)), { recursive: true, mode: 0o755 });
  mkdirSync(confinedHostPath(root, STATE_DIR), { recursive: true, mode: 0o700 });
  await publishFile(recordHostPath(root), JSON.stringify(record, null, 2) + '\n', { uid: 0, gid: 0, mode: 0o600 });
}

/** Who runs the tool: the operator behind sudo when there is one, else the effective user. Informational only. */
export function operatorName(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SUDO_USER) return env.SUDO_USER;
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.geteuid?.() ?? 'unknown'}`;
  }
}

interface RunInfo {
  runId: string;
  at: Date;
  by: string;
  toolVersion: string;
}

/** What a finished apply or revert makes of the record (null: nothing to record). */
export interface RecordInputs {
  plan: Plan;
  /** The resolved config the plan was made with. */
  config: Config;
  /** Each manifest's text as the plan read it (node path → text): the "before" of every edit. */
  manifestsBefore: ReadonlyMap<string, string>;
  /** The node's paths as the plan read them (their file type): whether each grant is a file or a directory. */
  paths?: Readonly<Record<string, { type: string } | null>>;
}

/** What the record of a run of `plan` is made from, read from the node the plan was made from. */
export function recordInputs(plan: Plan, config: Config, node: { manifests: ReadonlyArray<{ path: string; text: string }>; paths: RecordInputs['paths'] }): RecordInputs {
  return { plan, config, manifestsBefore: new Map(node.manifests.map((m) => [m.path, m.text])), paths: node.paths };
}

/**
 * The record after a successful apply or revert, merged with the previous one. A re-apply keeps the
 * first migration's date, the `created` flags and each earlier grant's `before` (the state before the
 * tool ever touched it), and appends to the history. A revert only changes the status.
 */
export function nextRecord(input: RecordInputs, previous: MigrationRecord | null, run: RunInfo): MigrationRecord | null {
  const { plan } = input;
  const at = run.at.toISOString();
  const entry: RecordHistoryEntry = { op: plan.kind === PLAN_KIND ? 'apply' : 'revert', runId: run.runId, at, by: run.by, toolVersion: run.toolVersion };
  if (entry.op === 'revert') {
    return previous ? { ...previous, status: 'reverted', updatedAt: at, history: [...previous.history, entry] } : null;
  }
  const earlier = previous?.status === 'migrated' ? previous : null;
  return {
    apiVersion: RECORD_API_VERSION,
    kind: RECORD_KIND,
    status: 'migrated',
    config: input.config,
    accounts: mergeAccounts(recordedAccounts(plan), previous?.accounts ?? []),
    grants: mergeGrants(plan.files.map((f) => recordedGrant(f, input.paths?.[f.path]?.type)), earlier?.grants ?? []),
    manifestEdits: recordedEdits(plan, input.manifestsBefore, earlier?.manifestEdits ?? []),
    kubernetesVersion: plan.kubernetesVersion,
    etcdVersion: plan.etcdVersion,
    migratedAt: earlier?.migratedAt ?? at,
    updatedAt: at,
    toolVersion: run.toolVersion,
    by: run.by,
    history: [...(previous?.history ?? []), entry],
  };
}

/** The record after a rollback of `runId`: its previous state put back (null: there was none), marked. */
export function rolledBackRecord(current: MigrationRecord | null, previous: MigrationRecord | null, run: RunInfo): MigrationRecord | null {
  const base = previous ?? (current ? { ...current, status: 'rolled-back' as const } : null);
  if (!base) return null;
  const last = base.history[base.history.length - 1];
  if (last?.op === 'rollback' && last.runId === run.runId) return base;
  return { ...base, updatedAt: run.at.toISOString(), history: [...base.history, { op: 'rollback', runId: run.runId, at: run.at.toISOString(), by: run.by, toolVersion: run.toolVersion }] };
}

function componentOfAccount(plan: Plan, a: AccountAction): Component | null {
  const id = plan.components.find((c) => c.identity && (a.action.endsWith('-user') ? c.identity.user === a.name : c.identity.group === a.name))?.identity;
  return id?.component ?? null;
}

function recordedAccounts(plan: Plan): RecordedAccount[] {
  const out: RecordedAccount[] = [];
  const byName = new Map<string, string[]>();
  for (const a of plan.accounts) {
    if (a.action === 'create-user') for (const g of a.supplementaryGroups) byName.set(g, [...(byName.get(g) ?? []), a.name]);
    if (a.action === 'add-group-members') byName.set(a.name, [...(byName.get(a.name) ?? []), ...a.members]);
  }
  for (const a of plan.accounts) {
    const component = componentOfAccount(plan, a);
    if (a.action === 'create-user' || a.action === 'reuse-user') {
      out.push({ kind: 'user', name: a.name, id: a.uid, gid: a.gid, created: a.action === 'create-user', component });
    } else if (a.action === 'create-group' || a.action === 'reuse-group' || a.action === 'add-group-members') {
      if (out.some((x) => x.kind === 'group' && x.name === a.name)) continue; // create-group then add-group-members
      const added = byName.get(a.name);
      out.push({ kind: 'group', name: a.name, id: a.gid, created: a.action === 'create-group', component, ...(added?.length ? { membersAdded: [...new Set(added)].sort() } : {}) });
    }
  }
  return out;
}

/** This run's accounts, `created` when this run or an earlier one made them; earlier created ones no longer planned are kept. */
function mergeAccounts(now: RecordedAccount[], earlier: RecordedAccount[]): RecordedAccount[] {
  const key = (a: RecordedAccount) => `${a.kind}:${a.name}`;
  const merged = now.map((a) => {
    const e = earlier.find((x) => key(x) === key(a));
    if (!e) return a;
    const members = [...new Set([...(e.membersAdded ?? []), ...(a.membersAdded ?? [])])].sort();
    return { ...a, created: a.created || (e.created && e.id === a.id), ...(members.length ? { membersAdded: members } : {}) };
  });
  return [...merged, ...earlier.filter((e) => e.created && !now.some((a) => key(a) === key(e)))];
}

function recordedGrant(f: FileAction, type: string | undefined): RecordedGrant {
  return {
    path: f.path,
    // A recursive change or a created directory is a directory; otherwise as the plan saw it on the node.
    type: f.action !== 'set-owner-mode' || type === 'dir' ? 'directory' : 'file',
    components: [...f.readers],
    access: f.access,
    recursive: f.action === 'set-owner-recursive',
    secret: f.secret,
    given: { uid: f.desired.uid, gid: f.desired.gid, mode: f.desired.mode },
    before: f.current ? { uid: f.current.uid, gid: f.current.gid, mode: f.current.mode } : null,
    source: f.reason,
  };
}

/** Grants of this run over the earlier ones (same path: the earliest `before` stays), sorted by path. */
function mergeGrants(now: RecordedGrant[], earlier: RecordedGrant[]): RecordedGrant[] {
  const byPath = new Map(earlier.map((g) => [g.path, g]));
  for (const g of now) {
    const e = byPath.get(g.path);
    byPath.set(g.path, e ? { ...g, before: e.before } : g);
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The record's manifest edits: the journal's form (src/plan/manifest-undo.ts manifestEdits, the generic
 * field diff rollback undoes), from each manifest as it was before the tool ever touched it to what this
 * run writes. Components this run did not rewrite keep their earlier edits.
 */
function recordedEdits(plan: Plan, before: ReadonlyMap<string, string>, earlier: readonly RecordedManifestEdit[]): RecordedManifestEdit[] {
  const rewritten = new Set(plan.manifests.map((m) => m.component));
  const now = plan.manifests.flatMap((m) => {
    const text = before.get(m.path);
    if (text === undefined) return [];
    return editsSinceFirstApply(text, m.after, m.component, m.path, earlier.filter((e) => e.component === m.component));
  });
  const kept = earlier.filter((e) => !rewritten.has(e.component));
  return [...kept, ...now].sort((a, b) => COMPONENTS.indexOf(a.component) - COMPONENTS.indexOf(b.component));
}

/**
 * One manifest's edits since the first apply. The manifest before that apply is the current one with the
 * earlier edits undone (they may be a record's older form, one edit per managed field: the undo reads
 * both); diffed against what this run writes, that is one list in the journal's form, with the first
 * `before` of every field. When the earlier edits no longer undo (a field edited by hand since), this
 * run's own edits are kept, each field's first `before` carried over from an identical earlier field.
 */
function editsSinceFirstApply(before: string, after: string, component: Component, path: string, earlier: readonly RecordedManifestEdit[]): RecordedManifestEdit[] {
  if (earlier.length === 0) return manifestEdits(before, after, component, path);
  const original = firstOk(undoManifestEdits(before, earlier, path), () => undoManifestEdits(before, wholeMappingEdits(before, earlier, path), path));
  if (original.ok) return manifestEdits(original.text, after, component, path);
  const firstBefore = new Map(earlier.map((e) => [JSON.stringify(e.field), e]));
  return manifestEdits(before, after, component, path).map((e) => {
    const first = firstBefore.get(JSON.stringify(e.field));
    if (!first) return e;
    const { before: _drop, ...rest } = e;
    return 'before' in first ? { ...rest, before: first.before } : rest;
  });
}

function firstOk(undo: ManifestUndo, next: () => ManifestUndo): ManifestUndo {
  return undo.ok ? undo : next();
}

/**
 * Edits in the record's older form (one per managed field, as records before the journal's form was
 * used hold them) with every mapping the migration inserted whole made one edit, as the journal's form
 * has it: a mapping each of whose keys is an edit that added it (no `before`) and still holds the value
 * written. Removing those keys one by one would leave an empty mapping the splice engine cannot write.
 */
function wholeMappingEdits(text: string, edits: readonly RecordedManifestEdit[], path: string): RecordedManifestEdit[] {
  let editor: Editor;
  try {
    editor = new Editor(text, path);
  } catch (e) {
    if (e instanceof InputError) return [...edits];
    throw e;
  }
  let out = [...edits];
  for (let parent = insertedMapping(editor, out); parent; parent = insertedMapping(editor, out)) {
    const field = parent;
    const inside = (e: RecordedManifestEdit) => e.field.length === field.length + 1 && field.every((k, i) => e.field[i] === k);
    out = [...out.filter((e) => !inside(e)), { ...out.find(inside)!, field, after: editor.get(field) }];
  }
  return out;
}

/** A mapping (below the pod's top level, not a list item) every key of which an edit added; null when none is. */
function insertedMapping(editor: Editor, edits: readonly RecordedManifestEdit[]): PathKey[] | null {
  for (const e of edits) {
    const parent = e.field.slice(0, -1);
    if (parent.length < 2 || typeof parent[parent.length - 1] !== 'string') continue;
    const value = editor.get(parent);
    if (!isObject(value)) continue;
    const added = (k: string) => edits.some((x) => x.before === undefined && x.field.length === parent.length + 1 && parent.every((p, i) => x.field[i] === p) && x.field[parent.length] === k && isDeepStrictEqual(x.after, value[k]));
    if (Object.keys(value).every(added)) return parent;
  }
  return null;
}

/**
 * Undo of a run's record write (journal undo "restore-record"): the previous record's text put back
 * with a rollback entry in its history, or, when there was none, the run's own record marked
 * rolled-back. Idempotent: a second rollback of the same run changes nothing more.
 */
export async function restoreRecord(root: string, savedText: string | null, runId: string, run: Omit<RunInfo, 'runId'> = currentRun()): Promise<void> {
  const previous = savedText === null ? null : parseRecord(savedText, `the saved copy of ${RECORD_FILE}`);
  const current = readRecord(root);
  const next = rolledBackRecord(current, previous, { ...run, runId });
  if (next) await writeRecord(root, next);
}

function currentRun(): Omit<RunInfo, 'runId'> {
  return { at: new Date(), by: operatorName(), toolVersion: VERSION };
}
