// kubeadm's own output as test fixtures: for one kubeadm release and one node configuration, run the REAL
// kubeadm (`init phase certs all`, `phase kubeconfig all`, `phase control-plane all`, `phase etcd local`)
// chrooted into a throwaway root, and record what it wrote:
//   test/fixtures/kubeadm/<release>/<case>/kubeadm.yaml      the configuration passed with --config
//   test/fixtures/kubeadm/<release>/<case>/manifests/*.yaml  the static-pod manifests, byte for byte
//   test/fixtures/kubeadm/<release>/<case>/files.txt         every path kubeadm created or changed: type,
//                                                             mode, owner:group (names from the root's
//                                                             own passwd/group), path — never content
//   test/fixtures/kubeadm/<release>/<case>/accounts.txt      passwd/group lines kubeadm added (its
//                                                             RootlessControlPlane gate), when any
//   test/fixtures/kubeadm/<release>/<case>/patches/*.yaml    what `kubeadm-nonroot patches` wrote for the case
//                                                             after `kubeadm-nonroot apply` on a sandbox root
//                                                             laid out from the listing (the tool's output)
//   test/fixtures/kubeadm/<release>/<case>/kubeadm-patched/*.yaml  the manifests the same kubeadm wrote for
//                                                             the same config and phases with those patch
//                                                             files (InitConfiguration `patches.directory`):
//                                                             the oracle for apply's manifests
//   test/fixtures/kubeadm/<release>/kubeadm-version.txt      `kubeadm version -o short` of the binary used
//   test/fixtures/kubeadm/<release>/substituted-modules.txt   staging modules built at another patch release (the proxy lacked them)
// Nothing random is committed: certificates, keys and kubeconfigs (which embed certificates) are listed
// with owner and mode only; manifests, configs, listings and account lines are deterministic, so a second
// run gives the same bytes. Nothing is stripped from what is committed.
//
// Containment: kubeadm is copied into the root and run with chroot(8), so every path it writes —
// /etc/kubernetes, /var/lib/etcd, and /etc/passwd, /etc/group for the gate's accounts (kubeadm's
// cmd/kubeadm/app/util/users/users_linux.go opens the absolute paths) — is inside the root. The root is
// seeded like a small Debian 12 node: the account databases and login.defs of scripts/lib/accounts.ts
// and the Debian CA trust directories (which decide the ca-certs volumes kubeadm adds,
// cmd/kubeadm/app/phases/controlplane/volumes.go). The CLI (gen-kubeadm-fixtures.ts) checksums the host's
// /etc before and after a run.
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUP, PASSWD, writeAccounts } from './lib/accounts.js';
import { addSystemDirs, runCli, show } from './lib/cli-run.js';
import { buildKubeadmCaseSandbox, kubeadmCaseOf, readCaseDir } from './lib/kubeadm-cases.js';
import { cachedKubernetesBinary } from './k8s-build.js';
import { removeLeftByDeadProcesses } from './lib/pid-lock.js';
import { tryRun } from './lib/run.js';

/**
 * The newest patch of every minor from v1.22 to v1.37, as the Go module proxy served them on 2026-11-27
 * (`go list -m k8s.io/kubernetes@vX.Y.Z`). Newest first: the generator works down the list.
 */
export const RELEASES: readonly string[] = [
  'v1.37.2', 'v1.36.3', 'v1.35.4', 'v1.34.4', 'v1.33.13', 'v1.32.13', 'v1.31.14', 'v1.30.14',
  'v1.29.15', 'v1.28.15', 'v1.27.16', 'v1.26.15', 'v1.25.16', 'v1.24.17', 'v1.23.17', 'v1.22.17',
];

/** kubeadm of `release` in the build cache of scripts/k8s-build.ts, or null when it has not been built. */
export function cachedKubeadm(release: string): string | null {
  return cachedKubernetesBinary(release, 'kubeadm');
}

/** The node configurations (issue 13). */
export const CASES = ['default', 'external-etcd', 'certs-dir', 'apiserver-extras', 'ipv6-dual-stack', 'port-443', 'rootless-gate'] as const;
export type CaseName = (typeof CASES)[number];

const minorOf = (release: string): number => Number(/^v1\.(\d+)\./.exec(release)?.[1] ?? NaN);

/**
 * Every case for every release. RootlessControlPlane is alpha from v1.22 (KEP-2568) and deprecated from
 * v1.31 — and still accepted through v1.37.2: its FeatureSpec is in cmd/kubeadm/app/features/features.go
 * of v1.35.4, v1.36.3 and v1.37.2, and local.go/manifests.go still act on it. A release whose kubeadm
 * refused the gate would fail the generator, not be skipped.
 */
