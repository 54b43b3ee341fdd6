// A sandbox node root: a temp dir laid out like a kubeadm control-plane node, for `--root DIR` tests and
// the demo. Which host files exist follows the manifests, never hard-coded per fixture, so custom
// certificatesDirs, moved data dirs and extra volumes get their files where the manifests say — read
// from the fixtures' hand-checked INDEX tables and the test support's own pod reading
// (sandbox-layout.ts), never from the tool's access analysis, which the sandbox exists to test.
// Owners and modes are what kubeadm / the kubelet / the component would have left:
//   - manifests dir 0700, manifests 0600 (kubeadm-manifests.md §1);
//   - PKI files copied from a real openssl-made PKI with kubeadm's modes (see pki.ts);
//   - kubeconfigs 0600 (clientcmd.WriteToFile);
//   - other secret files (encryption config, webhook kubeconfigs, token files) 0600, public ones 0644;
//     a webhook kubeconfig names its client certificate and key as files beside it (webhookKubeconfig);
//   - etcd data dir 0700 with member/snap and member/wal 0700, files 0600 (etcd fileutil.PrivateDirMode
//     / PrivateFileMode); audit log dir 0700 with audit.log 0600;
//   - hostPath volumes nobody wrote into yet as the kubelet creates them: DirectoryOrCreate 0755,
//     FileOrCreate an (here non-empty) 0644 file; the distro CA trust dirs get a bundle each;
//   - every parent dir 0755; owner root when the tests run as root, else the running user.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { chmod, chown, lchown, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAccounts } from './accounts.js';
import { readIndexTables, type IndexRow } from './index-tables.js';
import { readPod, type PodReading } from './pod-reading.js';
import { componentOf, pathsFromFlags, pathsFromIndex, type LaidOutPath } from './sandbox-layout.js';
import { cachedPki, clientCredentials, copyPki, KUBECONFIG_USERS, makeKubeconfig, PKI_FILES, pkiFileMode } from './pki.js';

export interface SandboxOptions {
  /** A case name under test/fixtures/manifests (see listFixtures()). */
  fixture?: string;
  /** Manifests by file name ("kube-apiserver.yaml" → YAML text); used instead of, or on top of, `fixture`. */
  manifests?: Record<string, string>;
  /** Build here instead of a fresh temp dir (created if missing; cleanup() then leaves it alone). */
  dir?: string;
  /** Replace the base /etc/passwd, /etc/group, /etc/login.defs texts of accounts.ts. */
  passwd?: string;
  group?: string;
  loginDefs?: string;
  /** Extra small files to put in the etcd data dir (spread over subdirs), for benchmarks. */
  dataFiles?: number;
}

export interface Sandbox {
  /** Host path of the node root (what `--root` gets). */
  root: string;
  /** Host path of etc/kubernetes/manifests inside the root. */
  manifestsDir: string;
  /** Host path of a node path: path('/etc/kubernetes/pki/sa.key') → `${root}/etc/kubernetes/pki/sa.key`. */
  path(nodePath: string): string;
  /** Remove the root, if buildSandbox created it. */
  cleanup(): Promise<void>;
}

const IS_ROOT = process.getuid?.() === 0;

/** test/fixtures/manifests, found from either the compiled (dist/scripts/lib) or the source location. */
export function fixturesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../../test/fixtures/manifests'), path.resolve(here, '../../test/fixtures/manifests')];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`test/fixtures/manifests not found from ${here}`);
  return found;
}

/** The fixture case names (directories under test/fixtures/manifests), sorted. */
export function listFixtures(): string[] {
  const dir = fixturesDir();
  return readdirSync(dir)
    .filter((name) => statSync(path.join(dir, name)).isDirectory())
    .sort();
}

/** The manifests of a fixture case, by file name. */
async function fixtureManifests(fixture: string): Promise<Record<string, string>> {
  const dir = path.join(fixturesDir(), fixture);
  if (!existsSync(dir)) throw new Error(`no fixture case "${fixture}"; known: ${listFixtures().join(', ')}`);
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.yaml')).sort()) {
    out[name] = await readFile(path.join(dir, name), 'utf8');
  }
  return out;
}

/** Writes inside one root: every dir created on the way is 0755 root, every file gets an explicit mode. */
class NodeWriter {
  constructor(readonly root: string) {}

