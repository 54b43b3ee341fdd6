// A kubeadm-shaped PKI made with the openssl CLI, for sandboxes, the demo and tests that start a real etcd.
//
// Layout and modes follow what `kubeadm init phase certs` writes (cmd/kubeadm/app/phases/certs and
// k8s.io/client-go/util/{cert,keyutil}): certificates 0644 (certutil.WriteCert), private keys 0600
// (keyutil.WriteKey), sa.pub 0600 too (kubeadm writes it with keyutil.WriteKey, not WriteCert), parent
// directories created with MkdirAll(…, 0755). Keys are ECDSA P-256 (kubeadm's
// `encryptionAlgorithm: ECDSA-P256`), PEM "EC PRIVATE KEY" as keyutil.MarshalPrivateKeyToPEM writes them.
// Extensions follow kubeadm's certificate list (cmd/kubeadm/app/phases/certs/certlist.go): CAs carry
// basicConstraints CA:TRUE + keyCertSign; etcd server and peer certs are serverAuth+clientAuth.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The node name baked into the etcd serving certs and kubelet.conf (kubeadm uses the hostname). */
export const NODE_NAME = 'controlplane';

/** Every file generatePki writes, relative to the PKI dir (kubeadm's certificatesDir). */
export const PKI_FILES: readonly string[] = [
  'ca.crt',
  'ca.key',
  'apiserver.crt',
  'apiserver.key',
  'apiserver-kubelet-client.crt',
  'apiserver-kubelet-client.key',
  'apiserver-etcd-client.crt',
  'apiserver-etcd-client.key',
  'front-proxy-ca.crt',
  'front-proxy-ca.key',
  'front-proxy-client.crt',
  'front-proxy-client.key',
  'sa.key',
  'sa.pub',
  'etcd/ca.crt',
  'etcd/ca.key',
  'etcd/server.crt',
  'etcd/server.key',
  'etcd/peer.crt',
  'etcd/peer.key',
  'etcd/healthcheck-client.crt',
  'etcd/healthcheck-client.key',
];

/** kubeadm's mode for a PKI file: certificates 0644, private keys and sa.pub 0600. */
export function pkiFileMode(rel: string): number {
  return rel.endsWith('.crt') ? 0o644 : 0o600;
}

const IS_ROOT = process.getuid?.() === 0;

/** chown to root when we are root; otherwise files stay owned by the running user. */
async function ownByRoot(p: string): Promise<void> {
  if (IS_ROOT) await chown(p, 0, 0);
}

// One openssl config holds every extension profile; `-extensions NAME` picks one per certificate.
const HOST_SANS = `DNS:localhost,DNS:${NODE_NAME},IP:127.0.0.1,IP:0:0:0:0:0:0:0:1`;
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]