export function casesFor(_release: string): CaseName[] {
  return [...CASES];
}

/** Addresses from the documentation ranges (RFC 5737 / RFC 3849 is too small for a ULA-style layout; fd00::/8 ULA). */
const ADVERTISE_V4 = '192.0.2.10';
const ADVERTISE_V6 = 'fd00:10::10';
export const NODE_NAME = 'controlplane';

type Args = Record<string, string>;

interface ExtraVolume {
  name: string;
  hostPath: string;
  mountPath: string;
  readOnly: boolean;
  pathType: string;
}

const yamlArgs = (args: Args, v1beta4: boolean, indent: string): string[] =>
  v1beta4
    ? ['extraArgs:', ...Object.entries(args).flatMap(([name, value]) => [`- name: ${name}`, `  value: ${JSON.stringify(value)}`])].map((l) => indent + l)
    : ['extraArgs:', ...Object.entries(args).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)].map((l) => indent + l);

const yamlVolumes = (vols: ExtraVolume[], indent: string): string[] =>
  ['extraVolumes:', ...vols.flatMap((v) => [`- name: ${v.name}`, `  hostPath: ${v.hostPath}`, `  mountPath: ${v.mountPath}`, `  readOnly: ${v.readOnly}`, `  pathType: ${v.pathType}`])].map((l) => indent + l);

/** The kubeadm configuration of a case, for this release (v1beta3 up to v1.30, v1beta4 from v1.31). */
function configFor(release: string, name: CaseName): string {
  const minor = minorOf(release);
  const v1beta4 = minor >= 31;
  const api = `kubeadm.k8s.io/${v1beta4 ? 'v1beta4' : 'v1beta3'}`;
  const ipv6 = name === 'ipv6-dual-stack';
  const init = [
    `apiVersion: ${api}`,
    'kind: InitConfiguration',
    'localAPIEndpoint:',
    `  advertiseAddress: ${ipv6 ? ADVERTISE_V6 : ADVERTISE_V4}`,
    `  bindPort: ${name === 'port-443' ? 443 : 6443}`,
    'nodeRegistration:',
    `  name: ${NODE_NAME}`,
    '  criSocket: unix:///var/run/containerd/containerd.sock',
  ];
  const cluster = [`apiVersion: ${api}`, 'kind: ClusterConfiguration', `kubernetesVersion: ${release}`, 'clusterName: kubernetes'];
  if (name === 'certs-dir') cluster.push('certificatesDir: /etc/kubernetes/ssl');
  cluster.push('networking:', '  dnsDomain: cluster.local');
  if (ipv6) cluster.push('  podSubnet: fd00:10:244::/56,10.244.0.0/16', '  serviceSubnet: fd00:10:96::/112,10.96.0.0/16');
  else cluster.push('  podSubnet: 10.244.0.0/16', '  serviceSubnet: 10.96.0.0/12');
  if (name === 'external-etcd') {
    cluster.push(
      'etcd:',
      '  external:',
      '    endpoints:',
      '    - https://192.0.2.21:2379',
      '    - https://192.0.2.22:2379',
      '    caFile: /etc/etcd/pki/ca.crt',
      '    certFile: /etc/etcd/pki/apiserver-etcd-client.crt',
      '    keyFile: /etc/etcd/pki/apiserver-etcd-client.key',
    );
  }
  if (name === 'apiserver-extras') {
    const args: Args = {
      'audit-log-maxage': '30',
      'audit-log-path': '/var/log/kubernetes/audit/audit.log',
      'audit-policy-file': '/etc/kubernetes/audit/policy.yaml',
      'authentication-token-webhook-config-file': '/etc/kubernetes/webhooks/authn-webhook.kubeconfig',
      'encryption-provider-config': '/etc/kubernetes/enc/encryption-config.yaml',
      'oidc-ca-file': '/etc/kubernetes/oidc/ca.crt',
      'oidc-client-id': 'kubernetes',
      'oidc-issuer-url': 'https://issuer.example.invalid',
      'oidc-username-claim': 'email',
    };
    const vol = (n: string, p: string, readOnly: boolean): ExtraVolume => ({ name: n, hostPath: p, mountPath: p, readOnly, pathType: 'DirectoryOrCreate' });
    cluster.push(
      'apiServer:',
      ...yamlArgs(args, v1beta4, '  '),
      ...yamlVolumes(
        [
          vol('audit-policy', '/etc/kubernetes/audit', true),
          vol('audit-log', '/var/log/kubernetes/audit', false),
          vol('encryption', '/etc/kubernetes/enc', true),
          vol('authn-webhook', '/etc/kubernetes/webhooks', true),
          vol('oidc-ca', '/etc/kubernetes/oidc', true),
        ],
        '  ',
      ),
    );
  }
  if (name === 'rootless-gate') cluster.push('featureGates:', '  RootlessControlPlane: true');
  return [...init, '---', ...cluster, ''].join('\n');
}

