// The kernel access proof, shared by the tests that migrate a sandbox node (access-proof.test.ts over the
// hand-written fixtures, kubeadm-generated.test.ts over kubeadm's own output). After `apply`, for every
// kubeadm component, a process with that component's UID, GID and supplementary groups from its MIGRATED
// manifest (no capabilities at all: bounding set empty, so no DAC_OVERRIDE) asks the kernel (test -r / -w / -x):
//   - every host file the component opens must be readable, every directory it writes (etcd data dir,
//     audit log dir, cert dirs) readable, writable and searchable. What it opens comes from the tests'
//     OWN reading of the pod (pod-reading.ts, componentReads: the paths its flags, exec probes and hooks
//     name, and the files named inside the kubeconfigs among them), never from the tool's analysis;
//   - every regular file it only READS must be refused for writing (test -w), unless it lies in a
//     directory the component writes: a component cannot rewrite its kubeconfig, keys or configs
//     (docs/ownership.md, the read-only rule);
//   - every secret it does NOT open must be refused: the private keys and kubeconfigs of the other
//     components, and the files no component reads, which only root may (admin.conf, super-admin.conf,
//     kubelet.conf, etcd/ca.key, front-proxy-ca.key, /etc/shadow). Secrets are judged by CONTENT (a PEM
//     private key, a kubeconfig or EncryptionConfiguration holding credentials) as well as by name.
import assert from 'node:assert/strict';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { componentReads, readPod, type Named } from '../../scripts/lib/pod-reading.js';
import type { Sandbox } from '../../scripts/lib/sandbox.js';
import { identityOf, kernelAccess, type AccessCheck, type Identity } from './setpriv.js';

const MANIFESTS = '/etc/kubernetes/manifests';

