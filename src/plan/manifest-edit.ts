// Byte-preserving securityContext edits of a static-pod manifest.
//
// Why splice instead of re-serialising: yaml's Document API round-trips kubeadm's own output
// byte-for-byte, but not hand-edited files (it collapses the spaces before an inline comment and
// re-indents; /work/shared/reference/cli-stack.md §5). So a parse is used only to LOCATE things (the
// outline's offsets, src/yaml/outline.ts); each edit renders just the new fragment and splices it into
// the original text. Everything outside the edited keys stays byte-identical: comments, key order,
// quoting, blank lines, trailing spaces, a missing final newline, a leading `---` or comment.
//
// Each primitive edit re-parses the current text, so consecutive edits never have to reconcile
// offsets. kubeadm's own manifests are parsed by src/yaml/lite.ts (microseconds); anything else by the
// yaml library, which gives the same outline.
import { InputError } from '../errors.js';
import { outlineWithYaml } from '../yaml/from-yaml.js';
import { parseLite } from '../yaml/lite.js';
import { findPair, getIn, toJS, type OMap, type ONode, type OPair, type OScalar } from '../yaml/outline.js';
import { renderPairLines } from '../yaml/render.js';

export interface DesiredSecurity {
  runAsUser: number;
  runAsGroup: number;
  /** Set exactly this list; [] → the key is removed. */
  supplementalGroups: number[];
  /** 'field': pod securityContext.seccompProfile (Kubernetes >= 1.19); 'annotation': the pre-1.19 pod annotation. */
  seccomp: 'field' | 'annotation';
  /** Container capabilities.add; [] → no add key. drop is always [ALL]. */
  capabilitiesAdd: string[];
  /** false → set allowPrivilegeEscalation: false; null → leave the key as it is (kube-apiserver, as kubeadm). */
  allowPrivilegeEscalation: false | null;
}

export interface ManifestSecurity {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  supplementalGroups?: number[];
  seccompProfileType?: string;
  seccompAnnotation?: string;
  capabilitiesAdd?: string[];
  capabilitiesDrop?: string[];
  allowPrivilegeEscalation?: boolean;
}

export interface EditResult {
  text: string;
  /** One short human line per edited key, e.g. "pod securityContext.runAsUser: 101". */
  changes: string[];
}

/** The pre-1.19 pod-level seccomp annotation (deprecated when the field went GA in 1.19; kubeadm-manifests.md §3). */
export const SECCOMP_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';

type PathKey = string | number;

const POD_SC: PathKey[] = ['spec', 'securityContext'];
const CONTAINER_SC: PathKey[] = ['spec', 'containers', 0, 'securityContext'];
const ANNOTATIONS: PathKey[] = ['metadata', 'annotations'];
/** Pod securityContext keys this tool manages (kubeadm RootlessControlPlane puts them at pod level; kubeadm-rootless.md §4). */
const POD_MANAGED = ['runAsGroup', 'runAsNonRoot', 'runAsUser', 'supplementalGroups'];
const CONTAINER_MANAGED = ['allowPrivilegeEscalation', 'capabilities'];

// ---------------------------------------------------------------------------------------------
// Public API