/** The phases run, in order (etcd only with a local etcd). */
export function phasesFor(name: CaseName): string[][] {
  const phases = [['certs', 'all'], ['kubeconfig', 'all'], ['control-plane', 'all']];
  if (name !== 'external-etcd') phases.push(['etcd', 'local']);
  return phases.map((p) => ['init', 'phase', ...p]);
}

export interface CaseOutput {
  config: string;
  /** Manifest file name → bytes as kubeadm wrote them. */
  manifests: Record<string, string>;
  /** files.txt: one line per path kubeadm created or changed. */
  listing: string;
  /** accounts.txt: passwd/group lines kubeadm added; '' when none. */
  accounts: string;
  /** patches/: file name → the patch file `kubeadm-nonroot patches` wrote (after apply) for this case. */
  patches: Record<string, string>;
  /** kubeadm-patched/: manifest file name → what kubeadm wrote with those patches. */
  kubeadmPatched: Record<string, string>;
}

interface Seen {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  sha?: string;
}

async function walk(root: string): Promise<Map<string, Seen>> {
  const out = new Map<string, Seen>();
  async function visit(rel: string): Promise<void> {
    const abs = path.join(root, rel);
    const st = await lstat(abs);
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    if (st.isDirectory()) {
      out.set(rel, { type: 'dir', ...base });
      for (const n of (await readdir(abs)).sort()) await visit(path.posix.join(rel, n));
    } else if (st.isFile()) {
      out.set(rel, { type: 'file', ...base, sha: createHash('sha256').update(await readFile(abs)).digest('hex') });
    } else {
      out.set(rel, { type: st.isSymbolicLink() ? 'symlink' : 'other', ...base });
    }
  }
  await visit('/');
  return out;
}

