// The migration's own manifest edits as data, and their undo on whatever the manifest is NOW.
//
// Rollback must never go back in time: after `kubeadm upgrade apply --patches` the manifest is the new
// release's (new image, new flags) with the migration's securityContext merged in again. Restoring the
// bytes saved before the apply would run the old release against data a newer one already wrote (etcd
// does not support downgrades: https://etcd.io/docs/v3.6/downgrades/). So apply records, per manifest,
// each field it set (its value before and the value written), and rollback undoes exactly those fields
// on the current text with the splice engine (src/yaml/splice.ts, as removeSecurity does for revert):
// a field still holding what the migration wrote is put back (removed when it did not exist before);
// one already back at its old value is left; anything else is not the migration's to touch, and the
// undo refuses instead of guessing.
import { InputError } from '../errors.js';
import type { Component } from '../model/components.js';
import { identifyComponent, parsePod } from '../model/pod.js';
import type { RecordedManifestEdit } from '../state/record.types.js';
import { Editor, type PathKey } from '../yaml/splice.js';

/** The plain value of a whole manifest, as the splice engine reads it (YAML 1.1, merges applied). */
function documentValue(text: string, source: string): unknown {
  return new Editor(text, source).get([]);
}

/**
 * Every field that differs between the manifest apply read (`before`) and the one it wrote (`after`),
 * at the deepest mapping level where it differs: a key that is new is one edit holding its whole value
 * (undone by removing that key, so an inserted `securityContext:` goes as a whole), a changed scalar or
 * list is one edit. Lists of mappings of the same length (spec.containers) are compared item by item.
 */
export function manifestEdits(before: string, after: string, component: Component, path: string): RecordedManifestEdit[] {
  const out: RecordedManifestEdit[] = [];
  const walk = (a: unknown, b: unknown, field: PathKey[]): void => {
    if (sameValue(a, b)) return;
    if (isRecord(a) && isRecord(b)) {
      for (const k of unionKeys(a, b)) walk(a[k], b[k], [...field, k]);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every(isRecord) && b.every(isRecord)) {
      a.forEach((item, i) => walk(item, b[i], [...field, i]));
      return;
    }
    out.push({ component, path, field, ...(a === undefined ? {} : { before: jsonValue(a) }), ...(b === undefined ? {} : { after: jsonValue(b) }) });
  };
  walk(documentValue(before, path), documentValue(after, path), []);
  return out;
}

export type ManifestUndo = { ok: true; text: string; changes: string[] } | { ok: false; reason: string };

/**
 * Undo `edits` (all of one manifest) on its current text. Everything outside the recorded fields stays
 * byte-identical. Refuses (ok: false, with the reason) when the text is no longer that component's pod,
 * or a recorded field holds neither the value the migration wrote nor the value it had before.
 */
export function undoManifestEdits(current: string, edits: readonly RecordedManifestEdit[], source: string): ManifestUndo {
  const component = edits[0]?.component;
  let ed: Editor;
  try {
    if (component && identifyComponent(source.split('/').pop() ?? source, parsePod(current, source)) !== component) {
      return { ok: false, reason: `it is no longer a ${component} pod manifest` };
    }
    ed = new Editor(current, source);
  } catch (e) {
    if (e instanceof InputError) return { ok: false, reason: `it no longer reads as a ${component ?? 'static'} pod manifest (${e.message})` };
    throw e;
  }
  for (const edit of edits) {
    const refusal = undoEdit(ed, edit.field, edit.before, edit.after);
    if (refusal) return { ok: false, reason: refusal };
  }
  try {
    return { ok: true, ...ed.result() };
  } catch (e) {
    if (e instanceof InputError) return { ok: false, reason: e.message };
    throw e;
  }
}

/** Undo one recorded field on the editor; a reason when it holds something the migration did not write. */
function undoEdit(ed: Editor, field: PathKey[], before: unknown, after: unknown): string | null {
  const label = fieldString(field);
  const now = ed.get(field);
  try {
    if (sameValue(now, after)) {
      if (before === undefined) ed.remove(field, label);
      else ed.set(field, before, label);
      return null;
    }
    if (sameValue(now, before)) return null;
    // A mapping the migration inserted whole, to which kubeadm (or a patch) has added keys since: take
    // back only the migration's own keys, and the mapping when nothing else is left in it.
    if (before === undefined && isRecord(after) && isRecord(now)) {
      for (const k of Object.keys(after)) {
        const refusal = undoEdit(ed, [...field, k], undefined, after[k]);
        if (refusal) return refusal;
      }
      const left = ed.get(field);
      if (isRecord(left) && Object.keys(left).length === 0) ed.remove(field, label);
      return null;
    }
  } catch (e) {
    if (e instanceof InputError) return `${label}: ${e.message}`;
    throw e;
  }
  return `${label} is ${show(now)}, neither what the migration wrote (${show(after)}) nor what it was before (${show(before)})`;
}

function fieldString(field: PathKey[]): string {
  return field.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

function show(v: unknown): string {
  return v === undefined ? 'absent' : JSON.stringify(v);
}

/** What a value reads back as from the journal (JSON): a recorded value compares with the current one on equal terms. */
function jsonValue(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Keys sorted at every level: mappings compare by content, not by the order they were written in. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isRecord(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

function unionKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
