// Secret or public by CONTENT: read each file a component reads, WHOLE, and say whether it holds a
// secret, whatever the flag naming it suggests. A flag is input that can be wrong: a kubeconfig
// with a client key (super-admin.conf) named by --client-ca-file is still a credential, and the plan must
// not make it world-readable as it would a CA certificate (docs/ownership.md, "The threat model").
//
// Recognised (only what can be told from the text, no parsing of key material):
//  - a PEM private key block: "-----BEGIN … PRIVATE KEY-----" (PKCS#1 RSA, SEC1 EC, PKCS#8 plain and
//    ENCRYPTED, DSA, OpenSSH's "OPENSSH PRIVATE KEY") and "-----BEGIN PGP PRIVATE KEY BLOCK-----";
//  - a kubeconfig carrying credentials: a document with users/clusters/contexts and one of the
//    credential keys of client-go's AuthInfo (k8s.io/client-go/tools/clientcmd/api/v1/types.go):
//    client-key, client-key-data, token, tokenFile, password — in YAML or JSON;
//  - an EncryptionConfiguration (kind EncryptionConfiguration, or EncryptionConfig before v1.13): it
//    holds the data-encryption keys of every Secret in etcd;
//  - a file larger than CONTENT_MAX_BYTES: counted as a secret without reading further (a key placed
//    after the part read must not make the file public).
import { closeSync, constants, openSync, readSync } from 'node:fs';
import type { FileStat, SecretContent } from '../model/node.js';
import { hostPath, resolveUnderRoot } from '../paths.js';

/**
 * Files are judged whole up to this size; a larger one counts as a secret unread. A CA bundle of every
 * public root (ca-certificates' is about 220 KiB) is well below it.
 */
const CONTENT_MAX_BYTES = 1024 * 1024;

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/;
const KUBECONFIG_SECTION = /(?:^|[\s{,])["']?(?:users|clusters|contexts)["']?\s*:/m;
const KUBECONFIG_CREDENTIAL = /(?:^|[\s{,])["']?(?:client-key-data|client-key|token|tokenFile|password)["']?\s*:\s*(?!["']{2}|null\b|~|\s*$)\S/m;
const ENCRYPTION_CONFIG = /(?:^|[\s{,])["']?kind["']?\s*:\s*["']?EncryptionConfig(?:uration)?\b/m;

/** The kind of secret a file's text is, or null when nothing in it is recognisably secret. */
export function classifyContent(text: string): SecretContent | null {
  if (PRIVATE_KEY.test(text)) return 'private-key';
  if (ENCRYPTION_CONFIG.test(text)) return 'encryption-config';
  if (KUBECONFIG_SECTION.test(text) && KUBECONFIG_CREDENTIAL.test(text)) return 'kubeconfig-credentials';
  return null;
}

/**
 * A node file as latin1 text (bytes never fail to decode), at most CONTENT_MAX_BYTES + 1 bytes (so a
 * longer text says the file is over the cap), or null when it cannot be opened. Opened without following a final link, non-blocking (a FIFO planted at a
 * key path must not hang discovery) and without updating the access time where the kernel allows it.
 */
export function readSample(root: string, nodePath: string): string | null {
  const host = hostPath(root, resolveUnderRoot(root, nodePath));
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  let fd: number;
  try {
    fd = openSync(host, flags | constants.O_NOATIME);
  } catch {
    try {
      fd = openSync(host, flags); // O_NOATIME needs ownership or CAP_FOWNER
    } catch {
      return null;
    }
  }
  try {
    const buf = Buffer.alloc(CONTENT_MAX_BYTES + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n).toString('latin1');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Secret content of each given regular file (others are skipped), by node path. */
export function classifyFiles(root: string, files: Iterable<string>, stats: Record<string, FileStat | null>): Record<string, SecretContent> {
  const out: Record<string, SecretContent> = {};
  for (const p of [...new Set(files)].sort()) {
    if (stats[p]?.type !== 'file') continue;
    const text = readSample(root, p);
    const kind = text === null ? null : text.length > CONTENT_MAX_BYTES ? 'too-large' : classifyContent(text);
    if (kind !== null) out[p] = kind;
  }
  return out;
}