export function applySecurity(text: string, desired: DesiredSecurity, source?: string): EditResult {
  checkDesired(desired, source);
  const ed = new Editor(text, source);
  // Fast paths: a securityContext that does not exist yet is inserted whole, in one splice, instead of
  // key by key (each edit re-parses the text, and parsing is most of plan's run time). Same text as the
  // key-by-key edits produce: keys sorted as kubeadm sorts them.
  const doc = parse(text, source);
  if (getJS(doc, POD_SC) === undefined && desired.seccomp === 'field' && getJS(doc, [...ANNOTATIONS, SECCOMP_ANNOTATION]) === undefined) {
    const sc: Record<string, unknown> = { runAsGroup: desired.runAsGroup, runAsNonRoot: true, runAsUser: desired.runAsUser, seccompProfile: { type: 'RuntimeDefault' } };
    if (desired.supplementalGroups.length > 0) sc.supplementalGroups = desired.supplementalGroups;
    ed.setWhole(POD_SC, sc, 'pod securityContext');
  }
  const containerScAbsent = getJS(doc, CONTAINER_SC) === undefined;
  ed.set([...POD_SC, 'runAsGroup'], desired.runAsGroup, 'pod securityContext.runAsGroup');
  ed.set([...POD_SC, 'runAsNonRoot'], true, 'pod securityContext.runAsNonRoot');
  ed.set([...POD_SC, 'runAsUser'], desired.runAsUser, 'pod securityContext.runAsUser');
  if (desired.supplementalGroups.length > 0) {
    ed.set([...POD_SC, 'supplementalGroups'], desired.supplementalGroups, 'pod securityContext.supplementalGroups');
  } else {
    ed.remove([...POD_SC, 'supplementalGroups'], 'pod securityContext.supplementalGroups');
  }
  applySeccomp(ed, desired.seccomp, source);

  if (containerScAbsent) {
    const caps: Record<string, unknown> = desired.capabilitiesAdd.length > 0 ? { add: desired.capabilitiesAdd, drop: ['ALL'] } : { drop: ['ALL'] };
    ed.setWhole(CONTAINER_SC, desired.allowPrivilegeEscalation === false ? { allowPrivilegeEscalation: false, capabilities: caps } : { capabilities: caps }, 'container securityContext');
  }

  if (desired.allowPrivilegeEscalation === false) {
    ed.set([...CONTAINER_SC, 'allowPrivilegeEscalation'], false, 'container securityContext.allowPrivilegeEscalation');
  }
  if (desired.capabilitiesAdd.length > 0) {
    ed.set([...CONTAINER_SC, 'capabilities', 'add'], desired.capabilitiesAdd, 'container securityContext.capabilities.add');
  } else {
    ed.remove([...CONTAINER_SC, 'capabilities', 'add'], 'container securityContext.capabilities.add');
  }
  ed.set([...CONTAINER_SC, 'capabilities', 'drop'], ['ALL'], 'container securityContext.capabilities.drop');
  return ed.result();
}

/** The inverse of applySecurity, for `revert`. */
export function removeSecurity(
  text: string,
  opts: { keepSeccompField: boolean; removeSeccompAnnotation: boolean },
  source?: string,
): EditResult {
  const ed = new Editor(text, source);
  const podKeys = opts.keepSeccompField ? POD_MANAGED : [...POD_MANAGED, 'seccompProfile'];
  ed.removeKeys(POD_SC, podKeys, 'pod securityContext');
  if (opts.removeSeccompAnnotation) ed.removeKeys(ANNOTATIONS, [SECCOMP_ANNOTATION], 'annotation');
  ed.removeKeys(CONTAINER_SC, CONTAINER_MANAGED, 'container securityContext');
  return ed.result();
}

/** What a manifest currently sets. A key with a value of the wrong type (e.g. runAsUser: "101") reads as absent. */
export function readSecurity(text: string, source?: string): ManifestSecurity {
  const doc = parse(text, source);
  const pod = asRecord(getJS(doc, POD_SC));
  const ctr = asRecord(getJS(doc, CONTAINER_SC));
  const caps = asRecord(ctr['capabilities']);
  const seccomp = asRecord(pod['seccompProfile']);
  const annotation = asRecord(getJS(doc, ANNOTATIONS))[SECCOMP_ANNOTATION];
  const out: ManifestSecurity = {};
  if (isInt(pod['runAsUser'])) out.runAsUser = pod['runAsUser'];
  if (isInt(pod['runAsGroup'])) out.runAsGroup = pod['runAsGroup'];
  if (typeof pod['runAsNonRoot'] === 'boolean') out.runAsNonRoot = pod['runAsNonRoot'];
  if (Array.isArray(pod['supplementalGroups']) && pod['supplementalGroups'].every(isInt)) out.supplementalGroups = pod['supplementalGroups'];
  if (typeof seccomp['type'] === 'string') out.seccompProfileType = seccomp['type'];
  if (typeof annotation === 'string') out.seccompAnnotation = annotation;
  if (isStringList(caps['add'])) out.capabilitiesAdd = caps['add'];
  if (isStringList(caps['drop'])) out.capabilitiesDrop = caps['drop'];
  if (typeof ctr['allowPrivilegeEscalation'] === 'boolean') out.allowPrivilegeEscalation = ctr['allowPrivilegeEscalation'];
  return out;
}