  host(nodePath: string): string {
    return path.join(this.root, nodePath);
  }

  async own(abs: string, gid = 0): Promise<void> {
    if (IS_ROOT) await chown(abs, 0, gid);
  }

  async exists(nodePath: string): Promise<boolean> {
    try {
      await lstat(this.host(nodePath));
      return true;
    } catch {
      return false;
    }
  }

  /** mkdir -p; dirs that did not exist get `mode` (0755 unless told), existing ones are left as they are. */
  async dir(nodePath: string, mode = 0o755): Promise<void> {
    const parts = path.posix.normalize(nodePath).split('/').filter(Boolean);
    let cur = this.root;
    for (const part of parts) {
      cur = path.join(cur, part);
      try {
        await mkdir(cur);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw e;
      }
      await chmod(cur, 0o755);
      await this.own(cur);
    }
    if (mode !== 0o755) await this.chmodDir(nodePath, mode);
  }

  /** Force a directory's mode (it exists). */
  async chmodDir(nodePath: string, mode: number): Promise<void> {
    await chmod(this.host(nodePath), mode);
    await this.own(this.host(nodePath));
  }

  async file(nodePath: string, content: string | Buffer, mode: number): Promise<void> {
    await this.dir(path.posix.dirname(nodePath));
    const abs = this.host(nodePath);
    await writeFile(abs, content);
    await chmod(abs, mode);
    await this.own(abs);
  }

  async link(nodePath: string, target: string): Promise<void> {
    await this.dir(path.posix.dirname(nodePath));
    await symlink(target, this.host(nodePath));
    if (IS_ROOT) await lchown(this.host(nodePath), 0, 0);
  }
}

interface ParsedManifest {
  fileName: string;
  pod: PodReading;
  paths: LaidOutPath[];
  isComponent: boolean;
}

/**
 * Each manifest read, with the paths its component reads and writes: a fixture case's manifest as the
 * case has it from its INDEX rows (`indexed`: file name → rows), any other from its flags.
 */
function parseManifests(manifests: Record<string, string>, indexed: ReadonlyMap<string, readonly IndexRow[]>): ParsedManifest[] {
  return Object.entries(manifests).map(([fileName, text]) => {
    const pod = readPod(text);
    const component = componentOf(fileName, pod);
    const rows = indexed.get(fileName);
    const paths = component === null ? [] : rows ? pathsFromIndex(component, pod, rows) : pathsFromFlags(component, pod);
    return { fileName, pod, paths, isComponent: component !== null };
  });
}

/** The INDEX rows of a fixture case's manifests that `manifests` still holds unchanged (a test may replace one). */
async function indexedManifests(fixture: string | undefined, manifests: Record<string, string>): Promise<Map<string, IndexRow[]>> {
  if (!fixture) return new Map();
  const original = await fixtureManifests(fixture);
  const tables = readIndexTables().get(fixture) ?? new Map<string, IndexRow[]>();
  return new Map([...tables].filter(([file]) => manifests[file] !== undefined && manifests[file] === original[file]));
}

/** The last value of `--name=` in an argv, or null. */
function lastFlagValue(argv: readonly string[], name: string): string | null {
  const values = argv.filter((a) => a.startsWith(`${name}=`)).map((a) => a.slice(name.length + 1));
  return values.length ? values[values.length - 1]! : null;
}

/**
 * Where a host path sits in the kubeadm PKI layout: "etcd/server.key" for …/etcd/server.key, "sa.pub" for
 * …/sa.pub; null for names kubeadm's PKI does not have.
 */
function pkiRel(hostPath: string): string | null {
  const base = path.posix.basename(hostPath);
  const parent = path.posix.basename(path.posix.dirname(hostPath));
  if (parent === 'etcd' && PKI_FILES.includes(`etcd/${base}`)) return `etcd/${base}`;
  return PKI_FILES.includes(base) ? base : null;
}

// Names too generic to prove a directory is a kubeadm certificatesDir (a CA bundle dir can hold a ca.crt).
const GENERIC_PKI_NAMES = new Set(['ca.crt', 'ca.key']);

