// The splice engine: keyed edits of a YAML document that change only the edited keys' text.
//
// Why splice instead of re-serialising: yaml's Document API round-trips kubeadm's own output
// byte-for-byte, but not hand-edited files (it collapses the spaces before an inline comment and
// re-indents). So a parse is used only to LOCATE things (the library's node offsets, through
// src/yaml/outline.ts); each edit renders just the new fragment (src/yaml/go-yaml.ts, so it reads back
// the same in YAML 1.1 and 1.2) and splices it into the original text. Everything outside the edited
// keys stays byte-identical: comments, key order, quoting, blank lines, trailing spaces, a missing final
// newline, a leading `---` or comment.
//
// All edits of one Editor are computed against ONE parse of the text: each edit records where it lands
// in that outline (a scalar replaced in place, a pair rewritten, inserted or removed) and updates the
// document's plain value; result() renders every recorded splice from that value, splices them into the
// original text together, and parses the result once to check that it reads back as that value.
// Edits refuse to go through a `<<` merge key or an anchored node: the text there is not the value (or
// not only this value), so a splice could not say what it means.
import { isDeepStrictEqual } from 'node:util';
import { InputError } from '../errors.js';
import { stringifyYaml } from './go-yaml.js';
import { findPair, outline, type OMap, type ONode, type OPair, type OScalar, type OSeq } from './outline.js';

export type PathKey = string | number;

export interface EditResult {
  text: string;
  /** One short human line per edited key, e.g. "pod securityContext.runAsUser: 101". */
  changes: string[];
}

/** Where an edit lands in the one outline of the original text. */
type Splice =
  /** A plain scalar replaced in place. */
  | { kind: 'scalar'; path: PathKey[]; node: OScalar }
  /** An existing pair rewritten whole as `key: value`. */
  | { kind: 'pair'; path: PathKey[]; map: OMap; pair: OPair }
  /** An existing pair removed. */
  | { kind: 'remove'; path: PathKey[]; map: OMap; pair: OPair }
  /** A new pair inserted into an existing block mapping. */
  | { kind: 'insert'; path: PathKey[]; map: OMap; key: string };

// ---------------------------------------------------------------------------------------------
// Editor: records keyed edits and the change lines; result() splices them all in at once.

export class Editor {
  private readonly changes: string[] = [];
  /** The outline of the original text: the one parse every edit is located in. */
  private readonly root: OMap;
  private readonly style: Style;
  /** The document's plain value with every edit so far applied. */
  private js: unknown;
  /** Recorded splices by path (JSON of the path), in the order they were first made. */
  private readonly splices = new Map<string, Splice>();

  constructor(
    private readonly text: string,
    private readonly source: string | undefined,
  ) {
    this.root = parse(text, source); // fails early on invalid input
    this.style = detectStyle(this.root, text);
    this.js = this.root.js;
  }

  /** The plain value at `path` as the kubelet reads it (merges applied, earlier edits included); undefined when absent. */
  get(path: PathKey[]): unknown {
    return getJS(this.js, path);
  }

  set(path: PathKey[], value: unknown, label: string): void {
    if (this.setAt(path, value)) this.changes.push(`${label}: ${formatValue(value)}`);
  }

  /** Insert a mapping that does not exist yet in one edit, recording one change line per leaf (as set() would). */
  setWhole(path: PathKey[], value: Record<string, unknown>, label: string): void {
    this.setAt(path, value);
    const leaves = (v: unknown, at: string): string[] =>
      isRecord(v) ? Object.entries(v).flatMap(([k, x]) => (isRecord(x) && k !== 'seccompProfile' ? leaves(x, `${at}.${k}`) : [`${at}.${k}: ${formatValue(x)}`])) : [];
    this.changes.push(...leaves(value, label));
  }

  remove(path: PathKey[], label: string): void {
    const before = this.get(path);
    if (this.removeAt(path)) this.changes.push(`${label}: removed (was ${formatValue(before)})`);
  }

  /** Remove `keys` from the mapping at `mapPath`; remove the mapping itself when nothing else is left in it. */
  removeKeys(mapPath: PathKey[], keys: string[], label: string): void {
    const current = this.get(mapPath);
    if (!isRecord(current)) return;
    const present = Object.keys(current).filter((k) => keys.includes(k));
    if (present.length === 0) return;
    const leftover = Object.keys(current).filter((k) => !keys.includes(k));
    if (leftover.length === 0) this.removeAt(mapPath);
    else for (const k of present) this.removeAt([...mapPath, k]);
    const sep = label === 'annotation' ? ' ' : '.';
    for (const k of present) this.changes.push(`${label}${sep}${k}: removed (was ${formatValue(current[k])})`);
  }

