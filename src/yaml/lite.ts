// A parser for the plain YAML subset that kubeadm (Go's sigs.k8s.io/yaml) and kubectl write: block
// mappings and sequences, one scalar per line, no comments inside. It exists for speed: the yaml library
// loads ~60 modules and, run cold once per command, its parser was most of `plan`'s time
// (bench/results.md). Anything outside the subset returns null and the caller uses the yaml library,
// so this never has to be right about hard YAML, only about knowing when it is out of its depth:
//   - no tab, CR or BOM anywhere; no blank or comment line after the first content
//     line (comment and blank lines and one `---` may come first); no ` #` anywhere;
//   - keys: [A-Za-z0-9_./-] words that the core schema reads as strings, unique per mapping;
//   - values: plain scalars on one line, single-quoted, double-quoted without escapes, `{}` and `[]`;
//     no anchors, aliases, tags, block scalars, other flow collections, or multi-line scalars;
//   - plain scalars are typed as the YAML 1.2 core schema types them (yaml's default; the regular
//     expressions below are its own from yaml/dist/schema/core), except that floats, octal and hex
//     ints, and ints beyond 2^53 are left to the library.
// The same outline from the library is checked equal to this one in test/unit/yaml-lite.test.ts.
import { toJS, type OMap, type ONode, type OPair, type OScalar, type OSeq } from './outline.js';

class OutOfSubset extends Error {}
const out = (): never => {
  throw new OutOfSubset();
};

const NULL = /^(?:~|[Nn]ull|NULL)$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const TRUE = /^(?:[Tt]rue|TRUE)$/;
/** Every other core-schema number form (yaml/dist/schema/core/{int,float}.js): left to the library. */
const OTHER_NUMBER = [
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
  /^0o[0-7]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^[-+]?[0-9]+$/, // a decimal int not in the exact form below (leading zeros, "+", beyond 2^53)
];
const INT = /^-?(?:0|[1-9][0-9]{0,15})$/;
const KEY = /^([A-Za-z0-9_][A-Za-z0-9_./-]*):(?: |$)/;
/** Characters that start something other than a plain scalar (YAML 1.2 §5.3 indicators). */
const INDICATOR = new Set(['&', '*', '!', '|', '>', '%', '@', '`', '?', ':', ',', '[', ']', '{', '}', '#', '"', "'"]);

interface Line {
  start: number;
  /** Offset of the first non-space character. */
  content: number;
  /** Offset after the line's last non-space character. */
  end: number;
  indent: number;
}

// The same texts are read by discovery, planning and the editor (a manifest, then each edited
// version): parse each once. Outlines are never mutated, so sharing them is safe.
const outlines = new Map<string, OMap | null>();

/** The document's top-level block mapping, or null when the text is outside the subset. */
export function parseLite(text: string): OMap | null {
  let result = outlines.get(text);
  if (result === undefined) {
    result = parseUncached(text);
    if (outlines.size >= 64) outlines.delete(outlines.keys().next().value!);
    outlines.set(text, result);
  }
  return result;
}

function parseUncached(text: string): OMap | null {
  try {
    return new LiteParser(text).document();
  } catch (e) {
    if (e instanceof OutOfSubset) return null;
    throw e;
  }
}

class LiteParser {
  private readonly lines: Line[] = [];
  private i = 0;

