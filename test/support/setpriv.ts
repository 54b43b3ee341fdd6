// Run things with the identity and privileges a static pod's securityContext asks for, using util-linux
// `setpriv` (no container runtime runs on the test machines), and let the KERNEL decide what such a
// process may open. Used by the static-pod runner (runner.ts) and by the kernel-checked access proof
// (test/e2e/access-proof.test.ts).
//
// What a CRI runtime (containerd, CRI-O, via runc) gives a container process, and how it maps here:
//   - UID: container runAsUser, else pod runAsUser, else the image's user (kubeadm's images: root).
//   - GID: container runAsGroup, else pod runAsGroup, else the user's group in the IMAGE's /etc/passwd;
//     the control-plane images are distroless and list no such user, so runc falls back to 0.
//   - Supplementary groups: pod supplementalGroups plus fsGroup (the kubelet adds fsGroup to every
//     container's groups, pkg/kubelet/kuberuntime/security_context_others.go); none otherwise.
//   - Bounding set: the runtime's default set (containerd oci.defaultUnixCaps, the same 14 as Docker's),
//     or every capability when privileged; `drop` then `add` from the container's capabilities, where
//     "ALL" means every capability (kubelet → CRI → runc). Permitted/effective follow from the kernel's
//     execve rules: root keeps the bounding set, any other UID gets nothing unless the binary has file
//     capabilities that the bounding set allows (kube-apiserver's cap_net_bind_service, kubernetes#100914).
//   - Inheritable: always empty. Runtimes stopped granting inheritable capabilities after CVE-2022-24769
//     (containerd 1.6.2/1.5.11, CRI-O 1.23.2), so `--inh-caps -all`; no ambient capabilities either.
//   - no_new_privs: set when allowPrivilegeEscalation is false (runc: NoNewPrivileges).
//   Not modelled: seccomp (setpriv has no filter option in util-linux 2.38), namespaces, cgroups,
//   readOnlyRootFilesystem, SELinux/AppArmor. None of them changes which FILES the process may open.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { PodReading } from '../../scripts/lib/pod-reading.js';

export const SETPRIV = '/usr/bin/setpriv';

/** containerd's default capabilities for an unprivileged container (pkg/oci/spec.go defaultUnixCaps), setpriv spelling. */
export const RUNTIME_DEFAULT_CAPS: readonly string[] = [
  'chown',
  'dac_override',
  'fsetid',
  'fowner',
  'mknod',
  'net_raw',
  'setgid',
  'setuid',
  'setfcap',
  'setpcap',
  'net_bind_service',
  'sys_chroot',
  'kill',
  'audit_write',
];

export interface Identity {
  uid: number;
  gid: number;
  /** Supplementary group IDs, sorted, unique; empty means none. */
  groups: number[];
}

export interface Privileges extends Identity {
  /** Capability bounding set, setpriv spelling ("net_bind_service"); null keeps every capability (privileged). */
  bounding: string[] | null;
  noNewPrivs: boolean;
}

type Obj = Record<string, unknown>;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** "NET_BIND_SERVICE" / "CAP_NET_BIND_SERVICE" → "net_bind_service"; "ALL" → "all". */
function capName(k8s: string): string {
  return k8s.trim().toLowerCase().replace(/^cap_/, '');
}

/** UID, GID and supplementary groups of the pod's (first) container, as the runtime would set them. */
export function identityOf(pod: Pick<PodReading, 'podSecurityContext' | 'containerSecurityContext'>): Identity {
  const p = pod.podSecurityContext as Obj;
  const c = pod.containerSecurityContext as Obj;
  const uid = num(c.runAsUser) ?? num(p.runAsUser) ?? 0;
  const gid = num(c.runAsGroup) ?? num(p.runAsGroup) ?? 0;
  const extra = Array.isArray(p.supplementalGroups) ? p.supplementalGroups.map(num).filter((g): g is number => g !== null) : [];
  const fsGroup = num(p.fsGroup);
  if (fsGroup !== null) extra.push(fsGroup);
  return { uid, gid, groups: [...new Set(extra)].sort((a, b) => a - b) };
}

