// NodeState: everything discovery reads from a node, as plain serializable data. Planning is a pure
// function of this value (plus config and clock), so tests can build one by hand.
// Every path here is a NODE path ("/etc/kubernetes/pki/sa.key"), never prefixed by --root.
import type { ConfigRef } from './config-refs.js';
import type { SchemaIssue } from './pod-schema.js';
import type { PodInfo } from './pod.types.js';
import type { UserNamespaceFacts } from './userns.js';

export interface LoginDefs {
  sysUidMin: number;
  sysUidMax: number;
  sysGidMin: number;
  sysGidMax: number;
  /** UID_MIN: accounts at or above it are human login accounts (default 1000). */
  uidMin: number;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
  /** 0-based line number in the file, for messages. */
  line: number;
}

/** A broken line of /etc/passwd or /etc/group that the parsers skip (src/discover/accounts.ts). */
export interface UnreadableLine {
  path: string;
  /** 0-based line number. */
  line: number;
  /** The first field: the name the line seems to be about. */
  name: string;
  why: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
  line: number;
}

/** lstat's type: 'other' only for what Linux has no name for here. */
export type FileType = 'file' | 'dir' | 'symlink' | 'socket' | 'fifo' | 'block-device' | 'char-device' | 'other';

export interface FileStat {
  type: FileType;
  uid: number;
  gid: number;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  size: number;
}

/** Ownership census of everything below a directory (not the directory itself), for recursive changes. */
export interface TreeSummary {
  entries: number;
  /** Distinct owners, sorted by count descending then uid/gid. */
  owners: Array<{ uid: number; gid: number; count: number }>;
  /**
   * How many entries below the directory (directories aside) carry the setuid or setgid bit; absent when
   * none do. A tree holding such files is never handed over (docs/ownership.md): a recursive chown
   * clears the bits, and the component could replace the program with its own.
   */
  setid?: number;
  /** Non-directories with more than one hard link (never chowned: their other names are elsewhere); absent when none. */
  hardLinks?: number;
  /** Block and character device nodes (never handed to a component); absent when none. */
  devices?: number;
}

/**
 * What a referenced file holds, judged by its content (src/discover/content.ts): only secrets are
 * recorded. A PEM private key block (any algorithm, OpenSSH keys included); a kubeconfig carrying
 * credentials (client-key, client-key-data, token, tokenFile, password); an EncryptionConfiguration;
 * a file too large to judge whole (over 1 MiB).
 */
export type SecretContent = 'private-key' | 'kubeconfig-credentials' | 'encryption-config' | 'too-large';

/** Words for messages: "a PEM private key". */
export function describeContent(kind: SecretContent): string {
  switch (kind) {
    case 'private-key':
      return 'a PEM private key';
    case 'kubeconfig-credentials':
      return 'a kubeconfig with credentials';
    case 'encryption-config':
      return 'an EncryptionConfiguration (data-encryption keys)';
    case 'too-large':
      return 'larger than 1 MiB (counted as a secret unread)';
  }
}

export interface ManifestFile {
  /** File name inside the manifests dir, e.g. "kube-apiserver.yaml". */
  fileName: string;
  /** Node path of the file. */
  path: string;
  text: string;
  stat: FileStat;
  /** What the file says, read once by discovery (src/model/manifest.ts readManifest); planning reads this, never the text again. */
  parsed: ParsedManifest;
}

/**
 * A manifest as the kubelet reads it: the Pod fields the tool reasons about and every way the Pod does
 * not fit the schema (src/model/pod-schema.ts), or why it is not a Pod manifest the tool can read.
 */
export type ParsedManifest = { ok: true; pod: PodInfo; schemaIssues: SchemaIssue[] } | { ok: false; error: string };

export interface NssIds {
  users: Array<{ name: string; uid: number }>;
  groups: Array<{ name: string; gid: number }>;
}

export interface NodeState {
  /** The --root the node was read from (host path), kept for messages only. */
  root: string;
  manifestsDir: string;
  loginDefs: LoginDefs;
  passwd: PasswdEntry[];
  group: GroupEntry[];
  /** Broken lines of /etc/passwd and /etc/group, skipped by the parsers; absent when there are none. */
  unreadableAccountLines?: UnreadableLine[];
  /** IDs known to NSS (getent), only when the root is "/"; null in a sandbox. */
  nss: NssIds | null;
  manifests: ManifestFile[];
  /**
   * lstat-like facts for every path the manifests reference and every parent directory of those,
   * after resolving symlinks inside the root; null when the path does not exist.
   */
  paths: Record<string, FileStat | null>;
  /** Ownership census of directories a component writes to (etcd data dir, audit log dir). */
  trees: Record<string, TreeSummary>;
  /**
   * The kubeconfigs and config files components read (webhook kubeconfigs, admission and encryption
   * configs…), by host node path, each as the absolute paths named inside it (src/model/config-refs.ts
   * configRefs, read once by discovery): those files are accessed too. Absent entries were unreadable
   * or too large.
   */
  configs: Record<string, ConfigRef[]>;
  /**
   * Regular files the components read whose CONTENT is a secret, by node path (absent: not a secret, or
   * not read). The plan treats them as secrets whatever the flag naming them says.
   */
  contents?: Record<string, SecretContent>;
  /**
   * What the user-namespace mode's prerequisites are judged from (src/discover/userns.ts); plan and
   * apply read it whenever the config's mode is not off. Absent: not read, nothing judged (verify).
   */
  userNamespaces?: UserNamespaceFacts;
}