/** Distro CA trust stores: a reference to one may be skipped when the node has none (never any other file). */
const TRUST_STORES = ['/etc/ssl', '/etc/pki/ca-trust', '/etc/pki/tls', '/etc/ca-certificates', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates'];
const inTrustStore = (p: string) => TRUST_STORES.some((d) => p === d || p.startsWith(`${d}/`));

/** Files only root may read however the node is set up: account secrets. */
const ROOT_ONLY = ['/etc/shadow', '/etc/gshadow'];

/** kubeadm's static pod files (cmd/kubeadm/app/constants, GetStaticPodFilepath). */
const KUBEADM_FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'];

interface MigratedComponent {
  component: string;
  identity: Identity;
  reads: Named[];
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** A node file's text, or null when it is not a regular file (or is too big to be a config). */
export async function readNodeFile(sb: Sandbox, nodePath: string): Promise<string | null> {
  try {
    const st = await lstat(sb.path(nodePath));
    if (!st.isFile() || st.size > 1 << 20) return null;
    return await readFile(sb.path(nodePath), 'utf8');
  } catch {
    return null;
  }
}

async function migratedComponents(sb: Sandbox): Promise<MigratedComponent[]> {
  const out: MigratedComponent[] = [];
  for (const file of (await readdir(sb.path(MANIFESTS))).sort()) {
    if (!KUBEADM_FILES.includes(file)) continue;
    const pod = readPod(await readFile(sb.path(`${MANIFESTS}/${file}`), 'utf8'));
    out.push({ component: file.replace(/\.yaml$/, ''), identity: identityOf(pod), reads: await componentReads(pod, (p) => readNodeFile(sb, p)) });
  }
  return out;
}

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/**
 * Whether a file's content is a secret however it is named: a PEM private key, a kubeconfig with inline
 * credentials (client-key-data, token, password), an EncryptionConfiguration (it holds the keys).
 */
export function isSecretContent(text: string): boolean {
  if (PRIVATE_KEY.test(text)) return true;
  if (/^kind:\s*EncryptionConfiguration\s*$/m.test(text)) return true;
  return /^kind:\s*Config\s*$/m.test(text) && /^\s*(client-key-data|token|password):\s*\S/m.test(text);
}

/** Node paths of secret files anywhere in the node, by name or by content (the tool's own state dir aside). */
export async function secretFilesOnNode(sb: Sandbox): Promise<string[]> {
  const found: string[] = [];
  async function walk(nodeDir: string): Promise<void> {
    for (const e of await readdir(sb.path(nodeDir), { withFileTypes: true })) {
      const p = path.posix.join(nodeDir, e.name);
      if (p === '/var/lib/kubeadm-nonroot') continue;
      if (e.isDirectory()) await walk(p);
      else if (!e.isFile()) continue;
      else if (/\.key$|-key\.pem$|\.kubeconfig$/.test(e.name) || (nodeDir === '/etc/kubernetes' && e.name.endsWith('.conf'))) found.push(p);
      else {
        const text = await readNodeFile(sb, p);
        if (text !== null && isSecretContent(text)) found.push(p);
      }
    }
  }
  await walk('/');
  return found.sort();
}

/** What the component must be allowed: r for files, r+x for dirs it reads, r+w+x for dirs it writes. */
async function needs(sb: Sandbox, n: Named): Promise<Array<AccessCheck['mode']>> {
  const st = await lstat(sb.path(n.host)).catch(() => null);
  const dir = st?.isDirectory() ?? false;
  if (n.write) return dir ? ['r', 'w', 'x'] : ['w'];
  return dir ? ['r', 'x'] : ['r'];
}

/** Regular files the component only reads: not written by it, not inside a directory it writes. */
async function readOnlyFiles(sb: Sandbox, reads: Named[]): Promise<string[]> {
  const written = reads.filter((n) => n.write).map((n) => n.host);
  const out = new Set<string>();
  for (const n of reads) {
    if (n.write || written.some((w) => n.host === w || n.host.startsWith(`${w}/`))) continue;
    const st = await lstat(sb.path(n.host)).catch(() => null);
    if (st?.isFile()) out.add(n.host);
  }
  return [...out].sort();
}

const describe = (id: Identity) => `uid ${id.uid} gid ${id.gid} groups [${id.groups.join(',')}]`;

/**
 * The kernel's answers that contradict the migrated manifests of `sb` (see the header), one line each;
 * [] when every component can use exactly what it needs and no other secret.
 */
export async function accessViolations(sb: Sandbox): Promise<string[]> {
  const components = await migratedComponents(sb);
  assert.ok(components.length > 0, 'the case has kubeadm components');
  // Secret → the components whose manifests reference it (none: only root may read it).
  const owners = new Map<string, Set<string>>();
  for (const p of [...(await secretFilesOnNode(sb)), ...ROOT_ONLY]) owners.set(p, new Set());
  for (const c of components) for (const n of c.reads) owners.get(n.host)?.add(c.component);
  assert.ok(owners.has('/etc/kubernetes/admin.conf'), 'the node has admin.conf (a root-only secret) to check against');

  // One kernel batch per component, all at once (each is one setpriv + sh).
  const perComponent = await Promise.all(components.map(async (c) => {
    const violations: string[] = [];
    assert.notEqual(c.identity.uid, 0, `${c.component} still runs as root after apply`);
    const mine = new Set(c.reads.map((n) => n.host));
    const allowed: AccessCheck[] = [];
    for (const n of c.reads) {
      if (inTrustStore(n.host) && !(await exists(sb.path(n.host)))) continue;
      for (const mode of await needs(sb, n)) allowed.push({ path: sb.path(n.host), mode });
    }
    const refused: AccessCheck[] = [...owners.keys()].filter((p) => !mine.has(p)).map((p) => ({ path: sb.path(p), mode: 'r' }));
    refused.push(...(await readOnlyFiles(sb, c.reads)).map((p): AccessCheck => ({ path: sb.path(p), mode: 'w' })));
    assert.ok(allowed.length > 0 && refused.length > 0, `${c.component}: nothing to check (${allowed.length} allowed, ${refused.length} refused)`);
    const answers = await kernelAccess(c.identity, [...allowed, ...refused]);
    const nodePath = (hostPath: string) => hostPath.slice(sb.root.length);
    for (const [i, r] of answers.entries()) {
      const shouldBeAllowed = i < allowed.length;
      if (r.allowed === shouldBeAllowed) continue;
      const p = nodePath(r.path);
      if (shouldBeAllowed) {
        const why = c.reads.filter((n) => n.host === p).map((n) => n.via).join(', ');
        violations.push(`${c.component} (${describe(c.identity)}) is DENIED test -${r.mode} ${p}, which it needs (${why})`);
      } else {
        if (r.mode === 'w') {
          violations.push(`${c.component} (${describe(c.identity)}) CAN write ${p}, which it only reads`);
          continue;
        }
        const of = [...owners.get(p)!];
        violations.push(`${c.component} (${describe(c.identity)}) CAN read ${p}, a secret of ${of.length ? of.join(', ') : 'root only'}`);
      }
    }
    return violations;
  }));
  return perComponent.flat();
}