/** Runs a command with a minimal PATH (or `opts.env` alone) from /; stdout and stderr together. */
async function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ code: number; out: string }> {
  const r = await tryRun(cmd, args, { env: opts.env ?? { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, extendEnv: false, cwd: opts.cwd ?? '/' });
  if (r.exitCode === undefined) throw new Error(r.failure); // not started (not found) or killed by a signal
  return { code: r.exitCode, out: r.all };
}

/** `kubeadm version -o short` of a binary. */
export async function kubeadmVersion(kubeadm: string): Promise<string> {
  const r = await run(kubeadm, ['version', '-o', 'short']);
  if (r.code !== 0) throw new Error(`${kubeadm} version: exit ${r.code}: ${r.out.trim()}`);
  return r.out.trim();
}

/** Debian 12's ca-certificates layout: the dirs kubeadm probes for the ca-certs volumes. */
const TRUST_DIRS = ['/etc/ssl/certs', '/etc/ca-certificates', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates'];
/** Paths of the seed that are the generator's own, not kubeadm's output. */
const OWN = new Set(['/kubeadm', '/kubeadm.yaml']);

/**
 * A throwaway root seeded like a small Debian node, with kubeadm at /kubeadm and `config` at
 * /kubeadm.yaml; `fn` runs kubeadm in it; the root is removed afterwards.
 */
export async function withKubeadmRoot<T>(kubeadm: string, config: string, fn: (root: string, kubeadmIn: (args: string[]) => Promise<string>) => Promise<T>): Promise<T> {
  const root = await mkdtemp(path.join(tmpdir(), 'kubeadm-fixture-'));
  try {
    await chmod(root, 0o755);
    await writeAccounts(root);
    for (const d of ['/tmp', '/root', '/var/lib', ...TRUST_DIRS]) await mkdir(path.join(root, d), { recursive: true, mode: 0o755 });
    await chmod(path.join(root, 'tmp'), 0o1777);
    await chmod(path.join(root, 'root'), 0o700);
    await writeFile(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), '');
    // cp(1) writes the copy, not this process: a file open for writing in a process that forks (the
    // tests run cases side by side, each spawning children) is held open by every child until it
    // execs, and exec of a file someone holds for writing fails with ETXTBSY "Text file busy"
    // (the same race as golang/go#22315). A CI run hit it. cp never forks, so once it exits no
    // process holds the copy open for writing.
    const cp = await run('/bin/cp', ['--', kubeadm, path.join(root, 'kubeadm')]);
    if (cp.code !== 0) throw new Error(`cp ${kubeadm} ${root}/kubeadm: exit ${cp.code}: ${cp.out.trim()}`);
    await chmod(path.join(root, 'kubeadm'), 0o755);
    await writeFile(path.join(root, 'kubeadm.yaml'), config, { mode: 0o644 });
    const kubeadmIn = async (args: string[]): Promise<string> => {
      // chroot(8) with a clean environment: kubeadm sees only the root, and no KUBECONFIG or proxy of ours.
      const r = await run('/usr/sbin/chroot', [root, '/kubeadm', ...args], { env: { PATH: '/', HOME: '/root' } });
      if (r.code !== 0) throw new Error(`kubeadm ${args.join(' ')} (chroot ${root}): exit ${r.code}\n${r.out.trim()}`);
      return r.out;
    };
    return await fn(root, kubeadmIn);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Names of uids and gids in a root's passwd/group. */
async function names(root: string): Promise<{ user: (uid: number) => string; group: (gid: number) => string }> {
  const table = async (f: string) => new Map((await readFile(path.join(root, f), 'utf8')).split('\n').filter(Boolean).map((l) => l.split(':')).map((x) => [Number(x[2]), x[0]!] as const));
  const users = await table('etc/passwd');
  const groups = await table('etc/group');
  return { user: (u) => users.get(u) ?? String(u), group: (g) => groups.get(g) ?? String(g) };
}

const added = (before: string, after: string): string[] => {
  const had = new Set(before.split('\n'));
  return after.split('\n').filter((l) => l !== '' && !had.has(l));
};

/**
 * `config` with InitConfiguration `patches: {directory: dir}` — what `--patches DIR` sets (kubeadm refuses
 * the flag together with --config). kubeadm.k8s.io/v1beta3 (v1.22+) and v1beta4 have the field; the
 * control-plane and the etcd local phases both apply it (cmd/kubeadm/app/phases/controlplane/manifests.go,
 * phases/etcd/local.go).
 */
function configWithPatches(config: string, dir: string): string {
  const [init, ...rest] = config.split('\n---\n');
  if (!/^kind: InitConfiguration$/m.test(init ?? '')) throw new Error('the first document of the config is not the InitConfiguration');
  return [`${init}\npatches:\n  directory: ${dir}`, ...rest].join('\n---\n');
}

/** The manifests kubeadm wrote in a root. */
async function manifestsIn(root: string): Promise<Record<string, string>> {
  const mdir = path.join(root, 'etc/kubernetes/manifests');
  const out: Record<string, string> = {};
  for (const f of (await readdir(mdir)).sort()) out[f] = await readFile(path.join(mdir, f), 'utf8');
  return out;
}

/**
 * The patch oracle of a case: on a sandbox root laid out from kubeadm's own output (the same one the
 * tests build), `kubeadm-nonroot apply` then `kubeadm-nonroot patches`; then this release's kubeadm runs
 * the case's phases again, on the same config plus those patch files, in a fresh throwaway root. Returns
 * the patch files and kubeadm's patched manifests.
 */
async function patchOracle(kubeadm: string, release: string, name: CaseName, base: Omit<CaseOutput, 'patches' | 'kubeadmPatched'>): Promise<Pick<CaseOutput, 'patches' | 'kubeadmPatched'>> {
  const c = kubeadmCaseOf(release, name, `${release}/${name} (being generated)`, caseFiles({ ...base, patches: {}, kubeadmPatched: {} }));
  const sb = await buildKubeadmCaseSandbox(c);
  const patchDir = await mkdtemp(path.join(tmpdir(), 'kubeadm-fixture-patches-'));
  try {
    await addSystemDirs(sb.root);
    const apply = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 120_000 });
    if (apply.code !== 0) throw new Error(`${c.id}: kubeadm-nonroot apply failed: ${show(apply)}`);
    const out = await runCli(['patches', '--root', sb.root, '--output-dir', patchDir]);
    if (out.code !== 0) throw new Error(`${c.id}: kubeadm-nonroot patches failed: ${show(out)}`);
    const patches: Record<string, string> = {};
    for (const f of (await readdir(patchDir)).sort()) patches[f] = await readFile(path.join(patchDir, f), 'utf8');
    const kubeadmPatched = await withKubeadmRoot(kubeadm, configWithPatches(base.config, '/patches'), async (root, kubeadmIn) => {
      await mkdir(path.join(root, 'patches'), { mode: 0o755 });
      for (const [f, text] of Object.entries(patches)) await writeFile(path.join(root, 'patches', f), text, { mode: 0o644 });
      for (const args of phasesFor(name)) await kubeadmIn([...args, '--config', '/kubeadm.yaml']);
      return manifestsIn(root);
    });
    return { patches, kubeadmPatched };
  } finally {
    await rm(patchDir, { recursive: true, force: true });
    await sb.cleanup();
  }
}

/** Runs kubeadm for one case in a throwaway root and returns what it wrote, with the case's patch oracle. */
export async function generateCase(kubeadm: string, release: string, name: CaseName): Promise<CaseOutput> {
  const base = await generateBase(kubeadm, release, name);
  return { ...base, ...(await patchOracle(kubeadm, release, name, base)) };
}

async function generateBase(kubeadm: string, release: string, name: CaseName): Promise<Omit<CaseOutput, 'patches' | 'kubeadmPatched'>> {
  const config = configFor(release, name);
  return withKubeadmRoot(kubeadm, config, async (root, kubeadmIn) => {
    const before = await walk(root);
    for (const args of phasesFor(name)) await kubeadmIn([...args, '--config', '/kubeadm.yaml']);
    const after = await walk(root);
    const n = await names(root);
    const lines: string[] = [];
    for (const [p, e] of after) {
      if (OWN.has(p)) continue;
      const b = before.get(p);
      if (b && b.type === e.type && b.mode === e.mode && b.uid === e.uid && b.gid === e.gid && b.sha === e.sha) continue;
      lines.push(`${e.type.padEnd(4)} ${e.mode.toString(8).padStart(4, '0')} ${n.user(e.uid)}:${n.group(e.gid)} ${p}${b ? ' (changed)' : ''}`);
    }
    const manifests = await manifestsIn(root);
    const acct = [
      ...added(PASSWD, await readFile(path.join(root, 'etc/passwd'), 'utf8')).map((l) => `passwd ${l}`),
      ...added(GROUP, await readFile(path.join(root, 'etc/group'), 'utf8')).map((l) => `group ${l}`),
    ];
    return { config, manifests, listing: lines.join('\n') + '\n', accounts: acct.length ? acct.join('\n') + '\n' : '' };
  });
}

/** test/fixtures/kubeadm, from the compiled (dist/scripts) or the source (scripts) location. */
export function kubeadmFixturesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../test/fixtures/kubeadm'), path.resolve(here, '../test/fixtures/kubeadm')];
  return candidates.find((c) => existsSync(path.dirname(c))) ?? candidates[0]!;
}