  /** The edited text: every recorded splice rendered from the edited value and spliced in, checked by one parse. */
  result(): EditResult {
    if (this.splices.size === 0) return { text: this.text, changes: this.changes };
    const text = spliceAll(this.text, this.renderSplices());
    if (text === this.text) return { text, changes: this.changes };
    const after = parse(text, this.source);
    if (!isDeepStrictEqual(after.js, this.js)) {
      throw new InputError('the edited manifest would not read back as the intended edit (an alias `*name` of an edited value?); write the securityContext values out in full without YAML anchors or aliases, then retry', this.source);
    }
    return { text, changes: this.changes };
  }

  // -------------------------------------------------------------------------------------------

  private record(sp: Splice): void {
    const key = JSON.stringify(sp.path);
    if (sp.kind !== 'scalar') {
      // A rewritten or removed pair replaces whatever was recorded inside it.
      for (const [k, other] of this.splices) if (isUnder(other.path, sp.path)) this.splices.delete(k);
    }
    this.splices.delete(key);
    this.splices.set(key, sp);
  }

  /** Segment `i` of `path`: the path up to it, the rest, and what was recorded at it so far. */
  private step(path: PathKey[], i: number): { seg: PathKey; at: PathKey[]; rest: PathKey[]; earlier: Splice | undefined } {
    const at = path.slice(0, i + 1);
    return { seg: path[i]!, at, rest: path.slice(i + 1), earlier: this.splices.get(JSON.stringify(at)) };
  }

  /** Set the value at `path` (string = mapping key, number = sequence index), creating missing mappings; false when it is already there. */
  private setAt(path: PathKey[], value: unknown): boolean {
    const { source } = this;
    let node: ONode | null = this.root;
    let target: Splice | 'within' | null = null;
    for (let i = 0; i < path.length && target === null; i++) {
      const { seg, at, rest, earlier } = this.step(path, i);
      if (typeof seg === 'number') {
        node = seqItem(node, seg, at, source);
        continue;
      }
      const map = blockMap(node, path.slice(0, i), source);
      if (earlier?.kind === 'insert' || earlier?.kind === 'pair') {
        // Inside a pair already rewritten or inserted: its text is rendered from the value at result().
        target = 'within';
        break;
      }
      if (earlier?.kind === 'remove') {
        target = { kind: 'pair', path: at, map, pair: earlier.pair };
        break;
      }
      const pair = findPair(map, seg);
      if (!pair) {
        if (rest.some((k) => typeof k === 'number')) {
          throw new InputError(`${pathString(at)} not found: a static pod manifest needs spec.containers[0]`, source);
        }
        target = { kind: 'insert', path: at, map, key: seg };
        break;
      }
      const child = pair.value;
      if (rest.length === 0) {
        if (hasJS(this.js, path) && isDeepStrictEqual(getJS(this.js, path), value)) return false;
        target = isPlainScalar(child) && isScalarValue(value) ? { kind: 'scalar', path: at, node: child } : { kind: 'pair', path: at, map, pair };
        break;
      }
      if (child?.kind === 'map' && !child.flow) {
        node = child;
        continue;
      }
      if (child?.kind === 'seq' && !child.flow && typeof rest[0] === 'number') {
        node = child;
        continue;
      }
      // A flow collection (`securityContext: {}`) or an empty value (`securityContext:`): rebuild this one
      // pair from its data plus the new value. Only the text of this pair changes.
      const current = getJS(this.js, at);
      if (current !== null && current !== undefined && !isRecord(current)) {
        throw new InputError(`${pathString(at)} is not a mapping; fix the manifest by hand`, source);
      }
      if (rest.some((k) => typeof k === 'number')) {
        throw new InputError(`${pathString(at)} must be a block sequence; rewrite it in block style`, source);
      }
      target = { kind: 'pair', path: at, map, pair };
    }
    if (target === null) throw new Error('setAt: empty path');
    if (hasJS(this.js, path) && isDeepStrictEqual(getJS(this.js, path), value)) return false;
    this.js = setJS(this.js, path, value);
    if (target !== 'within') this.record(target);
    return true;
  }

