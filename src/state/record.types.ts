// The migration record: what this node's migration IS, written (root-owned, durably) after every
// successful apply and updated by rollback and revert. Later runs work from it instead of re-deriving
// everything from the node as it is now (a component can write some of what the node says). Terraform
// keeps "state" for the same reason: the last applied truth, compared with the config and with reality.
// Types only: src/state/record.ts reads and writes it.
import type { Component } from '../model/components.js';
import type { Config } from '../model/config.js';

export const RECORD_API_VERSION = 'kubeadm-nonroot/v1alpha1';
export const RECORD_KIND = 'MigrationRecord';

/** Owner, group and permission bits (mode includes the special bits, e.g. 0o2750). */
export interface OwnerMode {
  uid: number;
  gid: number;
  mode: number;
}

/** An account the migration relies on, and whether the tool created it (only those may ever be removed). */
export interface RecordedAccount {
  kind: 'user' | 'group';
  name: string;
  /** uid for a user, gid for a group. */
  id: number;
  /** Users: the primary group's gid. */
  gid?: number;
  /** Groups: the members the tool added (a reused group's other members are not the tool's). */
  membersAdded?: string[];
  created: boolean;
  /** The component it serves, or null for a shared reader group. */
  component: Component | null;
}

/** One path whose owner or mode the migration set: what was granted to whom. */
export interface RecordedGrant {
  path: string;
  /** Only regular files and directories are ever granted. */
  type: 'file' | 'directory';
  /** The components that read or write it, sorted. */
  components: Component[];
  access: 'read' | 'write';
  /** Directory trees changed recursively (a data dir): everything below got `given`'s owner. */
  recursive: boolean;
  /** Whether the file holds a private key or a credential (judged on the whole file at plan time). */
  secret: boolean;
  given: OwnerMode;
  before: OwnerMode | null;
  /** Where the grant came from: the manifest flag, volume or followed config file that named it. */
  source: string;
}

/**
 * One field the migration set in a manifest: rollback undoes exactly these, on the manifest as it is then.
 * The journal's form (src/plan/manifest-undo.ts manifestEdits): the deepest mapping level where the manifest
 * differs, so a mapping the migration inserted whole is one edit. Records of earlier versions hold one edit
 * per managed field instead; they still read, and apply rewrites them in this form.
 */
export interface RecordedManifestEdit {
  component: Component;
  /** Node path of the manifest. */
  path: string;
  /** The YAML path, e.g. ["spec","securityContext","runAsUser"]. */
  field: Array<string | number>;
  /** JSON value before the edit; undefined (absent in JSON) when the field did not exist. */
  before?: unknown;
  /** JSON value the migration wrote; undefined when the edit removed the field. */
  after?: unknown;
}

export interface RecordHistoryEntry {
  op: 'apply' | 'rollback' | 'revert';
  /** Backup id of the run (its journal). */
  runId: string;
  at: string;
  /** The operator: SUDO_USER when set, else the effective user's name. */
  by: string;
  toolVersion: string;
}

export interface MigrationRecord {
  apiVersion: typeof RECORD_API_VERSION;
  kind: typeof RECORD_KIND;
  /** 'migrated' after an apply; 'rolled-back' or 'reverted' once undone (the record is kept as history). */
  status: 'migrated' | 'rolled-back' | 'reverted';
  /** The resolved config the migration was made with (names, IDs, groups, components, options). */
  config: Config;
  accounts: RecordedAccount[];
  grants: RecordedGrant[];
  manifestEdits: RecordedManifestEdit[];
  kubernetesVersion: string | null;
  etcdVersion: string | null;
  /** First apply of this migration, and the latest change to it. */
  migratedAt: string;
  updatedAt: string;
  toolVersion: string;
  by: string;
  history: RecordHistoryEntry[];
}
