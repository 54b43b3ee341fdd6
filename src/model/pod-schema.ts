// Check a static-pod manifest against the v1 Pod schema, as the kubelet would read it, and say where
// (field path and line) and how to fix what is wrong. Pure: text in, issues out.
//
// What the kubelet does with a manifest (pkg/kubelet/config/common.go tryDecodeSinglePod): YAML →
// JSON (sigs.k8s.io/yaml), then runtime.Decode with legacyscheme.Codecs.UniversalDecoder(), whose
// JSON serializer is NOT strict, then defaulting and validation.ValidatePodCreate. So:
//   - a value of the wrong type (a string where an integer goes, a map where a list goes) fails the
//     decoding: the kubelet logs an error and never runs the pod;
//   - a missing required field, a volumeMount naming no volume, two volumes of one name, a volume of
//     two kinds fail ValidatePodCreate: the pod never runs either;
//   - an UNKNOWN field is dropped without a word. Field names are case-sensitive, so `hostpath:` is
//     not hostPath: the volume has no source and defaulting makes it an emptyDir
//     (pkg/apis/core/v1/defaults.go SetDefaults_Volume), and `readOlny: true` leaves the mount
//     read-write. The pod runs, but not what the operator wrote, and this tool would plan for the
//     wrong files. We treat an unknown field as a blocking problem too: it is almost always a typo
//     that changes what runs, and the fix (spell it right, or delete it) is the operator's to make.
// The schema is Kubernetes' own (src/model/pod-schema.generated.ts, from the OpenAPI document of
// the release named there). Fields only newer releases know are accepted for every node: an older
// kubelet drops them, which changes nothing the tool plans for.
import { isMap, isScalar, isSeq, LineCounter, type Document, type Node as YamlNode } from 'yaml';
import { parseYamlDocuments } from '../yaml/go-yaml.js';
import { POD_SCHEMA, POD_SCHEMA_ROOT } from './pod-schema.generated.js';

export interface SchemaIssue {
  /** Field path as Kubernetes prints it: spec.volumes[3].hostpath */
  field: string;
  /** 1-based line in the manifest, null when the field has no place of its own (a merged key). */
  line: number | null;
  /** What is wrong, and what the kubelet does with it. */
  message: string;
  fix: string;
}

type Seg = string | number;

