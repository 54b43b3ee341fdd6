// YAML as the kubelet and kubectl read it. Both decode manifests, kubeconfigs and component configs with
// sigs.k8s.io/yaml (YAMLToJSON over its fork of go-yaml v2), which follows YAML 1.1: `01750` is the octal
// 1000, `yes`/`on`/`y` are true, `<<: *anchor` merges. Every YAML text the tool reads goes through
// parseYaml/parseYamlDocuments, and everything it writes through stringifyYaml.
//
// The yaml library's YAML 1.1 schema, with the scalar rules of go-yaml v2's resolve.go where they differ
// (checked against kubectl in test/integration/yaml-differential.test.ts):
//   - integers and floats: go-yaml drops every `_` and then asks strconv.ParseInt/ParseUint with base 0
//     (so `0o17`, `0X1F` and `0B101` are integers too), then its yamlStyleFloat expression;
//   - timestamps and sexagesimal numbers (`2001-12-14`, `190:20:30`) stay strings: go-yaml has no base 60,
//     and decoding into interface{} keeps a timestamp as the string it was written as;
//   - `!!binary` is the decoded bytes as a string (JSON has no bytes); `!!omap`, `!!pairs`, `!!set` are
//     not special.
import { Document, parseAllDocuments, type LineCounter, parseDocument, type DocumentOptions, type ParseOptions, type SchemaOptions, type ScalarTag, type Tags, type ToStringOptions } from 'yaml';
import { stringifyNumber } from 'yaml/util';

const INT_TAG = 'tag:yaml.org,2002:int';
const FLOAT_TAG = 'tag:yaml.org,2002:float';

/** go-yaml v2 tries numbers only for plain scalars starting with a digit or a sign (its resolve table hints). */
const NUMBER_START = /^[-+0-9]/;
/** What strconv.ParseInt/ParseUint(s, 0, 64) accept (after go-yaml removed the underscores). */
const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|[0-9]+)$/;
/** go-yaml v2's yamlStyleFloat. */
const GO_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
/** A float starting with `.`: go-yaml hands it to strconv.ParseFloat as written (no `_` removed). */
const DOT_FLOAT = /^\.[0-9]+(?:[eE][-+]?[0-9]+)?$/;

function goInt(s: string): number | null {
  if (!NUMBER_START.test(s)) return null;
  const plain = s.replace(/_/g, '');
  if (!GO_INT.test(plain)) return null;
  const negative = plain.startsWith('-');
  const digits = plain.replace(/^[-+]/, '');
  let n: number;
  if (/^0[xX]/.test(digits)) n = parseInt(digits.slice(2), 16);
  else if (/^0[bB]/.test(digits)) n = parseInt(digits.slice(2), 2);
  else if (/^0[oO]/.test(digits)) n = parseInt(digits.slice(2), 8);
  // A leading 0 means octal to ParseInt; `0789` fails there and go-yaml then reads it as the float 789.
  else if (/^0[0-7]+$/.test(digits)) n = parseInt(digits, 8);
  else n = Number(digits);
  return negative ? -n : n;
}

const goIntTag: ScalarTag = {
  identify: (v) => typeof v === 'bigint' || Number.isInteger(v),
  default: true,
  tag: INT_TAG,
  test: /^[-+0-9][-+0-9a-fA-FxXoObB_]*$/,
  resolve: (s) => goInt(s) ?? goFloat(s) ?? s,
  stringify: stringifyNumber,
};

function goFloat(s: string): number | null {
  if (NUMBER_START.test(s)) {
    const plain = s.replace(/_/g, '');
    return GO_FLOAT.test(plain) ? finite(Number(plain)) : null;
  }
  return DOT_FLOAT.test(s) ? finite(Number(s)) : null;
}

/** strconv.ParseFloat fails on out-of-range values (`1e400`), and go-yaml keeps the string. */
function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

const goFloatTag: ScalarTag = {
  identify: (v) => typeof v === 'number',
  default: true,
  tag: FLOAT_TAG,
  test: /^(?:[-+]?[0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9]+)?)$/,
  resolve: (s) => goFloat(s) ?? s,
  stringify: stringifyNumber,
};

const goBinaryTag: ScalarTag = {
  identify: () => false,
  default: false,
  tag: 'tag:yaml.org,2002:binary',
  resolve: (s) => Buffer.from(s, 'base64').toString('utf8'),
};

/** The yaml library's YAML 1.1 tags, numbers and binary as go-yaml v2 reads them, no timestamps or sets. */
function goTags(tags: Tags): Tags {
  const keep = tags.filter((t) => {
    if (typeof t !== 'object') return false;
    if (t.tag === INT_TAG) return false;
    if (t.tag === FLOAT_TAG) return t.format === 'NAN'; // .inf, .nan: the same in go-yaml
    return !/:(?:binary|omap|pairs|set|timestamp)$/.test(t.tag);
  });
  return [...keep, goIntTag, goFloatTag, goBinaryTag];
}

const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  customTags: goTags,
  // `<<: *anchor` merges (go-yaml v2 does them).
  merge: true,
};

/** One YAML document; check `.errors` before using it. */
export function parseYaml(text: string): Document.Parsed {
  return parseDocument(text, YAML_OPTIONS);
}

/** Every document of a YAML stream; check each one's `.errors`. A `lineCounter` learns the line starts (for line numbers in messages). */
export function parseYamlDocuments(text: string, lineCounter?: LineCounter): Document.Parsed[] {
  const docs = parseAllDocuments(text, lineCounter ? { ...YAML_OPTIONS, lineCounter } : YAML_OPTIONS);
  return Array.isArray(docs) ? docs : [docs as unknown as Document.Parsed];
}

/** The first error of a document as one line (the library adds a source excerpt on later lines). */
export function firstError(doc: Document.Parsed): string | null {
  const e = doc.errors[0];
  return e ? e.message.split('\n')[0]!.replace(/:$/, '') : null;
}

/** The YAML 1.2 core schema's tags: what most other tools read plain scalars as. */
const CORE_TAGS = new Document(null, { version: '1.2' }).schema.tags;

/**
 * YAML text for a value or a Document, that reads back the same in YAML 1.1 (the kubelet) and 1.2
 * (most other tools): a string that either reads as another type (`yes`, `on`, `y`, `0750`, `0o17`,
 * `1e3`, `null`) is written quoted. The library checks plain strings against its schema's tags and its
 * `compat` schema's tags; ours are go-yaml's 1.1 rules and the 1.2 core schema.
 */
export function stringifyYaml(value: unknown, options: ToStringOptions = {}): string {
  const doc = value instanceof Document ? value : new Document(value, YAML_OPTIONS);
  doc.schema.compat = CORE_TAGS;
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false, ...options });
}