/** Distro CA trust layouts (Debian/Ubuntu ca-certificates, RHEL ca-certificates/p11-kit), by node dir. */
type TrustEntry = { rel: string; kind: 'file' } | { rel: string; kind: 'dir' } | { rel: string; kind: 'symlink'; target: string };
const TRUST_LAYOUT: Record<string, TrustEntry[]> = {
  '/etc/ssl/certs': [{ rel: 'ca-certificates.crt', kind: 'file' }],
  '/etc/ca-certificates': [{ rel: 'update.d', kind: 'dir' }],
  '/usr/share/ca-certificates': [{ rel: 'mozilla/Sandbox_Root_CA.crt', kind: 'file' }],
  '/usr/local/share/ca-certificates': [],
  '/etc/pki/ca-trust': [
    { rel: 'extracted/pem/tls-ca-bundle.pem', kind: 'file' },
    { rel: 'source/anchors', kind: 'dir' },
  ],
  // RHEL links it absolutely (/etc/pki/ca-trust/…); relative here so it can never leave the sandbox.
  '/etc/pki/tls/certs': [{ rel: 'ca-bundle.crt', kind: 'symlink', target: '../../ca-trust/extracted/pem/tls-ca-bundle.pem' }],
};

function encryptionConfig(): string {
  // A fixed (test-only) 32-byte AES key, base64: the shape of the upstream encrypt-data docs.
  const key = Buffer.alloc(32, 7).toString('base64');
  return [
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: EncryptionConfiguration',
    'resources:',
    '  - resources:',
    '      - secrets',
    '    providers:',
    '      - aescbc:',
    '          keys:',
    '            - name: key1',
    `              secret: ${key}`,
    '      - identity: {}',
    '',
  ].join('\n');
}

const AUDIT_POLICY = [
  'apiVersion: audit.k8s.io/v1',
  'kind: Policy',
  'omitStages:',
  '  - RequestReceived',
  'rules:',
  '  - level: Metadata',
  '    resources:',
  '      - group: ""',
  '        resources: ["secrets", "configmaps"]',
  '  - level: None',
  '    users: ["system:kube-proxy"]',
  '  - level: Request',
  '',
].join('\n');

class SandboxBuilder {
  readonly w: NodeWriter;
  private pki = '';
  private caPem = '';
  private server = 'https://127.0.0.1:6443';
  private readonly pkiRoots = new Set<string>();

  constructor(root: string, private readonly opts: SandboxOptions) {
    this.w = new NodeWriter(root);
  }

  async build(manifests: Record<string, string>, indexed: ReadonlyMap<string, readonly IndexRow[]>): Promise<void> {
    this.pki = await cachedPki();
    this.caPem = await readFile(path.join(this.pki, 'ca.crt'), 'utf8');
    await chmod(this.w.root, 0o755);
    await this.w.own(this.w.root);
    await writeAccounts(this.w.root, { passwd: this.opts.passwd, group: this.opts.group, loginDefs: this.opts.loginDefs });
    await this.w.file('/usr/sbin/nologin', "#!/bin/sh\necho 'This account is currently not available.'\nexit 1\n", 0o755);

    const manifestsNodeDir = '/etc/kubernetes/manifests';
    await this.w.dir(manifestsNodeDir, 0o700);
    for (const [name, text] of Object.entries(manifests)) await this.w.file(`${manifestsNodeDir}/${name}`, text, 0o600);

    const parsed = parseManifests(manifests, indexed);
    const apiserver = parsed.find((m) => m.isComponent && m.fileName === 'kube-apiserver.yaml');
    const port = apiserver ? lastFlagValue(apiserver.pod.argv, '--secure-port') : null;
    if (port) this.server = `https://127.0.0.1:${port}`;

    // 1. Files and dirs the components read or write, one host path once (secret if any flag says so).
    const byHost = new Map<string, LaidOutPath>();
    for (const a of parsed.flatMap((m) => m.paths)) {
      const seen = byHost.get(a.hostPath);
      if (!seen || (a.secret && !seen.secret)) byHost.set(a.hostPath, a);
    }
    for (const a of byHost.values()) await this.materialise(a);

    // 2. The rest of each certificatesDir, and the kubeconfigs no component reads (admin.conf, …).
    if (this.pkiRoots.size === 0) this.pkiRoots.add('/etc/kubernetes/pki');
    for (const root of this.pkiRoots) {
      await this.w.dir(path.posix.dirname(root));
      await copyPki(this.pki, this.w.host(root));
    }
    for (const name of Object.keys(KUBECONFIG_USERS)) {
      if (await this.w.exists(`/etc/kubernetes/${name}`)) continue;
      await this.w.file(`/etc/kubernetes/${name}`, await makeKubeconfig(this.pki, KUBECONFIG_USERS[name], this.server), 0o600);
    }

    // 3. hostPath volumes nothing above created, as the kubelet (or the operator) would have.
    for (const m of parsed) for (const v of m.pod.hostPathVolumes) await this.volume(v.path, v.type);
  }

