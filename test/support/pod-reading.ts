// The test doubles' OWN small reading of a static pod — deliberately not src/model/pod.ts (parsePod)
// or src/model/access.ts (mapToHost): a stand-in that shared the tool's reading would agree with the
// tool's mistakes. It reads what the kubelet and the runtime use to start the first container, from
// the YAML (1.1, as the kubelet's sigs.k8s.io/yaml decoder reads it) with the `yaml` library:
//   - argv: container command + args (a static pod of the control plane always sets command);
//   - hostPath mounts: each volumeMount whose volume is a hostPath volume, as (mountPath → host path);
//   - the pod's and the container's securityContext, as written.
// A container path maps to the host through the LONGEST mountPath that equals it or is a parent of it
// (the runtime mounts nested paths over their parents), as the INDEX tables of the fixtures do.
import path from 'node:path';
import { parse } from 'yaml';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export interface PodReading {
  name: string;
  argv: string[];
  /** mountPath (normalised, no trailing slash) → host path (normalised). */
  hostMounts: Array<{ mountPath: string; hostPath: string }>;
  podSecurityContext: Obj;
  containerSecurityContext: Obj;
}

export function readPod(text: string): PodReading {
  const doc = obj(parse(text, { version: '1.1' }));
  const spec = obj(doc.spec);
  const container = obj(list(spec.containers)[0]);
  const volumes = new Map(list(spec.volumes).map((v) => [String(obj(v).name), obj(obj(v).hostPath).path] as const));
  const hostMounts = list(container.volumeMounts).flatMap((m) => {
    const host = volumes.get(String(obj(m).name));
    const mountPath = obj(m).mountPath;
    return typeof host === 'string' && typeof mountPath === 'string' ? [{ mountPath: path.posix.normalize(mountPath.trim()).replace(/(.)\/$/, '$1'), hostPath: path.posix.normalize(host.trim()).replace(/(.)\/$/, '$1') }] : [];
  });
  return {
    name: String(obj(doc.metadata).name ?? ''),
    argv: [...list(container.command), ...list(container.args)].map(String),
    hostMounts,
    podSecurityContext: obj(spec.securityContext),
    containerSecurityContext: obj(container.securityContext),
  };
}

/** The host path behind a container path, or null when no hostPath mount carries it (inside the image). */
export function hostPathOf(pod: PodReading, containerPath: string): string | null {
  const p = path.posix.normalize(containerPath);
  let best: { mountPath: string; hostPath: string } | null = null;
  for (const m of pod.hostMounts) {
    if ((p === m.mountPath || p.startsWith(m.mountPath === '/' ? '/' : `${m.mountPath}/`)) && (!best || m.mountPath.length > best.mountPath.length)) best = m;
  }
  return best ? path.posix.join(best.hostPath, p.slice(best.mountPath.length)) : null;
}
