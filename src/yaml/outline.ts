// An outline of a YAML document: a thin view over the yaml library's nodes (src/yaml/go-yaml.ts parses,
// YAML 1.1) that keeps what the splice engine (src/yaml/splice.ts) needs: each mapping, sequence and
// scalar with its source offsets, and each node's plain value as the kubelet reads it.
import { isMap, isNode, isPair, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';
import { firstError, parseYaml } from './go-yaml.js';

export type ONode = OScalar | OMap | OSeq | OOther;

export interface OScalar {
  kind: 'scalar';
  value: unknown;
  /** Offsets of the scalar's source text, quotes included: [start, end). */
  start: number;
  end: number;
  /** A literal (|) or folded (>) block scalar: never spliced in place. */
  block: boolean;
  /** Has an anchor (`&name`): an edit here would change every alias of it too. */
  anchored: boolean;
}

export interface OMap {
  kind: 'map';
  flow: boolean;
  anchored: boolean;
  /** Offset of the first key (block) or of `{` (flow). */
  start: number;
  items: OPair[];
  /** The plain value, `<<` merges applied. */
  js: Record<string, unknown>;
}

export interface OSeq {
  kind: 'seq';
  flow: boolean;
  anchored: boolean;
  /** Offset of the first `-` (block) or of `[` (flow). */
  start: number;
  items: Array<ONode | null>;
  js: unknown[];
}

/** Anything else (an alias): read, never edited in place. */
interface OOther {
  kind: 'other';
  js: unknown;
}

export interface OPair {
  key: string;
  /** Offset of the key's first character. */
  keyStart: number;
  /** Start of the line after the pair's last line (its value and the comments attached to it), or the text's end. */
  end: number;
  /** null for an empty value (`key:` with nothing after it). */
  value: ONode | null;
}

type Outline = { ok: true; root: ONode | null } | { ok: false; error: string };

/** Parse one document; the first error's first line when the text is not valid YAML. */
export function outline(text: string): Outline {
  const doc = parseYaml(text);
  const error = firstError(doc);
  if (error !== null) return { ok: false, error };
  try {
    return { ok: true, root: convert(doc, doc.contents, text, doc.toJS()) };
  } catch (e) {
    if (e instanceof Unsupported) return { ok: false, error: e.message };
    throw e;
  }
}

class Unsupported extends Error {}

/**
 * `js` is the node's plain value, taken from its parent's (the document's value is computed once): a
 * pair's value is its mapping's value at that key (an explicit key wins over a `<<` merge), an item is
 * its sequence's value at that index.
 */
function convert(doc: Document, node: unknown, text: string, js: unknown): ONode | null {
  if (node === null || node === undefined) return null;
  if (isScalar(node)) {
    // `key:` with nothing after it: the library makes an empty null scalar; the outline has no node.
    if (node.value === null && node.source === '') return null;
    const [start, end] = node.range!;
    return { kind: 'scalar', value: js, start, end, block: node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL', anchored: Boolean(node.anchor) };
  }
  if (isMap(node)) {
    const value = (isRecord(js) ? js : node.toJS(doc)) as OMap['js'];
    const items: OPair[] = [];
    for (const p of node.items) {
      if (!isPair(p)) continue;
      const k = p.key as Node | null;
      if (!k?.range) throw new Unsupported('a mapping key that is empty or not a plain value; give every key a name');
      // A `<<` merge key resolves to a Symbol('<<') (yaml's merge tag).
      const key: unknown = isScalar(k) ? k.toJS(doc) : k;
      const name = typeof key === 'symbol' ? (key.description ?? '') : String(key);
      items.push({
        key: name,
        keyStart: k.range[0],
        end: pairEnd(text, p),
        value: convert(doc, p.value, text, typeof key === 'symbol' || !Object.hasOwn(value, name) ? toJSOf(doc, p.value) : value[name]),
      });
    }
    return { kind: 'map', flow: Boolean(node.flow), anchored: Boolean(node.anchor), start: node.range![0], items, js: value };
  }
  if (isSeq(node)) {
    const value = (Array.isArray(js) ? js : node.toJS(doc)) as unknown[];
    return {
      kind: 'seq',
      flow: Boolean(node.flow),
      anchored: Boolean(node.anchor),
      start: node.range![0],
      items: node.items.map((item, i) => convert(doc, item, text, value[i])),
      js: value,
    };
  }
  return { kind: 'other', js: isNode(node) ? node.toJS(doc) : null };
}

function toJSOf(doc: Document, node: unknown): unknown {
  return isNode(node) ? node.toJS(doc) : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Start of the line after a pair's value, including comments the parser attached to that value. */
function pairEnd(text: string, pair: Pair): number {
  const key = pair.key as Node;
  const value = pair.value as Node | null;
  const r = Math.max(key.range?.[2] ?? 0, value?.range?.[2] ?? 0, value?.range?.[1] ?? 0);
  const ls = text.lastIndexOf('\n', r - 1) + 1;
  // yaml's end offsets sometimes land on the next key's indentation: that is still "this line start".
  if (text.slice(ls, r).trim() === '') return ls;
  const nl = text.indexOf('\n', r);
  return nl < 0 ? text.length : nl + 1;
}

export function toJS(node: ONode | null): unknown {
  if (node === null) return null;
  return node.kind === 'scalar' ? node.value : node.js;
}

export function findPair(map: OMap, key: string): OPair | undefined {
  return map.items.find((p) => p.key === key);
}