// ---------------------------------------------------------------------------------------------
// seccomp: field vs annotation (kubeadm-manifests.md §3)

function applySeccomp(ed: Editor, style: 'field' | 'annotation', source: string | undefined): void {
  const doc = parse(ed.text, source);
  const field = getJS(doc, [...POD_SC, 'seccompProfile']);
  const annotation = asRecord(getJS(doc, ANNOTATIONS))[SECCOMP_ANNOTATION];
  const hasField = field !== undefined && field !== null;
  const hasAnnotation = annotation !== undefined && annotation !== null;
  if (style === 'field' && !hasField) {
    // Translate an existing annotation so both forms agree; otherwise the default kubeadm uses (#100234).
    const profile = hasAnnotation ? annotationToField(String(annotation), source) : { type: 'RuntimeDefault' };
    ed.set([...POD_SC, 'seccompProfile'], profile, 'pod securityContext.seccompProfile');
  }
  if (style === 'annotation' && !hasAnnotation) {
    // Pre-1.19 kubelets honour only the annotation; mirror an existing field rather than contradict it.
    const value = hasField ? fieldToAnnotation(asRecord(field), source) : 'runtime/default';
    ed.set([...ANNOTATIONS, SECCOMP_ANNOTATION], value, `annotation ${SECCOMP_ANNOTATION}`);
  }
}

/** The kubelet's own annotation → field mapping (runtime/default and the older docker/default are the same profile). */
function annotationToField(value: string, source: string | undefined): Record<string, string> {
  if (value === 'runtime/default' || value === 'docker/default') return { type: 'RuntimeDefault' };
  if (value === 'unconfined') return { type: 'Unconfined' };
  if (value.startsWith('localhost/') && value.length > 'localhost/'.length) {
    return { localhostProfile: value.slice('localhost/'.length), type: 'Localhost' };
  }
  throw new InputError(
    `annotation ${SECCOMP_ANNOTATION}: unknown seccomp profile "${value}"; use runtime/default, unconfined or localhost/<profile>, or set spec.securityContext.seccompProfile yourself`,
    source,
  );
}

function fieldToAnnotation(field: Record<string, unknown>, source: string | undefined): string {
  if (field['type'] === 'RuntimeDefault') return 'runtime/default';
  if (field['type'] === 'Unconfined') return 'unconfined';
  if (field['type'] === 'Localhost' && typeof field['localhostProfile'] === 'string') return `localhost/${field['localhostProfile']}`;
  throw new InputError(
    `spec.securityContext.seccompProfile: cannot express ${JSON.stringify(field)} as the ${SECCOMP_ANNOTATION} annotation; set the annotation yourself`,
    source,
  );
}

function checkDesired(d: DesiredSecurity, source: string | undefined): void {
  const ids: Array<[string, number]> = [
    ['runAsUser', d.runAsUser],
    ['runAsGroup', d.runAsGroup],
    ...d.supplementalGroups.map((g, i): [string, number] => [`supplementalGroups[${i}]`, g]),
  ];
  for (const [name, id] of ids) {
    if (!isInt(id) || id < 0) throw new InputError(`${name}: ${id} is not a valid ID (a non-negative integer)`, source);
  }
  // runAsNonRoot: true is written too, and the kubelet refuses to start a container with it and UID 0.
  if (d.runAsUser === 0) throw new InputError('runAsUser: 0 is root; choose a non-root UID', source);
}

// ---------------------------------------------------------------------------------------------
// Editor: applies keyed edits one at a time and records the change lines.

class Editor {
  private readonly changes: string[] = [];
  constructor(
    public text: string,
    private readonly source: string | undefined,
  ) {
    parse(text, source); // fail early on invalid input
  }