  /** Remove the key at `path`; false when it is absent. */
  private removeAt(path: PathKey[]): boolean {
    const { source } = this;
    let node: ONode | null = this.root;
    let target: Splice | 'within' | null = null;
    for (let i = 0; i < path.length && target === null; i++) {
      const { seg, at, rest, earlier } = this.step(path, i);
      if (earlier?.kind === 'remove') return false;
      if (earlier?.kind === 'insert' && rest.length === 0) {
        // Removing what this editor inserted: nothing to splice any more.
        this.splices.delete(JSON.stringify(at));
        target = 'within';
        break;
      }
      if (earlier?.kind === 'insert' || (earlier?.kind === 'pair' && rest.length > 0)) {
        target = 'within';
        break;
      }
      if (typeof seg === 'number') {
        if (node?.kind !== 'seq' || !node.items[seg]) return false;
        node = editable(node, path.slice(0, i), source).items[seg]!;
        continue;
      }
      if (node?.kind !== 'map') return false;
      editable(node, path.slice(0, i), source);
      const pair = findPair(node, seg);
      if (!pair) return false;
      if (rest.length === 0) {
        target = { kind: 'remove', path: at, map: node, pair };
        break;
      }
      const child = pair.value;
      if ((child?.kind === 'map' || child?.kind === 'seq') && !child.flow) {
        node = child;
        continue;
      }
      const current = getJS(this.js, at);
      if (!isRecord(current) || !hasJS(current, rest)) return false;
      target = { kind: 'pair', path: at, map: node, pair };
    }
    if (target === null || !hasJS(this.js, path)) return false;
    this.js = deleteJS(this.js, path);
    if (target !== 'within') this.record(target);
    return true;
  }

