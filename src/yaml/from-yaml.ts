// The outline (src/yaml/outline.ts) of any YAML the yaml library parses, from its Document node ranges:
// the fallback for text outside src/yaml/lite.ts's subset (comments, anchors, block scalars, ...).
import type { Document, Node, Pair } from 'yaml';
import { yamlLib } from './lib.js';
import type { OMap, ONode, OPair } from './outline.js';

export type FromYaml = { ok: true; root: ONode | null } | { ok: false; error: string };

/** Parse with the yaml library; the first error's first line when the text is not valid YAML. */
export function outlineWithYaml(text: string): FromYaml {
  const doc = yamlLib().parseDocument(text);
  if (doc.errors.length > 0) return { ok: false, error: doc.errors[0]!.message.split('\n')[0]! };
  try {
    return { ok: true, root: convert(doc, doc.contents, text) };
  } catch (e) {
    if (e instanceof Unsupported) return { ok: false, error: e.message };
    throw e;
  }
}

class Unsupported extends Error {}

function convert(doc: Document, node: unknown, text: string): ONode | null {
  const y = yamlLib();
  if (node === null || node === undefined) return null;
  if (y.isScalar(node)) {
    // `key:` with nothing after it: the library makes an empty null scalar; the outline has no node.
    if (node.value === null && node.source === '') return null;
    const [start, end] = node.range!;
    const value = node.toJSON() as string | number | boolean | null;
    return { kind: 'scalar', value, start, end, block: node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL' };
  }
  if (y.isMap(node)) {
    const items: OPair[] = [];
    for (const p of node.items) {
      if (!y.isPair(p)) continue;
      const k = p.key as Node | null;
      if (!k?.range) throw new Unsupported('a mapping key that is empty or not a plain value; give every key a name');
      items.push({
        key: String(y.isScalar(k) ? k.value : k),
        keyStart: k.range[0],
        end: pairEnd(text, p),
        value: convert(doc, p.value, text),
      });
    }
    return { kind: 'map', flow: Boolean(node.flow), start: node.range![0], items, js: node.toJS(doc) as OMap['js'] };
  }
  if (y.isSeq(node)) {
    return {
      kind: 'seq',
      flow: Boolean(node.flow),
      start: node.range![0],
      items: node.items.map((item) => convert(doc, item, text)),
      js: node.toJS(doc) as unknown[],
    };
  }
  return { kind: 'other', js: y.isNode(node) ? node.toJS(doc) : null };
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