  constructor(private readonly text: string) {
    if (/[\t\r\uFEFF]| #/.test(text)) out();
    // Line by line with native string functions, not a loop per character: a per-character loop here
    // gets optimised by TurboFan in the background, and Node waits for that at exit (~10 ms of `plan`).
    let started = false;
    let start = 0;
    for (const raw of text.split('\n')) {
      const lineStart = start;
      start += raw.length + 1;
      if (lineStart >= text.length) break; // after the final newline
      const end = lineStart + raw.length;
      const first = raw.search(/[^ ]/);
      const content = first < 0 ? end : lineStart + first;
      const blank = first < 0;
      if (!started && (blank || raw[first] === '#' || raw === '---')) continue; // leading comments, blank lines, a document start
      started = true;
      if (blank || raw[first] === '#') out();
      if (raw.startsWith('---') || raw.startsWith('...')) out();
      // Trailing spaces are not part of a value (a real fixture has one after a mountPath).
      this.lines.push({ start: lineStart, content, end: lineStart + raw.replace(/ +$/, '').length, indent: content - lineStart });
    }
  }

  document(): OMap {
    const first = this.lines[0];
    if (!first || first.indent !== 0) out();
    const root = this.map(0, first!.content);
    if (this.i !== this.lines.length) out();
    return root;
  }

  /** A block mapping whose keys sit at column `indent`; the first key at `firstKey` (maybe after `- `). */
  private map(indent: number, firstKey: number): OMap {
    const items: OPair[] = [];
    const js: Record<string, unknown> = {};
    for (let at = firstKey; this.i < this.lines.length; ) {
      const line = this.lines[this.i]!;
      if (items.length > 0) {
        if (line.indent < indent) break;
        if (line.indent > indent || this.isSeqEntry(line.content, line.end)) out();
        at = line.content;
      }
      const m = KEY.exec(this.text.slice(at, line.end));
      if (!m) out();
      const key = m![1]!;
      if (NULL.test(key) || BOOL.test(key) || INT.test(key) || OTHER_NUMBER.some((re) => re.test(key)) || key === '__proto__' || Object.hasOwn(js, key)) out();
      const rest = skipSpaces(this.text, at + m![0].length, line.end);
      let value: ONode | null;
      this.i++;
      if (rest < line.end) {
        value = this.scalarOrEmptyFlow(rest, line.end);
        this.noDeeperLine(indent);
      } else {
        value = this.nested(indent, true);
      }
      js[key] = toJS(value);
      items.push({ key, keyStart: at, end: this.lineStart(), value });
    }
    return { kind: 'map', flow: false, start: firstKey, items, js };
  }

  /** A block sequence whose `-` sit at column `indent`. */
  private seq(indent: number): OSeq {
    const items: Array<ONode | null> = [];
    const js: unknown[] = [];
    const start = this.lines[this.i]!.content;
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent !== indent || !this.isSeqEntry(line.content, line.end)) {
        if (line.indent > indent) out();
        break;
      }
      const at = skipSpaces(this.text, line.content + 1, line.end);
      let item: ONode | null;
      if (at === line.end) {
        this.i++;
        item = this.nested(indent, false);
      } else if (this.isSeqEntry(at, line.end)) {
        out(); // `- - x`: a compact nested sequence
      } else if (KEY.test(this.text.slice(at, line.end))) {
        item = this.map(at - line.start, at); // `- key: value`: a mapping whose first key is on this line
      } else {
        this.i++;
        item = this.scalarOrEmptyFlow(at, line.end);
        this.noDeeperLine(indent);
      }
      items.push(item!);
      js.push(toJS(item!));
    }
    return { kind: 'seq', flow: false, start, items, js };
  }

  /**
   * The block value after `key:` or a bare `-` at column `indent`: a deeper mapping or sequence, a
   * sequence at the same column (kubeadm's `command:\n- etcd`, only after a key), or nothing (null).
   */
  private nested(indent: number, afterKey: boolean): ONode | null {
    const next = this.lines[this.i];
    if (!next) return null;
    const seq = this.isSeqEntry(next.content, next.end);
    if (next.indent > indent) return seq ? this.seq(next.indent) : this.map(next.indent, next.content);
    if (next.indent === indent && seq && afterKey) return this.seq(indent);
    return null;
  }

  private scalarOrEmptyFlow(at: number, end: number): ONode {
    const s = this.text.slice(at, end);
    if (s === '{}') return { kind: 'map', flow: true, start: at, items: [], js: {} };
    if (s === '[]') return { kind: 'seq', flow: true, start: at, items: [], js: [] };
    return { kind: 'scalar', value: scalarValue(s), start: at, end, block: false } satisfies OScalar;
  }

  /** After a one-line value, a deeper line would be a continuation (a multi-line scalar) or an error. */
  private noDeeperLine(indent: number): void {
    const next = this.lines[this.i];
    if (next && next.indent > indent) out();
  }

  private isSeqEntry(at: number, end: number): boolean {
    return this.text[at] === '-' && (at + 1 === end || this.text[at + 1] === ' ');
  }

  private lineStart(): number {
    return this.lines[this.i]?.start ?? this.text.length;
  }
}

const NOT_SPACE = / *[^ ]/y;

/** The first offset at or after `at` that is not a space, or `end`. */
function skipSpaces(text: string, at: number, end: number): number {
  NOT_SPACE.lastIndex = at;
  return NOT_SPACE.test(text) ? Math.min(NOT_SPACE.lastIndex - 1, end) : end;
}

function scalarValue(s: string): string | number | boolean | null {
  const c = s[0]!;
  if (c === '"') {
    // Double-quoted without escapes: the content is the value.
    if (s.length < 2 || !s.endsWith('"') || /["\\]/.test(s.slice(1, -1))) out();
    return s.slice(1, -1);
  }
  if (c === "'") {
    if (s.length < 2 || !s.endsWith("'") || !/^(?:[^']|'')*$/.test(s.slice(1, -1))) out();
    return s.slice(1, -1).replace(/''/g, "'");
  }
  // `-`, `?` and `:` start a plain scalar only when a non-space follows (YAML 1.2 §7.3.3; kube-vip's `:2112`).
  const startsPlain = (c === '-' || c === '?' || c === ':') ? s.length > 1 && s[1] !== ' ' : !INDICATOR.has(c);
  if (!startsPlain || s.includes(': ') || s.endsWith(':')) out();
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return TRUE.test(s);
  if (INT.test(s)) return Number(s);
  if (OTHER_NUMBER.some((re) => re.test(s))) out();
  return s;
}