  /** Every recorded splice as [start, end) of the original text and its new text. */
  private renderSplices(): Replacement[] {
    const { text, style } = this;
    const out: Replacement[] = [];
    const inserts = new Map<OMap, Array<{ key: string; value: unknown }>>();
    const removes = new Map<OMap, OPair[]>();
    for (const sp of this.splices.values()) {
      if (sp.kind === 'scalar') {
        out.push({ start: sp.node.start, end: sp.node.end, text: renderScalar(getJS(this.js, sp.path), style) });
      } else if (sp.kind === 'pair') {
        out.push(replacePair(text, sp.pair, getJS(this.js, sp.path), style));
      } else if (sp.kind === 'insert') {
        inserts.set(sp.map, [...(inserts.get(sp.map) ?? []), { key: sp.key, value: getJS(this.js, sp.path) }]);
      } else {
        removes.set(sp.map, [...(removes.get(sp.map) ?? []), sp.pair]);
      }
    }
    for (const [map, pairs] of inserts) out.push(...insertPairs(text, map, pairs, style));
    for (const [map, pairs] of removes) out.push(...removePairs(text, map, pairs, style));
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Splices

interface Replacement {
  start: number;
  end: number;
  text: string;
  /** Column of the mapping an insertion goes into: at one offset, the deeper one goes first (it ends the inner mapping). */
  depth?: number;
}

/**
 * Apply non-overlapping replacements of the original text: an insertion at the start of a removed range
 * goes first, and of insertions at one offset the deeper one. Touching removals go as one range, so a
 * file without a final newline keeps having none when its last lines go.
 */
function spliceAll(text: string, replacements: Replacement[]): string {
  const sorted = [...replacements].sort((a, b) => a.start - b.start || a.end - b.end || (b.depth ?? 0) - (a.depth ?? 0));
  const merged: Replacement[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && last.text === '' && r.text === '' && last.end === r.start && r.start < r.end) last.end = r.end;
    else merged.push({ ...r });
  }
  const tail = merged[merged.length - 1];
  if (tail && tail.text === '' && tail.end === text.length && !text.endsWith('\n') && tail.start > 0 && atLineStart(text, tail.start)) {
    tail.start -= text[tail.start - 2] === '\r' ? 2 : 1;
  }
  let out = '';
  let cursor = 0;
  for (const r of merged) {
    if (r.start < cursor) throw new Error(`splice: overlapping edits at offset ${r.start}`);
    out += text.slice(cursor, r.start) + r.text;
    cursor = r.end;
  }
  return out + text.slice(cursor);
}

function isUnder(path: PathKey[], prefix: PathKey[]): boolean {
  return path.length > prefix.length && prefix.every((k, i) => path[i] === k);
}

interface Style {
  /** Spaces per nesting level, as in the file (kubeadm: 2). */
  indent: number;
  /** Whether block sequences are indented under their key (kubeadm: no, `drop:\n- ALL`). */
  indentSeq: boolean;
  eol: '\n' | '\r\n';
}

/** Read the file's own indentation habits so a new fragment looks like its neighbours. */
function detectStyle(root: OMap, text: string): Style {
  const style: Style = { indent: 2, indentSeq: false, eol: text.includes('\r\n') ? '\r\n' : '\n' };
  const spec = findPair(root, 'spec');
  if (spec?.value?.kind === 'map' && !spec.value.flow) {
    const first = spec.value.items[0];
    const col = first ? column(text, first.keyStart) - column(text, spec.keyStart) : 0;
    if (col > 0) style.indent = col;
    const containers = findPair(spec.value, 'containers');
    if (containers?.value?.kind === 'seq' && !containers.value.flow) {
      style.indentSeq = column(text, containers.value.start) > column(text, containers.keyStart);
    }
  }
  return style;
}

/**
 * Insert new pairs into a block mapping: each in sorted position when the keys are sorted (as kubeadm
 * writes them), else at the end in the order they were set; pairs that land at one offset go in one block.
 */
function insertPairs(text: string, map: OMap, pairs: Array<{ key: string; value: unknown }>, style: Style): Replacement[] {
  const keys = map.items.map((p) => p.key);
  const sorted = keys.every((k, i) => i === 0 || keys[i - 1]! <= k);
  const col = column(text, map.items[0]!.keyStart);
  const at = new Map<number, Array<{ key: string; value: unknown }>>();
  for (const p of pairs) {
    const before = sorted ? keys.findIndex((k) => k > p.key) : -1;
    let offset: number;
    if (before === -1) offset = map.items[map.items.length - 1]!.end;
    // After the previous sibling (and its trailing comments), so comment lines above the next key stay with it.
    else if (before > 0) offset = map.items[before - 1]!.end;
    else offset = pairStart(text, map.items[0]!);
    at.set(offset, [...(at.get(offset) ?? []), p]);
  }
  return [...at].map(([offset, group]) => {
    if (sorted) group.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    const lines = group.flatMap((p) => renderPair(p.key, p.value, style));
    return { start: offset, end: offset, text: block(text, offset, lines, col, style, 'insert'), depth: col };
  });
}

/** Replace a whole pair (its key line through the end of its value) by a freshly rendered `key: value`. */
function replacePair(text: string, pair: OPair, value: unknown, style: Style): Replacement {
  const start = pairStart(text, pair);
  const { end } = pair;
  const col = column(text, pair.keyStart);
  return { start, end, text: block(text, start, renderPair(pair.key, value, style), col, style, 'replace', end) };
}

/** Remove pairs of one mapping; neighbouring removed pairs go as one range. */
function removePairs(text: string, map: OMap, pairs: OPair[], style: Style): Replacement[] {
  const gone = new Set(pairs);
  const out: Replacement[] = [];
  for (let i = 0; i < map.items.length; i++) {
    if (!gone.has(map.items[i]!) || gone.has(map.items[i - 1]!)) continue;
    let j = i;
    while (gone.has(map.items[j + 1]!)) j++;
    const start = pairStart(text, map.items[i]!);
    let end = map.items[j]!.end;
    let replacement = '';
    if (!atLineStart(text, start)) {
      // First key on a `- ` line: the next key moves up onto that line, so drop its indentation too;
      // with no next key the item becomes an empty mapping (a bare `-` would be null).
      const next = map.items[j + 1];
      if (next) end = next.keyStart;
      else replacement = '{}' + style.eol;
    }
    out.push({ start, end, text: replacement });
  }
  return out;
}

/**
 * Lay out rendered lines at column `col` for splicing at `offset`. At a line start every line is
 * indented; right after `- ` (the first key of a sequence item) the first line continues that line.
 */
function block(text: string, offset: number, lines: string[], col: number, style: Style, mode: 'insert' | 'replace', end = offset): string {
  const pad = ' '.repeat(col);
  const { eol } = style;
  const noFinalNewline = end === text.length && text.length > 0 && !text.endsWith('\n');
  if (mode === 'insert' && noFinalNewline) {
    // Appending after the last line of a file without a final newline: start a new line, end without one.
    return lines.map((l) => eol + pad + l).join('');
  }
  const inline = !atLineStart(text, offset);
  const body = lines.map((l, i) => (i === 0 && inline ? l : pad + l));
  if (noFinalNewline) return body.join(eol);
  const joined = body.join(eol) + eol;
  return mode === 'insert' && inline ? joined + pad : joined;
}

function renderPair(key: string, value: unknown, style: Style): string[] {
  return stringifyYaml({ [key]: value }, { indent: style.indent, indentSeq: style.indentSeq }).replace(/\n$/, '').split('\n');
}

function renderScalar(value: unknown, style: Style): string {
  return renderPair('k', value, style)[0]!.slice('k: '.length);
}

// ---------------------------------------------------------------------------------------------
// Positions

/** Start of a pair: its line start, or the key itself when it follows `- ` on the same line. */
function pairStart(text: string, pair: OPair): number {
  const k = pair.keyStart;
  const ls = lineStart(text, k);
  return text.slice(ls, k).trim() === '' ? ls : k;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function atLineStart(text: string, offset: number): boolean {
  return offset === 0 || text[offset - 1] === '\n';
}

function column(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

// ---------------------------------------------------------------------------------------------
// Document access

function parse(text: string, source: string | undefined): OMap {
  const parsed = outline(text);
  if (!parsed.ok) throw new InputError(`not valid YAML: ${parsed.error}; fix the manifest and retry`, source);
  const root = parsed.root;
  if (root?.kind !== 'map' || root.flow) {
    throw new InputError('expected a Pod manifest with a block mapping at the top level', source);
  }
  return root;
}

/** A block mapping on an edit's path, which the edit may splice into. */
function blockMap(node: ONode | null, at: PathKey[], source: string | undefined): OMap {
  if (node?.kind === 'map' && !node.flow) return editable(node, at, source);
  throw new InputError(`${pathString(at) || 'the document'} is not a block mapping; rewrite it in block style`, source);
}

function seqItem(node: ONode | null, index: number, at: PathKey[], source: string | undefined): ONode | null {
  if (node?.kind === 'seq' && !node.flow && node.items[index] !== undefined) return editable(node, at, source).items[index]!;
  throw new InputError(`${pathString(at)} not found: a static pod manifest needs spec.containers[0]`, source);
}

/** Refuse to edit through an anchor (its aliases would change too) or a `<<` merge (the text is not the value). */
function editable<T extends OMap | OSeq>(node: T, at: PathKey[], source: string | undefined): T {
  const where = pathString(at) || 'the document';
  if (node.anchored) throw new InputError(`${where} has a YAML anchor (&name) that other places may alias; write it out in full without the anchor`, source);
  if (node.kind === 'map' && findPair(node, '<<')) throw new InputError(`${where} uses a YAML merge key (<<); write the merged keys out in full`, source);
  return node;
}

/** The plain value at `path` in a document's value (so keys that come from a `<<` merge count); undefined when absent. */
function getJS(doc: unknown, path: PathKey[]): unknown {
  let v: unknown = doc;
  for (const seg of path) {
    if (typeof seg === 'number' ? !Array.isArray(v) : !isRecord(v)) return undefined;
    if (!Object.hasOwn(v as object, seg)) return undefined;
    v = (v as Record<PathKey, unknown>)[seg];
  }
  return v;
}

function hasJS(doc: unknown, path: PathKey[]): boolean {
  if (path.length === 0) return true;
  const parent = getJS(doc, path.slice(0, -1));
  return typeof parent === 'object' && parent !== null && Object.hasOwn(parent, path[path.length - 1]!);
}

function isPlainScalar(node: ONode | null): node is OScalar {
  return node?.kind === 'scalar' && node.value !== null && !node.block;
}

// ---------------------------------------------------------------------------------------------
// Plain-data helpers

/** Copy of `doc` with `value` at `path`; a new key goes in sorted position when the keys are sorted. */
function setJS(doc: unknown, path: PathKey[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (typeof head === 'number' && Array.isArray(doc)) {
    const copy = [...doc];
    copy[head] = setJS(doc[head], rest, value);
    return copy;
  }
  const obj = asRecord(doc);
  const key = String(head);
  const child = setJS(obj[key], rest, value);
  if (key in obj) return { ...obj, [key]: child };
  const keys = Object.keys(obj);
  const sorted = keys.every((k, i) => i === 0 || keys[i - 1]! <= k);
  const at = sorted ? keys.findIndex((k) => k > key) : -1;
  const entries = Object.entries(obj);
  entries.splice(at === -1 ? entries.length : at, 0, [key, child]);
  return Object.fromEntries(entries);
}

/** Copy of `doc` without the key at `path` (the caller checked it is there). */
function deleteJS(doc: unknown, path: PathKey[]): unknown {
  const [head, ...rest] = path;
  if (typeof head === 'number' && Array.isArray(doc)) {
    const copy = [...doc];
    copy[head] = deleteJS(doc[head], rest);
    return copy;
  }
  const obj = asRecord(doc);
  const key = String(head);
  if (rest.length === 0) {
    const { [key]: _dropped, ...others } = obj;
    return others;
  }
  return { ...obj, [key]: deleteJS(obj[key], rest) };
}

/** Short one-line rendering for change lines: [ALL], {type: RuntimeDefault}, 101. */
function formatValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (isRecord(v)) return `{${Object.entries(v).map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ')}}`;
  return String(v);
}

function pathString(path: PathKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asRecord(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

function isScalarValue(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}