/** The files of a case directory, relative path → content (what writeCase writes, what the check compares). */
export function caseFiles(out: CaseOutput): Record<string, string> {
  const files: Record<string, string> = { 'kubeadm.yaml': out.config, 'files.txt': out.listing };
  if (out.accounts) files['accounts.txt'] = out.accounts;
  for (const [f, text] of Object.entries(out.manifests)) files[`manifests/${f}`] = text;
  for (const [f, text] of Object.entries(out.patches)) files[`patches/${f}`] = text;
  for (const [f, text] of Object.entries(out.kubeadmPatched)) files[`kubeadm-patched/${f}`] = text;
  return files;
}

/** The pid in the name of a temporary writeCase made for case `name`: `<name>.tmp-<pid>`, `<name>.old-<pid>`. */
const casePidIn = (name: string) => (entry: string): number | undefined => {
  const pid = entry.startsWith(`${name}.`) ? /^(?:tmp|old)-(\d+)$/.exec(entry.slice(name.length + 1))?.[1] : undefined;
  return pid === undefined ? undefined : Number(pid);
};

/**
 * Replaces the case directory `dir` by the files of `out`: written into a sibling temporary directory
 * first, then swapped in by rename, so an interrupted run leaves the old case or the new one, never a
 * case missing files. A killed run's temporaries beside it (`<case>.tmp-<pid>`, `<case>.old-<pid>`: not
 * case names, so readers skip them) are removed here once their process is gone.
 */
export async function writeCase(dir: string, out: CaseOutput): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  removeLeftByDeadProcesses(path.dirname(dir), casePidIn(path.basename(dir)));
  await rm(tmp, { recursive: true, force: true });
  for (const [rel, text] of Object.entries(caseFiles(out))) {
    await mkdir(path.dirname(path.join(tmp, rel)), { recursive: true });
    await writeFile(path.join(tmp, rel), text);
  }
  const hadOld = existsSync(dir);
  if (hadOld) await rename(dir, old);
  await rename(tmp, dir);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/** Reads a committed case directory back as caseFiles() would give it. */
export async function readCaseFiles(dir: string): Promise<Record<string, string>> {
  return readCaseDir(dir);
}
