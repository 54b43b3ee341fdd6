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

/** A command the container runtime runs INSIDE the container, as the container's user: an exec probe or lifecycle hook. */
export interface ExecCommand {
  source: 'startupProbe' | 'livenessProbe' | 'readinessProbe' | 'postStart' | 'preStop';
  /** exec.command as written (e.g. ["/bin/sh", "-ec", "ETCDCTL_API=3 etcdctl --key=… get foo"]). */
  argv: string[];
}

/** Where a container sits in the pod: spec.<list>[index]. */
export type ContainerList = 'initContainers' | 'containers' | 'ephemeralContainers';

/** One container of the pod, as the tool reasons about it (each runs with the pod's identity unless it overrides it). */
export interface ContainerInfo {
  list: ContainerList;
  index: number;
  name: string;
  /** command followed by args. */
  argv: string[];
  flags: Flag[];
  mounts: VolumeMount[];
  /** Its securityContext as plain data ({} when absent). */
  securityContext: Record<string, unknown>;
  execCommands: ExecCommand[];
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
  /** containers[0].command alone ([] when the image's entrypoint runs, e.g. kube-vip with only args). */
  command: string[];
  flags: Flag[];
  mounts: VolumeMount[];
  /** hostPath volumes only; other volume kinds are ignored. */
  volumes: HostPathVolume[];
  /** spec.securityContext as plain data ({} when absent). */
  podSecurityContext: Record<string, unknown>;
  /** containers[0].securityContext as plain data ({} when absent). */
  containerSecurityContext: Record<string, unknown>;
  probes: HttpProbe[];
  /** exec probes and lifecycle hooks of the container: they open files as the container's user too. */
  execCommands: ExecCommand[];
  hostNetwork: boolean;
  /**
   * Every container of the pod: initContainers, containers (containers[0] is the component itself,
   * the fields above; sidecars follow), ephemeralContainers — in that order. Each is analysed and set:
   * any of them opens host files and runs with the pod's identity unless its securityContext says otherwise.
   */
  allContainers: ContainerInfo[];
  /**
   * Signs that the file is a `kubectl get pod -o yaml` dump of a (mirror) pod rather than a manifest
   * (metadata.uid, resourceVersion, ownerReferences, the kubernetes.io/config.mirror annotation,
   * status.containerStatuses); empty for a manifest as kubeadm writes it.
   */
  dumpSigns: string[];
}
