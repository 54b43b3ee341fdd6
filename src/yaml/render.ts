// Render `key: value` as YAML lines in a file's own style, for splicing into a manifest. The values the
// manifest editor writes (IDs, booleans, RuntimeDefault, capability names, small maps and lists of
// them) are rendered here directly, exactly as the yaml library renders them; anything else is left to
// the library. test/unit/yaml-render.test.ts compares the two on every shape the editor writes.
import { yamlLib } from './lib.js';

export interface RenderStyle {
  /** Spaces per nesting level. */
  indent: number;
  /** Whether block sequences are indented under their key (kubeadm: no). */
  indentSeq: boolean;
}

/** A string the core schema reads back as the same string, written plain by the library. */
const SAFE_PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const RESERVED = /^(?:~|[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE)$/;

class NotSimple extends Error {}

export function renderPairLines(key: string, value: unknown, style: RenderStyle): string[] {
  try {
    return simplePair(key, value, 0, style);
  } catch (e) {
    if (!(e instanceof NotSimple)) throw e;
    const doc = new (yamlLib().Document)({ [key]: value });
    const out = doc.toString({ indent: style.indent, indentSeq: style.indentSeq, lineWidth: 0, flowCollectionPadding: false });
    return out.replace(/\n$/, '').split('\n');
  }
}

function simplePair(key: string, value: unknown, col: number, style: RenderStyle): string[] {
  const pad = ' '.repeat(col);
  const head = `${pad}${plain(key)}:`;
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${head} []`];
    // Without indentSeq the library still indents items by indent - 2 (its `- ` fills the rest): 0 at
    // kubeadm's indent of 2.
    const itemPad = ' '.repeat(col + (style.indentSeq ? style.indent : Math.max(0, style.indent - 2)));
    return [head, ...value.map((v) => `${itemPad}- ${scalar(v)}`)];
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return [`${head} {}`];
    return [head, ...entries.flatMap(([k, v]) => simplePair(k, v, col + style.indent, style))];
  }
  return [`${head} ${scalar(value)}`];
}

function scalar(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && !Object.is(v, -0)) return String(v);
  if (typeof v === 'string') return plain(v);
  throw new NotSimple();
}

function plain(s: string): string {
  if (!SAFE_PLAIN.test(s) || RESERVED.test(s)) throw new NotSimple();
  return s;
}