function fieldPath(path: readonly Seg[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return `the timestamp ${v.toISOString()}`;
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `the ${typeof v} ${String(v)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Does the JSON the kubelet decodes from `v` fit `type`? (null/absent always fits: it is the zero value.) */
function fits(type: string, v: unknown): boolean {
  if (v === null || v === undefined) return true;
  switch (type) {
    case 'string':
    case 'time':
      return typeof v === 'string' || v instanceof Date;
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'int-or-string':
      return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
    case 'quantity':
      return typeof v === 'string' || typeof v === 'number';
    case 'object':
      return true;
    default:
      if (type.startsWith('[]')) return Array.isArray(v);
      return isObject(v);
  }
}

function expected(type: string): string {
  if (type.startsWith('[]')) return 'a list';
  if (type.startsWith('{}')) return 'a map';
  if (type === 'int-or-string') return 'an integer or a string';
  if (type === 'quantity') return 'a quantity (a string like "100m" or a number)';
  if (type === 'time') return 'a timestamp string';
  if (type === 'integer') return 'an integer';
  if (POD_SCHEMA[type]) return 'a map';
  return `a ${type}`;
}

/** Edit distance, to suggest the field a typo meant (readOlny → readOnly, hostpath → hostPath). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

function suggestion(name: string, known: string[]): string | null {
  const lower = name.toLowerCase();
  const same = known.find((k) => k.toLowerCase() === lower);
  if (same) return same;
  let best: string | null = null;
  let bestD = 3;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

interface Found {
  field: string;
  path: Seg[];
  message: string;
  fix: string;
}

function walk(type: string, v: unknown, path: Seg[], out: Found[]): void {
  if (v === null || v === undefined) return;
  const field = fieldPath(path);
  if (!fits(type, v)) {
    out.push({ field, path, message: `${field} must be ${expected(type)}, not ${describe(v)}: the kubelet cannot decode the manifest and never runs the pod`, fix: `write ${field} as ${expected(type)}` });
    return;
  }
  if (type.startsWith('[]')) {
    (v as unknown[]).forEach((item, i) => walk(type.slice(2), item, [...path, i], out));
    return;
  }
  if (type.startsWith('{}')) {
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) walk(type.slice(2), item, [...path, k], out);
    return;
  }
  const def = POD_SCHEMA[type];
  if (!def) return;
  const obj = v as Record<string, unknown>;
  const known = Object.keys(def.p);
  for (const [k, item] of Object.entries(obj)) {
    const t = def.p[k];
    if (t === undefined) {
      const f = fieldPath([...path, k]);
      const meant = suggestion(k, known);
      out.push({
        field: f,
        path: [...path, k],
        message: `${f} is not a field of ${type.replace(/^core\.v1\.|^meta\.v1\./, '')}${meant ? ` (did you mean ${meant}?)` : ''}: the kubelet silently drops unknown fields, so the pod would run without it`,
        fix: meant ? `rename ${k} to ${meant} (field names are case-sensitive), or delete it` : `delete ${k}, or move it where it belongs`,
      });
      continue;
    }
    walk(t, item, [...path, k], out);
  }
  for (const r of def.r ?? []) {
    if (obj[r] === undefined || obj[r] === null || obj[r] === '') {
      const f = fieldPath([...path, r]);
      out.push({ field: f, path, message: `${f} is required and missing: the kubelet rejects the pod (ValidatePodCreate) and never runs it`, fix: `set ${f}` });
    }
  }
}

/** What ValidatePodCreate rejects about volumes and mounts (the part this tool's analysis relies on). */
function checkVolumes(pod: Record<string, unknown>, out: Found[]): void {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
  const names = new Map<string, number>();
  volumes.forEach((v, i) => {
    if (!isObject(v)) return;
    const name = typeof v.name === 'string' ? v.name : '';
    if (name !== '' && names.has(name)) {
      out.push({ field: `spec.volumes[${i}].name`, path: ['spec', 'volumes', i, 'name'], message: `spec.volumes[${i}].name ${JSON.stringify(name)} is also the name of spec.volumes[${names.get(name)}]: the kubelet rejects the pod`, fix: 'give every volume its own name' });
    } else if (name !== '') names.set(name, i);
    const sources = Object.keys(v).filter((k) => k !== 'name' && POD_SCHEMA['core.v1.Volume'].p[k] !== undefined && v[k] !== null && v[k] !== undefined);
    if (sources.length > 1) {
      out.push({ field: `spec.volumes[${i}]`, path: ['spec', 'volumes', i], message: `spec.volumes[${i}] has more than one volume type (${sources.join(', ')}): the kubelet rejects the pod`, fix: 'keep one volume type per volume' });
    }
  });
  for (const key of ['initContainers', 'containers'] as const) {
    const containers = Array.isArray(spec[key]) ? spec[key] : [];
    containers.forEach((c, ci) => {
      if (!isObject(c) || !Array.isArray(c.volumeMounts)) return;
      const mountPaths = new Set<string>();
      c.volumeMounts.forEach((m, mi) => {
        if (!isObject(m)) return;
        const at: Seg[] = ['spec', key, ci, 'volumeMounts', mi];
        const f = fieldPath(at);
        if (typeof m.name === 'string' && m.name !== '' && !names.has(m.name)) {
          out.push({ field: `${f}.name`, path: [...at, 'name'], message: `${f}.name ${JSON.stringify(m.name)} names no volume in spec.volumes: the kubelet rejects the pod`, fix: `add a volume named ${m.name} to spec.volumes, or fix the mount's name` });
        }
        if (typeof m.mountPath === 'string' && m.mountPath !== '') {
          if (mountPaths.has(m.mountPath)) {
            out.push({ field: `${f}.mountPath`, path: [...at, 'mountPath'], message: `${f}.mountPath ${m.mountPath} is mounted twice in this container: the kubelet rejects the pod`, fix: 'mount each path once' });
          }
          mountPaths.add(m.mountPath);
        }
      });
    });
  }
}

/** Line (1-based) of the deepest node of `path` present in the document, preferring a map key's own line. */
function lineOf(doc: { contents: unknown }, counter: LineCounter, path: readonly Seg[]): number | null {
  let node = doc.contents as YamlNode | null;
  let offset: number | null = node?.range?.[0] ?? null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      offset = (pair.key as YamlNode).range?.[0] ?? offset;
      node = pair.value as YamlNode | null;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as YamlNode | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset === null ? null : counter.linePos(offset).line;
}

/**
 * Every way the manifest's Pod does not fit the schema, in document order. [] for a good manifest,
 * and for text that is not one YAML document (parsePod reports that).
 */
export function validatePodManifest(text: string): SchemaIssue[] {
  const counter = new LineCounter();
  const docs = parseYamlDocuments(text, counter);
  const withContent = docs.filter((d) => d.errors.length === 0 && d.contents !== null);
  if (withContent.length !== 1 || docs.some((d) => d.errors.length > 0)) return [];
  const doc = withContent[0]!;
  return podSchemaIssues(doc, doc.toJS() as unknown, counter);
}

/** validatePodManifest over a document already parsed (with `counter`), and its plain value. */
export function podSchemaIssues(doc: Document.Parsed, value: unknown, counter: LineCounter): SchemaIssue[] {
  if (!isObject(value)) return [];
  const found: Found[] = [];
  walk(POD_SCHEMA_ROOT, value, [], found);
  checkVolumes(value, found);
  const issues = found.map((f) => ({ field: f.field, line: lineOf(doc, counter, f.path), message: f.message, fix: f.fix }));
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
