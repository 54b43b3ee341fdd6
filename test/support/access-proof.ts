// The kernel access proof, shared by the tests that migrate a sandbox node (access-proof.test.ts over the
// hand-written fixtures, kubeadm-generated.test.ts over kubeadm's own output). After `apply`, for every
// kubeadm component, a process with that component's UID, GID and supplementary groups from its MIGRATED
// manifest (no capabilities at all: bounding set empty, so no DAC_OVERRIDE) asks the kernel (test -r / -w / -x):
//   - every host file the component's manifest references (analyzeAccess, mapped into the sandbox)
//     must be readable, every directory it writes (etcd data dir, audit log dir, cert dirs) readable,
//     writable and searchable;
//   - every secret it does NOT reference must be refused: the private keys and kubeconfigs of the other
//     components, and the files no component reads, which only root may (admin.conf, super-admin.conf,
//     kubelet.conf, etcd/ca.key, front-proxy-ca.key, /etc/shadow).
import assert from 'node:assert/strict';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { analyzeAccess } from '../../src/model/access.js';
import type { FileAccess } from '../../src/model/access.types.js';
import type { Component } from '../../src/model/components.js';
import { identifyComponent, parsePod } from '../../src/model/pod.js';
import type { Sandbox } from './sandbox.js';
import { identityOf, kernelAccess, type AccessCheck, type Identity } from './setpriv.js';

const MANIFESTS = '/etc/kubernetes/manifests';

/** Distro CA trust stores: a reference to one may be skipped when the node has none (never any other file). */
const TRUST_STORES = ['/etc/ssl', '/etc/pki/ca-trust', '/etc/pki/tls', '/etc/ca-certificates', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates'];
const inTrustStore = (p: string) => TRUST_STORES.some((d) => p === d || p.startsWith(`${d}/`));

/** Files only root may read however the node is set up: account secrets. */
const ROOT_ONLY = ['/etc/shadow', '/etc/gshadow'];

interface MigratedComponent {
  component: Component;
  identity: Identity;
  accesses: FileAccess[];
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

async function migratedComponents(sb: Sandbox): Promise<MigratedComponent[]> {
  const out: MigratedComponent[] = [];
  for (const file of (await readdir(sb.path(MANIFESTS))).sort()) {
    if (file.startsWith('.')) continue;
    const nodePath = `${MANIFESTS}/${file}`;
    const pod = parsePod(await readFile(sb.path(nodePath), 'utf8'), nodePath);
    const component = identifyComponent(file, pod);
    if (component) out.push({ component, identity: identityOf(pod), accesses: analyzeAccess(pod, component).accesses });
  }
  return out;
}

/** Node paths of secret-looking files anywhere in the node (the tool's own state dir aside). */
export async function secretFilesOnNode(sb: Sandbox): Promise<string[]> {
  const found: string[] = [];
  async function walk(nodeDir: string): Promise<void> {
    for (const e of await readdir(sb.path(nodeDir), { withFileTypes: true })) {
      const p = path.posix.join(nodeDir, e.name);
      if (p === '/var/lib/kubeadm-nonroot') continue;
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && (/\.key$|-key\.pem$|\.kubeconfig$/.test(e.name) || (nodeDir === '/etc/kubernetes' && e.name.endsWith('.conf')))) found.push(p);
    }
  }
  await walk('/');
  return found;
}

/** What the component must be allowed: r for files, r+x for dirs it reads, r+w+x for dirs it writes. */
function needs(a: FileAccess): Array<AccessCheck['mode']> {
  if (a.access === 'write') return a.target === 'dir' ? ['r', 'w', 'x'] : ['w'];
  return a.target === 'dir' ? ['r', 'x'] : ['r'];
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
  const owners = new Map<string, Set<Component>>();
  for (const p of [...(await secretFilesOnNode(sb)), ...ROOT_ONLY]) owners.set(p, new Set());
  for (const c of components) for (const a of c.accesses) if (a.secret) (owners.get(a.hostPath) ?? owners.set(a.hostPath, new Set()).get(a.hostPath)!).add(c.component);
  assert.ok(owners.has('/etc/kubernetes/admin.conf'), 'the node has admin.conf (a root-only secret) to check against');

  const violations: string[] = [];
  for (const c of components) {
    assert.notEqual(c.identity.uid, 0, `${c.component} still runs as root after apply`);
    const mine = new Set(c.accesses.map((a) => a.hostPath));
    const allowed: AccessCheck[] = [];
    for (const a of c.accesses) {
      if (inTrustStore(a.hostPath) && !(await exists(sb.path(a.hostPath)))) continue;
      for (const mode of needs(a)) allowed.push({ path: sb.path(a.hostPath), mode });
    }
    const refused: AccessCheck[] = [...owners.keys()].filter((p) => !mine.has(p)).map((p) => ({ path: sb.path(p), mode: 'r' }));
    assert.ok(allowed.length > 0 && refused.length > 0, `${c.component}: nothing to check (${allowed.length} allowed, ${refused.length} refused)`);
    const answers = await kernelAccess(c.identity, [...allowed, ...refused]);
    const nodePath = (hostPath: string) => hostPath.slice(sb.root.length);
    for (const [i, r] of answers.entries()) {
      const shouldBeAllowed = i < allowed.length;
      if (r.allowed === shouldBeAllowed) continue;
      const p = nodePath(r.path);
      if (shouldBeAllowed) {
        const why = c.accesses.filter((a) => a.hostPath === p).map((a) => a.flag).join(', ');
        violations.push(`${c.component} (${describe(c.identity)}) is DENIED test -${r.mode} ${p}, which it needs (${why})`);
      } else {
        const of = [...owners.get(p)!];
        violations.push(`${c.component} (${describe(c.identity)}) CAN read ${p}, a secret of ${of.length ? of.join(', ') : 'root only'}`);
      }
    }
  }
  return violations;
}
