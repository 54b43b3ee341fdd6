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
// Each primitive edit works on the outline of the current text, parsed again after every edit that changed it,
// so consecutive edits never have to reconcile offsets.
// Edits refuse to go through a `<<` merge key or an anchored node: the text there is not the value (or
// not only this value), so a splice could not say what it means.
import { InputError } from '../errors.js';
import { stringifyYaml } from './go-yaml.js';
import { findPair, outline, toJS, type OMap, type ONode, type OPair, type OScalar, type OSeq } from './outline.js';

export type PathKey = string | number;

export interface EditResult {
  text: string;
  /** One short human line per edited key, e.g. "pod securityContext.runAsUser: 101". */
  changes: string[];
}

// ---------------------------------------------------------------------------------------------
// Editor: applies keyed edits one at a time and records the change lines.

export class Editor {
  private readonly changes: string[] = [];
  private text: string;
  /** The outline of `text`, parsed again after each edit that changed it. */
  private root: OMap;

  constructor(
    text: string,
    private readonly source: string | undefined,
  ) {
    this.text = text;
    this.root = parse(text, source); // fails early on invalid input
  }

  /** The plain value at `path` as the kubelet reads it (merges applied); undefined when absent. */
  get(path: PathKey[]): unknown {
    return getJS(this.root, path);
  }

  private update(next: string): boolean {
    if (next === this.text) return false;
    this.text = next;
    this.root = parse(next, this.source);
    return true;
  }

  set(path: PathKey[], value: unknown, label: string): void {
    if (this.update(setIn(this.text, this.root, path, value, this.source))) this.changes.push(`${label}: ${formatValue(value)}`);
  }

  /** Insert a mapping that does not exist yet in one edit, recording one change line per leaf (as set() would). */
  setWhole(path: PathKey[], value: Record<string, unknown>, label: string): void {
    this.update(setIn(this.text, this.root, path, value, this.source));
    const leaves = (v: unknown, at: string): string[] =>
      isRecord(v) ? Object.entries(v).flatMap(([k, x]) => (isRecord(x) && k !== 'seccompProfile' ? leaves(x, `${at}.${k}`) : [`${at}.${k}: ${formatValue(x)}`])) : [];
    this.changes.push(...leaves(value, label));
  }

  remove(path: PathKey[], label: string): void {
    const before = this.get(path);
    if (this.update(deleteIn(this.text, this.root, path, this.source))) this.changes.push(`${label}: removed (was ${formatValue(before)})`);
  }

  /** Remove `keys` from the mapping at `mapPath`; remove the mapping itself when nothing else is left in it. */
  removeKeys(mapPath: PathKey[], keys: string[], label: string): void {
    const current = this.get(mapPath);
    if (!isRecord(current)) return;
    const present = Object.keys(current).filter((k) => keys.includes(k));
    if (present.length === 0) return;
    const leftover = Object.keys(current).filter((k) => !keys.includes(k));
    if (leftover.length === 0) this.update(deleteIn(this.text, this.root, mapPath, this.source));
    else for (const k of present) this.update(deleteIn(this.text, this.root, [...mapPath, k], this.source));
    const sep = label === 'annotation' ? ' ' : '.';
    for (const k of present) this.changes.push(`${label}${sep}${k}: removed (was ${formatValue(current[k])})`);
  }

  result(): EditResult {
    return { text: this.text, changes: this.changes };
  }
}

// ---------------------------------------------------------------------------------------------
// Splice primitives

/** Set the value at `path` (string = mapping key, number = sequence index), creating missing mappings. Returns `text` itself when the value is already there. */
function setIn(text: string, doc: OMap, path: PathKey[], value: unknown, source: string | undefined): string {
  const style = detectStyle(doc, text);
  let node: ONode | null = doc;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const rest = path.slice(i + 1);
    if (typeof seg === 'number') {
      node = seqItem(node, seg, path.slice(0, i + 1), source);
      continue;
    }
    const map = blockMap(node, path.slice(0, i), source);
    const pair = findPair(map, seg);
    if (!pair) {
      if (rest.some((k) => typeof k === 'number')) {
        throw new InputError(`${pathString(path.slice(0, i + 1))} not found: a static pod manifest needs spec.containers[0]`, source);
      }
      return insertPair(text, map, seg, nest(rest, value), style);
    }
    const child = pair.value;
    if (rest.length === 0) {
      if (deepEqual(toJS(child), value)) return text;
      if (isPlainScalar(child) && isScalarValue(value)) {
        return text.slice(0, child.start) + renderScalar(value, style) + text.slice(child.end);
      }
      return replacePair(text, pair, value, style);
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
    const current = toJS(child);
    if (current !== null && !isRecord(current)) {
      throw new InputError(`${pathString(path.slice(0, i + 1))} is not a mapping; fix the manifest by hand`, source);
    }
    if (rest.some((k) => typeof k === 'number')) {
      throw new InputError(`${pathString(path.slice(0, i + 1))} must be a block sequence; rewrite it in block style`, source);
    }
    return replacePair(text, pair, setJS(current ?? {}, rest, value), style);
  }
  throw new Error('setIn: empty path');
}

