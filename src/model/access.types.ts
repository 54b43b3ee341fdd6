// Output of the access analysis (src/model/access.ts): which host files a component touches, derived
// from its manifest's path-valued flags mapped through its hostPath volumes.
import type { Component } from './components.js';

export interface FileAccess {
  component: Component;
  /**
   * The flag that references the path, e.g. "--tls-private-key-file"; for an exec probe or lifecycle
   * hook, its source and the command's own flag or variable: "livenessProbe --key", "preStop ETCDCTL_KEY".
   */
  flag: string;
  /** Path as the container sees it (the flag's value, or one element of a list value). */
  containerPath: string;
  /** Node path on the host, mapped through the longest matching volumeMount and its hostPath volume. */
  hostPath: string;
  /** The hostPath volume that carries it. */
  volume: string;
  /** read: the component opens it read-only. write: it creates/writes files in a directory. */
  access: 'read' | 'write';
  /** file: a single file. dir: a directory the component writes into (data dir, audit log dir). */
  target: 'file' | 'dir';
  /** Private keys, kubeconfigs, encryption configs, webhook kubeconfigs, token files. */
  secret: boolean;
}

/** A path-valued flag whose path is not under any hostPath mount: it lives in the image, not on the host. */
export interface UnmappedPath {
  component: Component;
  flag: string;
  containerPath: string;
  /** write: the component must create files there, which a non-root process cannot do in the image. */
  access: 'read' | 'write';
}