/** Identity plus capabilities and no_new_privs, per the rules in the header. */
export function privilegesOf(pod: Pick<PodReading, 'podSecurityContext' | 'containerSecurityContext'>): Privileges {
  const c = pod.containerSecurityContext as Obj;
  const caps = (typeof c.capabilities === 'object' && c.capabilities !== null ? c.capabilities : {}) as Obj;
  const drop = strings(caps.drop).map(capName);
  const add = strings(caps.add).map(capName);
  let bounding: string[] | null = c.privileged === true ? null : [...RUNTIME_DEFAULT_CAPS];
  if (drop.includes('all')) bounding = [];
  else if (bounding !== null) bounding = bounding.filter((x) => !drop.includes(x));
  if (add.includes('all')) bounding = null;
  else if (bounding !== null) for (const a of add) if (!bounding.includes(a)) bounding.push(a);
  return { ...identityOf(pod), bounding, noNewPrivs: c.allowPrivilegeEscalation === false };
}

/** The setpriv options (before "--") that give a process these privileges. Caller must be root. */
export function setprivArgs(p: Privileges): string[] {
  const args = ['--reuid', String(p.uid), '--regid', String(p.gid)];
  args.push(...(p.groups.length ? ['--groups', p.groups.join(',')] : ['--clear-groups']));
  args.push('--inh-caps', '-all');
  if (p.bounding !== null) args.push('--bounding-set', ['-all', ...p.bounding.map((c) => `+${c}`)].join(','));
  if (p.noNewPrivs) args.push('--no-new-privs');
  return args;
}

/** What a kernel access check asks: r = readable, w = writable, x = searchable/executable (test -r/-w/-x). */
export type AccessMode = 'r' | 'w' | 'x';

export interface AccessCheck {
  /** Host path. */
  path: string;
  mode: AccessMode;
}

export interface AccessResult extends AccessCheck {
  allowed: boolean;
}

// One shell per identity: each argument is "MODE:PATH"; the answer is one line per argument, in order.
const CHECK_SCRIPT = 'for a in "$@"; do m=${a%%:*}; p=${a#*:}; if test "-$m" "$p"; then echo yes; else echo no; fi; done';

/**
 * Ask the kernel, as `who` with an EMPTY capability bounding set (so not even root's DAC_OVERRIDE
 * helps), whether each path may be read / written / searched. One setpriv + sh for the whole batch.
 * `test` uses access(2) with the process's IDs and groups, which applies the same permission rules
 * (including search permission on every parent directory) as open(2).
 */
export async function kernelAccess(who: Identity, checks: readonly AccessCheck[]): Promise<AccessResult[]> {
  if (checks.length === 0) return [];
  const priv: Privileges = { ...who, bounding: [], noNewPrivs: true };
  const argv = [...setprivArgs(priv), '--', '/bin/sh', '-c', CHECK_SCRIPT, 'kernel-access', ...checks.map((c) => `${c.mode}:${c.path}`)];
  const { code, stdout, stderr } = await run(SETPRIV, argv);
  const lines = stdout.split('\n').filter(Boolean);
  if (code !== 0 || lines.length !== checks.length) {
    throw new Error(`setpriv ${argv.slice(0, 8).join(' ')} … exited ${code} with ${lines.length}/${checks.length} answers: ${stderr.trim()}`);
  }
  return checks.map((c, i) => ({ ...c, allowed: lines[i] === 'yes' }));
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, cwd: '/' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Why the kernel-level tests cannot run here, or [] when they can. They need root (setpriv to other
 * UIDs, chown in the sandbox), util-linux setpriv and, for the etcd test, Debian's etcd and etcdctl.
 */
export function missingPrerequisites(need: { etcd?: boolean } = {}): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('not running as root (needs setpriv to other users and chown)');
  if (!existsSync(SETPRIV)) missing.push(`${SETPRIV} is absent (apt-get install util-linux)`);
  if (need.etcd) {
    for (const bin of ['/usr/bin/etcd', '/usr/bin/etcdctl']) {
      if (!existsSync(bin)) missing.push(`${bin} is absent (apt-get install etcd-server etcd-client)`);
    }
  }
  return missing;
}

export { skipUnlessPossible } from './prerequisites.js';