  set(path: PathKey[], value: unknown, label: string): void {
    const next = setIn(this.text, path, value, this.source);
    if (next !== this.text) {
      this.text = next;
      this.changes.push(`${label}: ${formatValue(value)}`);
    }
  }

  /** Insert a mapping that does not exist yet in one edit, recording one change line per leaf (as set() would). */
  setWhole(path: PathKey[], value: Record<string, unknown>, label: string): void {
    this.text = setIn(this.text, path, value, this.source);
    const leaves = (v: unknown, at: string): string[] =>
      isRecord(v) ? Object.entries(v).flatMap(([k, x]) => (isRecord(x) && k !== 'seccompProfile' ? leaves(x, `${at}.${k}`) : [`${at}.${k}: ${formatValue(x)}`])) : [];
    this.changes.push(...leaves(value, label));
  }

  remove(path: PathKey[], label: string): void {
    const before = getJS(parse(this.text, this.source), path);
    const next = deleteIn(this.text, path, this.source);
    if (next !== this.text) {
      this.text = next;
      this.changes.push(`${label}: removed (was ${formatValue(before)})`);
    }
  }

  /** Remove `keys` from the mapping at `mapPath`; remove the mapping itself when nothing else is left in it. */
  removeKeys(mapPath: PathKey[], keys: string[], label: string): void {
    const current = getJS(parse(this.text, this.source), mapPath);
    if (!isRecord(current)) return;
    const present = Object.keys(current).filter((k) => keys.includes(k));
    if (present.length === 0) return;
    const leftover = Object.keys(current).filter((k) => !keys.includes(k));
    this.text =
      leftover.length === 0
        ? deleteIn(this.text, mapPath, this.source)
        : present.reduce((t, k) => deleteIn(t, [...mapPath, k], this.source), this.text);
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
function setIn(text: string, path: PathKey[], value: unknown, source: string | undefined): string {
  const doc = parse(text, source);
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
function deleteIn(text: string, path: PathKey[], source: string | undefined): string {
  const doc = parse(text, source);
  const style = detectStyle(doc, text);
  let node: ONode | null = doc;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const rest = path.slice(i + 1);
    if (typeof seg === 'number') {
      if (node?.kind !== 'seq' || !node.items[seg]) return text;
      node = node.items[seg]!;
      continue;
    }
    if (node?.kind !== 'map') return text;
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
  return renderPairLines(key, value, style);
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

// Each edit re-reads the text it produced, and the same text is read several times per edit, so outlines
// are kept by text. They are only read, never mutated, so sharing them is safe.
const parsed = new Map<string, OMap>();

function parse(text: string, source: string | undefined): OMap {
  const hit = parsed.get(text);
  if (hit) return hit;
  let root: ONode | null = parseLite(text);
  if (root === null) {
    const full = outlineWithYaml(text);
    if (!full.ok) throw new InputError(`not valid YAML: ${full.error}; fix the manifest and retry`, source);
    root = full.root;
  }
  if (root?.kind !== 'map' || root.flow) {
    throw new InputError('expected a Pod manifest with a block mapping at the top level', source);
  }
  if (parsed.size >= 64) parsed.delete(parsed.keys().next().value!);
  parsed.set(text, root);
  return root;
}

function blockMap(node: ONode | null, at: PathKey[], source: string | undefined): OMap {
  if (node?.kind === 'map' && !node.flow) return node;
  throw new InputError(`${pathString(at) || 'the document'} is not a block mapping; rewrite it in block style`, source);
}

function seqItem(node: ONode | null, index: number, at: PathKey[], source: string | undefined): ONode | null {
  if (node?.kind === 'seq' && !node.flow && node.items[index] !== undefined) return node.items[index]!;
  throw new InputError(`${pathString(at)} not found: a static pod manifest needs spec.containers[0]`, source);
}

function getJS(doc: OMap, path: PathKey[]): unknown {
  const node = getIn(doc, path);
  return node === undefined ? undefined : toJS(node);
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

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function isScalarValue(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}