[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyEncipherment,keyCertSign
subjectKeyIdentifier = hash

[apiserver]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
subjectAltName = DNS:${NODE_NAME},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:10.96.0.1,IP:127.0.0.1

[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid

[etcd_peer]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
authorityKeyIdentifier = keyid
subjectAltName = ${HOST_SANS}
`;

type Profile = 'apiserver' | 'client' | 'etcd_peer';

interface LeafSpec {
  rel: string;
  ca: string;
  subject: string;
  profile: Profile;
}

// certlist.go: which CA signs what, the CN/O kubeadm gives each cert, and its usages.
const CAS: ReadonlyArray<{ rel: string; subject: string }> = [
  { rel: 'ca', subject: '/CN=kubernetes' },
  { rel: 'front-proxy-ca', subject: '/CN=front-proxy-ca' },
  { rel: 'etcd/ca', subject: '/CN=etcd-ca' },
];

const LEAVES: readonly LeafSpec[] = [
  { rel: 'apiserver', ca: 'ca', subject: '/CN=kube-apiserver', profile: 'apiserver' },
  {
    rel: 'apiserver-kubelet-client',
    ca: 'ca',
    subject: '/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client',
    profile: 'client',
  },
  { rel: 'apiserver-etcd-client', ca: 'etcd/ca', subject: '/CN=kube-apiserver-etcd-client', profile: 'client' },
  { rel: 'front-proxy-client', ca: 'front-proxy-ca', subject: '/CN=front-proxy-client', profile: 'client' },
  { rel: 'etcd/server', ca: 'etcd/ca', subject: `/CN=${NODE_NAME}`, profile: 'etcd_peer' },
  { rel: 'etcd/peer', ca: 'etcd/ca', subject: `/CN=${NODE_NAME}`, profile: 'etcd_peer' },
  { rel: 'etcd/healthcheck-client', ca: 'etcd/ca', subject: '/CN=kube-etcd-healthcheck-client', profile: 'client' },
];

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

/** A scratch dir holding the openssl config and CSRs, removed after `fn`. */
async function withScratch<T>(fn: (scratch: string, config: string) => Promise<T>): Promise<T> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-openssl-'));
  try {
    const config = path.join(scratch, 'openssl.cnf');
    await writeFile(config, OPENSSL_CONFIG);
    return await fn(scratch, config);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function genKey(keyPath: string): Promise<void> {
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyPath]);
}

function serial(): string {
  // Random positive 127-bit serial, as Go's crypto/x509 callers (kubeadm) draw one.
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return '0x' + bytes.toString('hex');
}

/** Key + certificate signed by caBase.{crt,key}; writes keyPath and certPath. */
async function signLeaf(
  scratch: string,
  config: string,
  caBase: string,
  subject: string,
  profile: Profile,
  keyPath: string,
  certPath: string,
): Promise<void> {
  await genKey(keyPath);
  const csr = path.join(scratch, `${randomBytes(6).toString('hex')}.csr`);
  await openssl(['req', '-new', '-config', config, '-key', keyPath, '-subj', subject, '-out', csr]);
  await openssl([
    'x509', '-req', '-in', csr, '-CA', `${caBase}.crt`, '-CAkey', `${caBase}.key`, '-set_serial', serial(),
    '-days', '365', '-sha256', '-extfile', config, '-extensions', profile, '-out', certPath,
  ]);
}

async function setMode(p: string, mode: number): Promise<void> {
  await chmod(p, mode);
  await ownByRoot(p);
}

/**
 * Write a kubeadm-shaped PKI into `dir` (created if missing): the three CAs, the API server's serving and
 * client certs, the front-proxy client, sa.key/sa.pub and the etcd server/peer/healthcheck certs. Files
 * and modes: see PKI_FILES and pkiFileMode; `dir` and `dir/etcd` are 0755.
 */
export async function generatePki(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'etcd'), { recursive: true });
  for (const d of [dir, path.join(dir, 'etcd')]) await setMode(d, 0o755);
  await withScratch(async (scratch, config) => {
    await Promise.all(
      CAS.map(async ({ rel, subject }) => {
        const base = path.join(dir, rel);
        await genKey(`${base}.key`);
        await openssl([
          'req', '-x509', '-new', '-config', config, '-extensions', 'ca', '-key', `${base}.key`, '-subj', subject,
          '-set_serial', serial(), '-days', '3650', '-sha256', '-out', `${base}.crt`,
        ]);
      }),
    );
    await Promise.all(
      LEAVES.map(({ rel, ca, subject, profile }) =>
        signLeaf(
          scratch, config, path.join(dir, ca), subject, profile,
          path.join(dir, `${rel}.key`), path.join(dir, `${rel}.crt`),
        ),
      ),
    );
    // The service-account key pair is a bare key pair, no certificate (certs.go CreateServiceAccountKeyAndPublicKeyFiles).
    await genKey(path.join(dir, 'sa.key'));
    await openssl(['ec', '-in', path.join(dir, 'sa.key'), '-pubout', '-out', path.join(dir, 'sa.pub')]);
  });
  for (const rel of PKI_FILES) await setMode(path.join(dir, rel), pkiFileMode(rel));
}

let cached: Promise<string> | undefined;

/**
 * A PKI generated once per process into a temp dir (0755), removed when the process exits. Callers must
 * not modify it: copy it with copyPki first.
 */
export function cachedPki(): Promise<string> {
  cached ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-pki-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await generatePki(dir);
    return dir;
  })();
  return cached;
}

/** Copy a PKI tree from `from` to `to`, keeping every file's and directory's mode; owner root when we are root. */
export async function copyPki(from: string, to: string): Promise<void> {
  const st = await stat(from);
  await mkdir(to, { recursive: true });
  await setMode(to, st.mode & 0o7777);
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) {
      await copyPki(src, dst);
    } else if (entry.isFile()) {
      await copyFile(src, dst);
      await setMode(dst, (await stat(src)).mode & 0o7777);
    }
  }
}

/** Who a kubeconfig's client certificate says it is: subject CN and optional O (group). */
export interface KubeconfigUser {
  cn: string;
  org?: string;
}

// Client certs are memoised per CA (by content) and user, so many sandboxes built in one process
// sign each identity once.
const clientCerts = new Map<string, Promise<{ cert: string; key: string }>>();

function clientCert(pkiDir: string, caCert: string, user: KubeconfigUser): Promise<{ cert: string; key: string }> {
  const memoKey = `${createHash('sha256').update(caCert).digest('hex')}|${user.org ?? ''}|${user.cn}`;
  let pending = clientCerts.get(memoKey);
  if (!pending) {
    pending = withScratch(async (scratch, config) => {
      const keyPath = path.join(scratch, 'client.key');
      const certPath = path.join(scratch, 'client.crt');
      const subject = `${user.org ? `/O=${user.org}` : ''}/CN=${user.cn}`;
      await signLeaf(scratch, config, path.join(pkiDir, 'ca'), subject, 'client', keyPath, certPath);
      return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
    });
    clientCerts.set(memoKey, pending);
  }
  return pending;
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** A client certificate and key for `user`, signed by `pkiDir`/ca (PEM texts). */
export async function clientCredentials(pkiDir: string, user: KubeconfigUser): Promise<{ cert: string; key: string }> {
  return clientCert(pkiDir, await readFile(path.join(pkiDir, 'ca.crt'), 'utf8'), user);
}

/**
 * kubeconfig YAML as kubeadm writes it (cmd/kubeadm/app/util/kubeconfig: cluster "kubernetes", context
 * "<user>@kubernetes", keys sorted), with the CA and a fresh client cert/key signed by `pkiDir`/ca embedded
 * — or, given `clientFiles`, naming the client certificate and key files by those paths instead.
 */
export async function makeKubeconfig(
  pkiDir: string,
  user: KubeconfigUser,
  server = 'https://127.0.0.1:6443',
  clientFiles?: { certificate: string; key: string },
): Promise<string> {
  const caCert = await readFile(path.join(pkiDir, 'ca.crt'), 'utf8');
  const { cert, key } = await clientCert(pkiDir, caCert, user);
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${b64(caCert)}`,
    `    server: ${server}`,
    '  name: kubernetes',
    'contexts:',
    '- context:',
    '    cluster: kubernetes',
    `    user: ${user.cn}`,
    `  name: ${user.cn}@kubernetes`,
    `current-context: ${user.cn}@kubernetes`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${user.cn}`,
    '  user:',
    ...(clientFiles
      ? [`    client-certificate: ${clientFiles.certificate}`, `    client-key: ${clientFiles.key}`]
      : [`    client-certificate-data: ${b64(cert)}`, `    client-key-data: ${b64(key)}`]),
    '',
  ].join('\n');
}

/** The kubeconfig files kubeadm writes into /etc/kubernetes and the identity each one carries (kubeconfig.go). */
export const KUBECONFIG_USERS: Readonly<Record<string, KubeconfigUser>> = {
  'admin.conf': { cn: 'kubernetes-admin', org: 'kubeadm:cluster-admins' },
  'super-admin.conf': { cn: 'kubernetes-super-admin', org: 'system:masters' },
  'controller-manager.conf': { cn: 'system:kube-controller-manager' },
  'scheduler.conf': { cn: 'system:kube-scheduler' },
  'kubelet.conf': { cn: `system:node:${NODE_NAME}`, org: 'system:nodes' },
};

/** Write admin.conf, super-admin.conf, controller-manager.conf, scheduler.conf and kubelet.conf, mode 0600. */
export async function writeKubeconfigs(
  kubernetesDir: string,
  pkiDir: string,
  server = 'https://127.0.0.1:6443',
): Promise<void> {
  await mkdir(kubernetesDir, { recursive: true });
  for (const [file, user] of Object.entries(KUBECONFIG_USERS)) {
    const target = path.join(kubernetesDir, file);
    await writeFile(target, await makeKubeconfig(pkiDir, user, server));
    await setMode(target, 0o600);
  }
}