  private async materialise(a: LaidOutPath): Promise<void> {
    const p = a.hostPath;
    if (a.access === 'write') {
      if (a.target === 'file') return this.w.file(p, '', 0o600);
      await this.w.dir(p, 0o700);
      if (a.component === 'etcd' && a.flag === '--data-dir') return this.etcdData(p);
      if (a.component === 'etcd' && a.flag === '--wal-dir') {
        return this.w.file(`${p}/0000000000000000-0000000000000000.wal`, 'wal\n', 0o600);
      }
      // A log file flag (--audit-log-path …): the file already exists from earlier runs.
      const logName = path.posix.basename(a.containerPath);
      if (a.flag !== '--log-dir' && a.flag !== '--cert-dir') {
        return this.w.file(`${p}/${logName}`, '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata"}\n', 0o600);
      }
      return;
    }
    if (a.target === 'dir') return this.w.dir(p);
    const rel = pkiRel(p);
    if (rel !== null) {
      const root = p.slice(0, p.length - rel.length - 1) || '/';
      if (!GENERIC_PKI_NAMES.has(rel)) this.pkiRoots.add(root);
      return this.w.file(p, await readFile(path.join(this.pki, rel)), pkiFileMode(rel));
    }
    if (a.flag.endsWith('webhook-config-file')) return this.webhookKubeconfig(a);
    return this.w.file(p, await this.contentFor(a), a.secret ? 0o600 : 0o644);
  }

  /**
   * A webhook kubeconfig that names its client certificate and key as files beside it (0644 / 0600 root),
   * as operators often write them: the authentication webhook's by absolute path, the authorization
   * webhook's relative to the kubeconfig (client-go resolves those against the kubeconfig's own
   * directory, tools/clientcmd/loader.go ResolveLocalPaths). A component that can read the kubeconfig
   * but not the key fails to start.
   */
  private async webhookKubeconfig(a: LaidOutPath): Promise<void> {
    const flag = a.flag.replace(/^--/, '');
    const user = { cn: `kube-apiserver-${flag.replace(/-config-file$/, '')}` };
    const { cert, key } = await clientCredentials(this.pki, user);
    const stem = path.posix.basename(a.hostPath).replace(/\.[^.]*$/, '');
    const relative = flag.startsWith('authorization');
    const ref = (name: string) => (relative ? name : path.posix.join(path.posix.dirname(a.containerPath), name));
    await this.w.file(path.posix.join(path.posix.dirname(a.hostPath), `${stem}-client.crt`), cert, 0o644);
    await this.w.file(path.posix.join(path.posix.dirname(a.hostPath), `${stem}-client.key`), key, 0o600);
    const text = await makeKubeconfig(this.pki, user, 'https://127.0.0.1:9443/', { certificate: ref(`${stem}-client.crt`), key: ref(`${stem}-client.key`) });
    return this.w.file(a.hostPath, text, 0o600);
  }

  /** Plausible content for a non-PKI file, chosen by the flag that reads it, then by its name. */
  private async contentFor(a: LaidOutPath): Promise<string> {
    const base = path.posix.basename(a.hostPath);
    const flag = a.flag.replace(/^--/, '');
    if (flag === 'encryption-provider-config') return encryptionConfig();
    if (flag === 'audit-policy-file') return AUDIT_POLICY;
    if (flag === 'token-auth-file') return 'sandbox-static-token,sandbox-user,1001,"system:masters"\n';
    if (flag === 'basic-auth-file') return 'sandbox-password,sandbox-user,1001\n';
    if (flag.includes('kubeconfig') || /\.(conf|kubeconfig)$/.test(base)) {
      const user = KUBECONFIG_USERS[base] ?? { cn: `system:${a.component}` };
      return makeKubeconfig(this.pki, user, this.server);
    }
    if (/\.(crt|pem|cert)$/.test(base) && !a.secret) return this.caPem;
    if (/(\.key|-key\.pem)$/.test(base)) return readFile(path.join(this.pki, 'front-proxy-client.key'), 'utf8');
    return `# ${a.hostPath}: read by ${a.component} through ${a.flag} (sandbox placeholder)\n`;
  }

