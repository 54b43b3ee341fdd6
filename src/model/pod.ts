// Parse one static-pod manifest into PodInfo, and decide whether it is one of kubeadm's four
// control-plane pods. Pure: the caller reads the file.
//
// Identification: file name AND content. kubeadm writes
// `<component>.yaml` with metadata.name = labels.component = <component>, tier: control-plane, and
// the container command starts with the component's binary (manifests.go / local.go). Other static
// pods (haproxy, keepalived, kube-vip) and look-alikes (a `my-scheduler.yaml` copied from
// kube-scheduler.yaml, running the same image) fail at least one of those checks and are left alone.
import { firstError, parseYamlDocuments } from '../yaml/go-yaml.js';
import { posix } from 'node:path';
import { COMPONENTS, type Component } from './components.js';
import type { HostPathVolume, HttpProbe, PodInfo, VolumeMount } from './pod.types.js';
import { parseFlags } from './flags.js';
import { InputError } from '../errors.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v))) {
    const s = str(val);
    if (s !== null) out[k] = s;
  }
  return out;
}

/** "/var/run/k8s-kms-plugin/" → "/var/run/k8s-kms-plugin"; "/" stays "/". */
function trimTrailingSlash(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t === '' && p.startsWith('/') ? '/' : t;
}

function describeKind(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'empty';
  return `a ${typeof v}`;
}

/**
 * Parse a static-pod manifest as the kubelet reads it (YAML 1.1). `path` is only used in error messages.
 * Throws InputError for invalid YAML, more than one document, a non-Pod, no containers, or no image.
 */
export function parsePod(text: string, path: string): PodInfo {
  return podInfo(onlyDocument(text, path), path);
}

/** The one document of a manifest. */
function onlyDocument(text: string, path: string): unknown {
  const docs = parseYamlDocuments(text);
  for (const doc of docs) {
    const error = firstError(doc);
    if (error !== null) throw new InputError(`${path}: invalid YAML: ${error}; fix the file so that it parses as a Pod manifest`, path);
  }
  // An empty document (a trailing `---`, a comment-only tail) carries nothing; do not count it.
  const contents = docs.map((d) => d.toJS() as unknown).filter((c) => c !== null && c !== undefined);
  if (contents.length !== 1) {
    throw new InputError(
      `${path}: not a single Pod document (found ${contents.length} YAML documents); kubeadm writes one Pod per file`,
      path,
    );
  }
  return contents[0];
}

function podInfo(root: unknown, path: string): PodInfo {
  if (!isObj(root)) {
    throw new InputError(`${path}: not a Kubernetes object (the document is ${describeKind(root)}); expected a Pod manifest`, path);
  }
  if (root.kind !== 'Pod') {
    const kind = str(root.kind);
    throw new InputError(
      `${path}: kind is ${kind === null ? 'missing' : JSON.stringify(kind)}, expected "Pod"; the kubelet only runs Pod manifests from the static-pod directory`,
      path,
    );
  }
  const metadata = obj(root.metadata);
  const spec = obj(root.spec);
  const containers = list(spec.containers);
  if (containers.length === 0 || !isObj(containers[0])) {
    throw new InputError(`${path}: the Pod has no containers (spec.containers is missing or empty)`, path);
  }
  const c = containers[0];
  const containerName = str(c.name) ?? '';
  const image = str(c.image);
  if (image === null || image.trim() === '') {
    throw new InputError(`${path}: container ${JSON.stringify(containerName)} has no image; set spec.containers[0].image`, path);
  }
  const argv = [...list(c.command), ...list(c.args)].map((a) => str(a) ?? '');
  const mounts: VolumeMount[] = list(c.volumeMounts)
    .filter(isObj)
    .map((m) => ({ name: str(m.name) ?? '', mountPath: str(m.mountPath) ?? '', readOnly: m.readOnly === true }));
  const volumes: HostPathVolume[] = [];
  for (const v of list(spec.volumes).filter(isObj)) {
    if (!isObj(v.hostPath)) continue;
    volumes.push({
      name: str(v.name) ?? '',
      path: trimTrailingSlash((str(v.hostPath.path) ?? '').trim()),
      type: str(v.hostPath.type) ?? '',
    });
  }
  const namespace = str(metadata.namespace);
  return {
    name: str(metadata.name) ?? '',
    namespace,
    labels: stringMap(metadata.labels),
    annotations: stringMap(metadata.annotations),
    containerName,
    image: image.trim(),
    argv,
    flags: parseFlags(argv),
    mounts,
    volumes,
    podSecurityContext: obj(spec.securityContext),
    containerSecurityContext: obj(c.securityContext),
    probes: parseProbes(c),
    hostNetwork: spec.hostNetwork === true,
  };
}

const PROBE_KINDS = ['startupProbe', 'livenessProbe', 'readinessProbe'] as const;

/**
 * httpGet probes of the container. exec/tcpSocket/grpc probes are skipped (nothing to check over
 * HTTP). A port may be an int, a quoted number ("6443") or a named containerPort (IntOrString);
 * a name that no containerPort carries cannot be resolved and that probe is skipped.
 */
function parseProbes(container: Obj): HttpProbe[] {
  const named = new Map<string, number>();
  for (const p of list(container.ports).filter(isObj)) {
    const name = str(p.name);
    if (name !== null && typeof p.containerPort === 'number') named.set(name, p.containerPort);
  }
  const probes: HttpProbe[] = [];
  for (const kind of PROBE_KINDS) {
    const probe = obj(container[kind]);
    if (!isObj(probe.httpGet)) continue;
    const get = probe.httpGet;
    const port = probePort(get.port, named);
    if (port === null) continue;
    const host = str(get.host);
    probes.push({
      kind,
      // The API only accepts HTTP and HTTPS (default HTTP).
      scheme: str(get.scheme)?.toUpperCase() === 'HTTPS' ? 'HTTPS' : 'HTTP',
      host: host === null || host === '' ? null : host,
      port,
      path: str(get.path) || '/',
    });
  }
  return probes;
}

function probePort(v: unknown, named: Map<string, number>): number | null {
  if (typeof v === 'number') return Number.isInteger(v) ? v : null;
  const s = str(v);
  if (s === null) return null;
  if (/^\d+$/.test(s)) return Number(s);
  return named.get(s) ?? null;
}

/** The component a file is named after ("kube-apiserver.yaml" → "kube-apiserver"), by name only. */
export function looksLikeComponentFile(fileName: string): Component | null {
  const base = posix.basename(fileName);
  return COMPONENTS.find((c) => base === `${c}.yaml`) ?? null;
}

/**
 * The kubeadm component this manifest is, or null when it is any other static pod. All must hold:
 * the file is `<component>.yaml`, metadata.name and labels.component equal the component,
 * labels.tier is control-plane, and argv[0]'s basename is the component's binary (same name).
 */
export function identifyComponent(fileName: string, pod: PodInfo): Component | null {
  const component = looksLikeComponentFile(fileName);
  if (component === null) return null;
  if (pod.name !== component) return null;
  if (pod.labels.component !== component) return null;
  if (pod.labels.tier !== 'control-plane') return null;
  if (pod.argv.length === 0 || posix.basename(pod.argv[0]) !== component) return null;
  return component;
}
