// The optional config file (-c FILE). Every field is optional; see docs/config.md.
import type { Component } from './components.js';
import type { UserNamespaceMode } from './userns.js';

export interface AccountOverride {
  /** User name (also the name of its primary group unless `group` is set). */
  user?: string;
  group?: string;
  uid?: number;
  gid?: number;
}

export interface Config {
  /** Node path of the static-pod manifests directory. */
  manifestsDir: string;
  /** Components to migrate; those not present on the node are ignored. */
  components: Component[];
  accounts: Partial<Record<Component, AccountOverride>>;
  /** The shared reader group for secrets read by both kube-apiserver and kube-controller-manager (sa.key). */
  saKeyReaders: { group?: string; gid?: number };
  /** Node paths the operator consents to grant beyond the migration record (`grants:`; apply --grant adds more). */
  grants?: string[];
  /** Node paths (files, or directories holding them) outside the Kubernetes trees a component may be granted read of (`allowPaths:`). */
  allowPaths?: string[];
  /** Run the static pods in user namespaces (`userNamespaces:`, plan/apply --user-namespaces); absent: off. */
  userNamespaces?: UserNamespaceMode;
}
