// The Plan: a typed, versioned, serializable value. apply executes exactly what is in it and nothing
// else; renderers only turn it into text. Schema documented in docs/plan-schema.md — bump
// PLAN_API_VERSION on any incompatible change (apply --plan refuses other versions).
import type { Component } from '../model/components.js';
import type { TreeSummary } from '../model/node.js';
import type { UserNamespaceMode } from '../model/userns.js';

export const PLAN_API_VERSION = 'kubeadm-nonroot/v1alpha1';
export const PLAN_KIND = 'MigrationPlan';
/** The opposite migration (revert): back to kubeadm's root defaults. */
export const REVERT_PLAN_KIND = 'RevertPlan';

/** Owner, group and permission bits of a path. Names are informational (resolved from passwd/group). */
export interface Ownership {
  uid: number;
  gid: number;
  mode: number;
  user?: string;
  group?: string;
}

export interface Identity {
  component: Component;
  user: string;
  uid: number;
  group: string;
  gid: number;
  supplementalGroups: Array<{ name: string; gid: number }>;
}

export type AccountAction =
  | { action: 'create-group'; name: string; gid: number; members: string[] }
  | { action: 'create-user'; name: string; uid: number; gid: number; group: string; supplementaryGroups: string[]; shell: string; home: string; comment: string }
  | { action: 'add-group-members'; name: string; gid: number; members: string[] }
  | { action: 'reuse-group'; name: string; gid: number; members: string[] }
  | { action: 'reuse-user'; name: string; uid: number; gid: number; group: string }
  /** revert only: remove an account the migration created (its IDs are kept in the journal for rollback). */
  | { action: 'delete-user'; name: string; uid: number; gid: number; group: string; supplementaryGroups: string[]; shell: string; home: string; comment: string }
  | { action: 'delete-group'; name: string; gid: number; members: string[] };

type FileActionKind =
  /** chown + chmod one path (not recursive). */
  | 'set-owner-mode'
  /** chown a directory and everything below it; chmod only the directory itself. */
  | 'set-owner-recursive'
  /** mkdir a directory the component must write to but which does not exist yet. */
  | 'create-directory';

export interface FileAction {
  action: FileActionKind;
  path: string;
  /** null for create-directory. */
  current: Ownership | null;
  desired: Ownership;
  /** Census of what is below a directory changed recursively (how much work, what rollback restores). */
  tree?: TreeSummary;
  /** Components that need this path, sorted. */
  readers: Component[];
  access: 'read' | 'write';
  secret: boolean;
  /** One line: why this owner and mode (the ownership rule applied). */
  reason: string;
  /**
   * Present when the change goes beyond the node's migration record (a path it does not hold, write
   * where read was granted, a new reader): it needs the operator's consent (apply --grant PATH).
   * `source`: the components and flags (→ keys inside followed files) that named the path.
   */
  newGrant?: { source: string };
}

export interface ManifestAction {
  action: 'write-manifest';
  component: Component;
  path: string;
  /** sha256 of the manifest text the plan was computed from (apply refuses if it changed). */
  beforeSha256: string;
  /** The complete new manifest text. */
  after: string;
  /** Unified diff, before → after. */
  diff: string;
  /** Human summary of each edit, e.g. "pod securityContext.runAsUser: 101". Display text: decide nothing from it. */
  changes: string[];
  /**
   * The manifest runs without the identity the node's accounts say the component had: the component's
   * user exists already (the plan reuses it) and the manifest does not run as its uid — what kubeadm
   * leaves when it regenerates a migrated manifest without the patches (upgrade apply/node, init phase
   * control-plane/etcd). False when the plan creates the user (not migrated yet), and in a revert plan.
   */
  identityLost: boolean;
}

export interface Problem {
  /** Stable machine-readable code, e.g. "id-range-exhausted". */
  code: string;
  message: string;
  path?: string;
  component?: Component;
  /** How to fix it. */
  fix?: string;
}

/** A manifest the plan leaves byte-identical, and why (not a kubeadm component, a second instance…). */
export interface IgnoredManifest {
  /** File name in the manifests directory. */
  file: string;
  reason: string;
}

export interface ComponentPlan {
  component: Component;
  manifest: string;
  /** Whether this run migrates it (config can select components). */
  migrate: boolean;
  image: string;
  version: string | null;
  identity: Identity | null;
}

/** What changes when the node moves to another Kubernetes version (plan --kubernetes-version). */
interface TargetVersion {
  version: string;
  /** 'downgrade': older than the node's version (kubeadm does not downgrade). */
  support: 'known' | 'unknown-version' | 'too-old' | 'too-new' | 'downgrade';
  /** One line per behaviour that differs between the current and the target version. */
  notes: string[];
}

export interface Plan {
  apiVersion: typeof PLAN_API_VERSION;
  kind: typeof PLAN_KIND | typeof REVERT_PLAN_KIND;
  /** ISO timestamp from the injected clock. */
  createdAt: string;
  /** Node paths are relative to this root (as given with --root). Informational. */
  root: string;
  manifestsDir: string;
  /** sha256 over every input the plan was computed from; apply --plan refuses if the node changed. */
  fingerprint: string;
  kubernetesVersion: string | null;
  etcdVersion: string | null;
  components: ComponentPlan[];
  /** Static pods found and left untouched, each with the reason (file names sorted). */
  ignoredManifests: IgnoredManifest[];
  accounts: AccountAction[];
  files: FileAction[];
  manifests: ManifestAction[];
  problems: Problem[];
  warnings: Problem[];
  /** Present when plan was asked about an upgrade target (--kubernetes-version). */
  target?: TargetVersion;
  /** The user-namespace mode planned (docs/user-namespaces.md); absent when off. */
  userNamespaces?: UserNamespaceMode;
}
