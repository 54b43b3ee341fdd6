// Parse one static-pod manifest into PodInfo: the fields the tool reasons about. Pure: the caller
// reads the file. Which pods are kubeadm's components is decided in identify.ts.
import type { Document } from 'yaml';
import { firstError, parseYamlDocuments } from '../yaml/go-yaml.js';
import type { ContainerInfo, ContainerList, ExecCommand, HostPathVolume, HttpProbe, PodInfo, VolumeMount } from './pod.types.js';
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
  return podInfo(onlyDocument(parseYamlDocuments(text), path).value, path);
}

/**
 * The uid a pod's container runs as by its manifest: a container-level runAsUser wins over the pod's
 * (PodSecurityContext docs); null when neither is set (the image's user: root in kubeadm's images).
 */
export function runsAsUid(pod: PodInfo): number | null {
  const v = pod.containerSecurityContext.runAsUser ?? pod.podSecurityContext.runAsUser;
  return v === undefined ? null : Number(v);
}

/** The one document of a manifest (already parsed), and its plain value. */
export function onlyDocument(docs: Document.Parsed[], path: string): { doc: Document.Parsed; value: unknown } {
  for (const doc of docs) {
    const error = firstError(doc);
    if (error !== null) throw new InputError(`${path}: invalid YAML: ${error}; fix the file so that it parses as a Pod manifest`, path);
  }
  // An empty document (a trailing `---`, a comment-only tail) carries nothing; do not count it.
  const contents = docs.map((doc) => ({ doc, value: doc.toJS() as unknown })).filter((c) => c.value !== null && c.value !== undefined);
  if (contents.length !== 1) {
    throw new InputError(
      `${path}: not a single Pod document (found ${contents.length} YAML documents); kubeadm writes one Pod per file`,
      path,
    );
  }
  return contents[0]!;
}

/** The PodInfo of a manifest's plain value (see parsePod). */
export function podInfo(root: unknown, path: string): PodInfo {
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
  const command = list(c.command).map((a) => str(a) ?? '');
  const main = containerInfo(c, 'containers', 0);
  const { argv, mounts } = main;
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
    command,
    flags: main.flags,
    mounts,
    volumes,
    podSecurityContext: obj(spec.securityContext),
    containerSecurityContext: main.securityContext,
    probes: parseProbes(c),
    execCommands: main.execCommands,
    hostNetwork: spec.hostNetwork === true,
    allContainers: allContainers(spec),
    dumpSigns: dumpSigns(metadata, obj(root.status)),
  };
}

/** One container's command line, mounts, securityContext and exec commands. */
function containerInfo(c: Obj, where: ContainerList, index: number): ContainerInfo {
  const argv = [...list(c.command), ...list(c.args)].map((a) => str(a) ?? '');
  const mounts: VolumeMount[] = list(c.volumeMounts)
    .filter(isObj)
    .map((m) => ({ name: str(m.name) ?? '', mountPath: str(m.mountPath) ?? '', readOnly: m.readOnly === true }));
  return { list: where, index, name: str(c.name) ?? '', argv, flags: parseFlags(argv), mounts, securityContext: obj(c.securityContext), execCommands: parseExecCommands(c) };
}

/** Every container of the pod spec: initContainers, containers, ephemeralContainers, in that order. */
function allContainers(spec: Obj): ContainerInfo[] {
  return (['initContainers', 'containers', 'ephemeralContainers'] as const).flatMap((where) => list(spec[where]).flatMap((c, i) => (isObj(c) ? [containerInfo(c, where, i)] : [])));
}

/**
 * exec probes and lifecycle hooks (postStart/preStop): the runtime runs them inside the container
 * with the container's user and groups (CRI ExecSync), so every file they name must be readable by
 * the migrated identity too — kubeadm's etcd up to v1.15 probes with
 * `etcdctl --key=/etc/kubernetes/pki/etcd/healthcheck-client.key` (cmd/kubeadm/app/phases/etcd/local.go).
 */
function parseExecCommands(container: Obj): ExecCommand[] {
  const out: ExecCommand[] = [];
  for (const source of PROBE_KINDS) {
    const exec = obj(obj(container[source]).exec);
    const argv = list(exec.command).map((a) => str(a) ?? '');
    if (argv.length > 0) out.push({ source, argv });
  }
  const lifecycle = obj(container.lifecycle);
  for (const source of ['postStart', 'preStop'] as const) {
    const exec = obj(obj(lifecycle[source]).exec);
    const argv = list(exec.command).map((a) => str(a) ?? '');
    if (argv.length > 0) out.push({ source, argv });
  }
  return out;
}

/** What marks an API-server dump of a pod (fields only the API server fills in; kubeadm writes none). */
function dumpSigns(metadata: Obj, status: Obj): string[] {
  const signs: string[] = [];
  if (str(metadata.uid)) signs.push('metadata.uid');
  if (str(metadata.resourceVersion)) signs.push('metadata.resourceVersion');
  if (list(metadata.ownerReferences).length > 0) signs.push('metadata.ownerReferences');
  if (str(obj(metadata.annotations)['kubernetes.io/config.mirror'])) signs.push('the kubernetes.io/config.mirror annotation');
  if (list(status.containerStatuses).length > 0) signs.push('status.containerStatuses');
  return signs;
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

// Identification lives in identify.ts; re-exported here for the callers that parse and identify together.
export { identifyComponent, looksLikeComponentFile } from './identify.js';