  /** etcd's on-disk layout (server/storage/datadir): member/snap/db and the first WAL segment. */
  private async etcdData(dataDir: string): Promise<void> {
    for (const sub of ['member', 'member/snap', 'member/wal']) await this.w.dir(`${dataDir}/${sub}`, 0o700);
    await this.w.file(`${dataDir}/member/snap/db`, Buffer.alloc(4096, 0), 0o600);
    await this.w.file(`${dataDir}/member/wal/0000000000000000-0000000000000000.wal`, Buffer.alloc(4096, 0), 0o600);
    const extra = this.opts.dataFiles ?? 0;
    // Spread over member/{snap,wal}/bulk-NNN (256 files each), so recursive walks see depth as well as
    // breadth. Written in parallel batches with the mode given at creation: thousands of files otherwise
    // take seconds.
    const bucket = (i: number): string =>
      `${dataDir}/member/${i % 2 === 0 ? 'snap' : 'wal'}/bulk-${String(Math.floor(i / 512)).padStart(3, '0')}`;
    for (let i = 0; i < extra; i += 512) {
      await this.w.dir(bucket(i), 0o700);
      if (i + 1 < extra) await this.w.dir(bucket(i + 1), 0o700);
    }
    const BATCH = 64;
    for (let start = 0; start < extra; start += BATCH) {
      const batch: Array<Promise<void>> = [];
      for (let i = start; i < Math.min(extra, start + BATCH); i++) {
        const name = `${i.toString(16).padStart(16, '0')}-${i.toString(16).padStart(16, '0')}.${i % 2 === 0 ? 'snap' : 'wal'}`;
        const abs = this.w.host(`${bucket(i)}/${name}`);
        batch.push(writeFile(abs, `entry ${i}\n`, { mode: 0o600 }).then(() => this.w.own(abs)));
      }
      await Promise.all(batch);
    }
  }

  /** A hostPath volume that does not exist yet: created the way its `type` (or its name, when unset) implies. */
  private async volume(hostPath: string, type: string): Promise<void> {
    const isFile =
      type === 'File' || type === 'FileOrCreate' || (type === '' && /\.[A-Za-z0-9]+$/.test(path.posix.basename(hostPath)));
    const isDir = type === 'Directory' || type === 'DirectoryOrCreate' || (type === '' && !isFile);
    if (isDir) {
      await this.w.dir(hostPath);
      for (const [dir, entries] of Object.entries(TRUST_LAYOUT)) {
        if (dir !== hostPath && !dir.startsWith(`${hostPath}/`)) continue;
        for (const e of entries) {
          const p = `${dir}/${e.rel}`;
          if (await this.w.exists(p)) continue;
          if (e.kind === 'file') await this.w.file(p, this.caPem, 0o644);
          else if (e.kind === 'dir') await this.w.dir(p);
          else await this.w.link(p, e.target);
        }
        await this.w.dir(dir);
      }
      return;
    }
    if (isFile && !(await this.w.exists(hostPath))) {
      const mode = hostPath.endsWith('.sh') ? 0o755 : 0o644;
      await this.w.file(hostPath, `# ${hostPath} (sandbox placeholder)\n`, mode);
    }
  }
}

/**
 * Build a sandbox node root from a fixture case and/or a manifests map. See the header for what it holds.
 * Needs `openssl` on PATH (the PKI is generated once per process).
 */
export async function buildSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const manifests = { ...(opts.fixture ? await fixtureManifests(opts.fixture) : {}), ...(opts.manifests ?? {}) };
  const indexed = await indexedManifests(opts.fixture, manifests);
  const created = opts.dir === undefined;
  const root = opts.dir ?? (await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-sandbox-')));
  await mkdir(root, { recursive: true });
  try {
    await new SandboxBuilder(root, opts).build(manifests, indexed);
  } catch (e) {
    if (created) await rm(root, { recursive: true, force: true });
    throw e;
  }
  return {
    root,
    manifestsDir: path.join(root, 'etc/kubernetes/manifests'),
    path: (nodePath: string) => path.join(root, nodePath),
    cleanup: async () => {
      if (created) await rm(root, { recursive: true, force: true });
    },
  };
}
