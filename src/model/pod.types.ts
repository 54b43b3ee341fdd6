// PodInfo: the parts of a static-pod manifest the tool reasons about, parsed from its YAML (src/model/pod.ts).

export interface Flag {
  /** "--tls-cert-file" */
  name: string;
  /** Text after the first "=", or null for a bare flag ("--foo"); a following separate argument is not consumed. */
  value: string | null;
  /** Index in the container's command+args list. */
  index: number;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly: boolean;
}

export interface HostPathVolume {
  name: string;
  /** hostPath.path as written (trailing slash removed, except for "/"). */
  path: string;
  /** hostPath.type, "" when unset. */
  type: string;
}

export interface HttpProbe {
  kind: 'startupProbe' | 'livenessProbe' | 'readinessProbe';
  scheme: 'HTTP' | 'HTTPS';
  /** Absent host means the pod IP, i.e. the node's address with hostNetwork; callers default to 127.0.0.1. */
  host: string | null;
  port: number;
  path: string;
}

export interface PodInfo {
  /** metadata.name */
  name: string;
  namespace: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** First container's name and image (kubeadm static pods have exactly one container). */
  containerName: string;
  image: string;
  /** command followed by args. */
  argv: string[];
  flags: Flag[];
  mounts: VolumeMount[];
  /** hostPath volumes only; other volume kinds are ignored. */
  volumes: HostPathVolume[];
  /** spec.securityContext as plain data ({} when absent). */
  podSecurityContext: Record<string, unknown>;
  /** containers[0].securityContext as plain data ({} when absent). */
  containerSecurityContext: Record<string, unknown>;
  probes: HttpProbe[];
  hostNetwork: boolean;
}