/** Remove the key at `path`; returns `text` itself when it is absent. */
function deleteIn(text: string, doc: OMap, path: PathKey[], source: string | undefined): string {
  const style = detectStyle(doc, text);
  let node: ONode | null = doc;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const rest = path.slice(i + 1);
    if (typeof seg === 'number') {
      if (node?.kind !== 'seq' || !node.items[seg]) return text;
      node = editable(node, path.slice(0, i), source).items[seg]!;
      continue;
    }
    if (node?.kind !== 'map') return text;
    editable(node, path.slice(0, i), source);
    const pair = findPair(node, seg);
    if (!pair) return text;
    if (rest.length === 0) return removePair(text, node, pair, style);
    const child = pair.value;
    if ((child?.kind === 'map' || child?.kind === 'seq') && !child.flow) {
      node = child;
      continue;
    }
    const current = toJS(child);
    if (!isRecord(current)) return text;
    const next = deleteJS(current, rest);
    return next === current ? text : replacePair(text, pair, next, style);
  }
  return text;
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

/** Insert `key: value` into a block mapping: in sorted position when its keys are sorted (as kubeadm writes them), else at the end. */
function insertPair(text: string, map: OMap, key: string, value: unknown, style: Style): string {
  const keys = map.items.map((p) => p.key);
  const sorted = keys.every((k, i) => i === 0 || keys[i - 1]! <= k);
  const before = sorted ? keys.findIndex((k) => k > key) : -1;
  const col = column(text, map.items[0]!.keyStart);
  const lines = renderPair(key, value, style);
  let offset: number;
  if (before === -1) offset = map.items[map.items.length - 1]!.end;
  // After the previous sibling (and its trailing comments), so comment lines above the next key stay with it.
  else if (before > 0) offset = map.items[before - 1]!.end;
  else offset = pairStart(text, map.items[0]!);
  return text.slice(0, offset) + block(text, offset, lines, col, style, 'insert') + text.slice(offset);
}

/** Replace a whole pair (its key line through the end of its value) by a freshly rendered `key: value`. */
function replacePair(text: string, pair: OPair, value: unknown, style: Style): string {
  const start = pairStart(text, pair);
  const { end } = pair;
  const col = column(text, pair.keyStart);
  return text.slice(0, start) + block(text, start, renderPair(pair.key, value, style), col, style, 'replace', end) + text.slice(end);
}

function removePair(text: string, map: OMap, pair: OPair, style: Style): string {
  let start = pairStart(text, pair);
  let { end } = pair;
  if (!atLineStart(text, start)) {
    // First key on a `- ` line: the next key moves up onto that line, so drop its indentation too;
    // with no next key the item becomes an empty mapping (a bare `-` would be null).
    const next = map.items[map.items.indexOf(pair) + 1];
    if (next) end = next.keyStart;
    else return text.slice(0, start) + '{}' + style.eol + text.slice(end);
  } else if (end === text.length && !text.endsWith('\n') && start > 0) {
    // The pair was the last line of a file without a final newline: the file keeps having none.
    start -= text[start - 2] === '\r' ? 2 : 1;
  }
  return text.slice(0, start) + text.slice(end);
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

/** The plain value at `path`, from the document's value (so keys that come from a `<<` merge count). */
function getJS(doc: OMap, path: PathKey[]): unknown {
  let v: unknown = doc.js;
  for (const seg of path) {
    if (typeof seg === 'number' ? !Array.isArray(v) : !isRecord(v)) return undefined;
    if (!Object.hasOwn(v as object, seg)) return undefined;
    v = (v as Record<PathKey, unknown>)[seg];
  }
  return v;
}

function isPlainScalar(node: ONode | null): node is OScalar {
  return node?.kind === 'scalar' && node.value !== null && !node.block;
}

// ---------------------------------------------------------------------------------------------
// Plain-data helpers

function nest(path: PathKey[], value: unknown): unknown {
  return path.reduceRight<unknown>((v, k) => ({ [k]: v }), value);
}

/** Copy of `obj` with `value` at `path`; a new key goes in sorted position when the keys are sorted. */
function setJS(obj: Record<string, unknown>, path: PathKey[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  const key = String(head);
  const child = rest.length === 0 ? value : setJS(asRecord(obj[key]), rest, value);
  if (key in obj) return { ...obj, [key]: child };
  const keys = Object.keys(obj);
  const sorted = keys.every((k, i) => i === 0 || keys[i - 1]! <= k);
  const at = sorted ? keys.findIndex((k) => k > key) : -1;
  const entries = Object.entries(obj);
  entries.splice(at === -1 ? entries.length : at, 0, [key, child]);
  return Object.fromEntries(entries);
}

function deleteJS(obj: Record<string, unknown>, path: PathKey[]): Record<string, unknown> {
  const [head, ...rest] = path;
  const key = String(head);
  if (!(key in obj)) return obj;
  if (rest.length === 0) {
    const { [key]: _dropped, ...others } = obj;
    return others;
  }
  const child = obj[key];
  if (!isRecord(child)) return obj;
  const next = deleteJS(child, rest);
  return next === child ? obj : { ...obj, [key]: next };
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
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
