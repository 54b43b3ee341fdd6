// The real-world manifests of ../shared/corpus (42 nodes from public repositories, v1.13–v1.34;
// provenance in its INDEX.md; read in place, never copied into the project): each case must end
// either MIGRATED CORRECTLY or REFUSED WITH ITS REASON, as written in EXPECTED below from reading
// each case's files (not from the tool's output).
//
// Migrated: a sandbox node (scripts/lib/sandbox.ts) plus every file the manifests name that the
// sandbox lacks (so a file the tool overlooks — an exec probe's key — is there, root-only, as on a
// real node), then `apply --no-wait`; afterwards the KERNEL (setpriv … test -r, no capabilities)
// must let each component, with the uid/gid/groups of its migrated manifest, read every file its
// flags, exec probes and lifecycle hooks name (searched by this test's own small reading of the pod,
// not the tool's analysis), write the directories it writes, and not read the node's root-only
// kubeconfigs. Refused: apply exits 2, the node is byte-identical, and the plan names the reason.
// Skipped only without root/setpriv or without ../shared, which FAILS under KUBEADM_NONROOT_REQUIRE_E2E=1.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { runCli, show } from '../../scripts/lib/cli-run.js';
import { isToolState } from '../support/cli-root.js';
import { REPO_ROOT } from '../../scripts/lib/paths.js';
import { namedPaths, readPod, type PodReading } from '../../scripts/lib/pod-reading.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';
import { identityOf, kernelAccess, missingPrerequisites, skipUnlessPossible, type AccessCheck } from '../support/setpriv.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const CORPUS = path.resolve(REPO_ROOT, '..', 'shared', 'corpus');
const MANIFESTS = '/etc/kubernetes/manifests';

type Expected = { outcome: 'migrated'; warnings?: string[] } | { outcome: 'refused'; problems: string[] };
const MIGRATED: Expected = { outcome: 'migrated' };
/** Kubernetes before 1.16 is outside the versions the tool knows: migrated, with that warning. */
const OLD: Expected = { outcome: 'migrated', warnings: ['kubernetes-version'] };

// From reading each case (INDEX.md row + files). Refusals and why:
const EXPECTED: Record<string, Expected> = {
  'v1.13.4-hpa-tuned-kcm': OLD, // etcd exec probe reads healthcheck-client.key: etcd must be able to
  // hostPath ≠ mountPath, cfssl names, key shared by etcd and kas — all under /media/psf/runX-pkgs/…,
  // outside /etc/kubernetes and any kubeadm PKI dir (cfssl names: no ca.crt/ca.key): read grants there
  // need the config's allowPaths (docs/ownership.md, "allow, don't deny")
  'v1.14-zhoujing-custom-hostpaths': { outcome: 'refused', problems: ['path-not-allowed'] },
  'v1.14.0-azure-cloud-config': OLD,
  'v1.14.1-aliyun-mirror': OLD,
  // kube-apiserver has no --tls-cert-file/--tls-private-key-file and no volumes: it writes a
  // self-signed pair to /var/run/kubernetes inside the image, which a non-root apiserver cannot.
  'v1.15-handwritten-insecure-external-etcd': { outcome: 'refused', problems: ['write-path-in-image'] },
  'v1.15.1-external-etcd-no-etcd-manifest': OLD,
  'v1.15.3-edge-no-status-no-eol': OLD,
  'v1.15.3-katacoda-apiserver-only': OLD,
  'v1.15.4-centos-etc-pki': OLD,
  'v1.16.0-nodeport-80': MIGRATED,
  'v1.17.0-nodeport-range-no-eol': MIGRATED,
  'v1.18.16-aliyun-nodeport-all': MIGRATED,
  'v1.18.2-stacked-a': MIGRATED,
  'v1.18.2-stacked-b': MIGRATED,
  'v1.19.0-kodekloud-lab': MIGRATED,
  // --audit-log-path=/var/log/kubernetes/apiserver.log with no volume for it.
  'v1.19.1-cis-hardened-comments': { outcome: 'refused', problems: ['write-path-in-image'] },
  'v1.20.10-audit-policy-in-logdir-apiserver-only': MIGRATED,
  'v1.20.2-minikube': MIGRATED,
  // readOlny, a volume with no name, a mount naming no volume: the kubelet rejects it.
  'v1.21.0-cks-encryption-broken-volume-apiserver-only': { outcome: 'refused', problems: ['invalid-pod-spec'] },
  'v1.21.0-stacked': MIGRATED,
  // kubectl dumps of kind's mirror pods, not manifests.
  'v1.21.1-kind-mirror-pod-dump': { outcome: 'refused', problems: ['manifest-is-a-dump'] },
  // `hostpath:` (lower case) twice: the kubelet would make both volumes emptyDirs.
  'v1.21.4-cis-lowercase-hostpath-apiserver-only': { outcome: 'refused', problems: ['invalid-pod-spec'] },
  'v1.22.17-aws-cloud-provider': MIGRATED,
  'v1.23-etcd-restore-hostpath-only-etcd-only': MIGRATED,
  // kas, kcm and ks pods renamed (file names and labels kept).
  'v1.23.3-klustered-renamed-pods': { outcome: 'refused', problems: ['component-renamed'] },
  'v1.23.4-stacked': MIGRATED,
  'v1.23.6-perf-tuned-mixed-kcm-no-scheduler': MIGRATED,
  'v1.24.2-aliyun-apiserver-only': MIGRATED,
  // --audit-log-path=/var/log/apiserver/audit.log with no volume.
  'v1.24.6-cis-unmounted-audit-log': { outcome: 'refused', problems: ['write-path-in-image'] },
  'v1.25.2-stacked': MIGRATED,
  'v1.26.1-audit-file-mount': MIGRATED,
  'v1.27.3-joined-cp-etcd-existing': MIGRATED,
  'v1.27.4-minikube-audit-crlf-apiserver-only': MIGRATED,
  'v1.29.0-external-etcd-pem-apiserver-only': MIGRATED,
  'v1.29.0-inline-comments-etcd-apiserver': MIGRATED,
  'v1.29.0-killercoda-stacked': MIGRATED,
  'v1.29.0-kodekloud-stacked': MIGRATED,
  'v1.29.6-apiserver-only': MIGRATED,
  'v1.30.0-stacked': MIGRATED,
  'v1.30.14-audit-encryption-apiserver-only': MIGRATED,
  'v1.30.14-rhel-etc-pki-stacked': MIGRATED,
  'v1.32.0-minikube': MIGRATED,
};

const COMPONENT_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

// ---- the tests' own small reading of a pod (scripts/lib/pod-reading.ts, deliberately not src/model/*) ----

type Obj = Record<string, any>;

function componentPods(dir: string): Array<{ file: string; component: string; pod: PodReading }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => ({ file, text: readFileSync(path.join(dir, file), 'utf8') }))
    .map(({ file, text }) => ({ file, text, raw: parse(text, { version: '1.1' }) as Obj }))
    .filter(({ file, raw }) => COMPONENT_BINARIES.includes(path.posix.basename(String(raw?.spec?.containers?.[0]?.command?.[0] ?? ''))) && file === `${raw.metadata?.name}.yaml`)
    .map(({ file, text, raw }) => ({ file, component: raw.metadata.name as string, pod: readPod(text) }));
}

/** Give the node every FILE its manifests name that the sandbox lacks (root-owned; keys and kubeconfigs 0600). */
async function completeNode(sb: Sandbox): Promise<void> {
  for (const { pod } of componentPods(sb.path(MANIFESTS))) {
    for (const n of namedPaths(pod)) {
      if (n.write || !/\.\w+$/.test(n.host) || existsSync(sb.path(n.host))) continue;
      await mkdir(path.dirname(sb.path(n.host)), { recursive: true });
      const secret = /(\.key|-key\.pem|\.conf|\.kubeconfig)$/.test(n.host);
      await writeFile(sb.path(n.host), secret ? await readFile(sb.path('/etc/kubernetes/pki/ca.key')).catch(() => 'secret\n') : '# public\n', { mode: secret ? 0o600 : 0o644 });
    }
  }
}

async function checkMigrated(sb: Sandbox, caseName: string): Promise<string[]> {
  const violations: string[] = [];
  const pods = componentPods(sb.path(MANIFESTS));
  assert.ok(pods.length > 0, `${caseName}: no component manifests after apply`);
  for (const { component, pod } of pods) {
    const id = identityOf(pod);
    if (id.uid === 0) violations.push(`${component} still runs as root`);
    const checks: AccessCheck[] = [];
    const why: string[] = [];
    for (const n of namedPaths(pod)) {
      const host = sb.path(n.host);
      const st = await stat(host).catch(() => null);
      if (st === null) continue; // not on this node (a trust store the distro lacks): nothing to read
      const modes: Array<AccessCheck['mode']> = st.isDirectory() ? (n.write ? ['r', 'w', 'x'] : ['r', 'x']) : ['r'];
      for (const mode of modes) {
        checks.push({ path: host, mode });
        why.push(`${n.host} (${n.via})`);
      }
    }
    const own = new Set(namedPaths(pod).map((n) => n.host));
    const rootOnly = ['/etc/kubernetes/admin.conf', '/etc/shadow'].filter((p) => !own.has(p) && existsSync(sb.path(p)));
    const answers = await kernelAccess(id, [...checks, ...rootOnly.map((p) => ({ path: sb.path(p), mode: 'r' as const }))]);
    answers.forEach((a, i) => {
      if (i < checks.length && !a.allowed) violations.push(`${component} (uid ${id.uid} gid ${id.gid} groups [${id.groups}]) is DENIED test -${a.mode} ${why[i]}`);
      if (i >= checks.length && a.allowed) violations.push(`${component} CAN read ${rootOnly[i - checks.length]}`);
    });
  }
  return violations;
}

const cases = existsSync(CORPUS) ? readdirSync(CORPUS).filter((d) => existsSync(path.join(CORPUS, d)) && !d.endsWith('.md')).sort() : [];

test('the corpus is there and every case has an expected outcome', (t) => {
  if (skipUnlessPossible(t, existsSync(CORPUS) ? [] : [`${CORPUS} is missing (CI has ../shared beside the clone)`])) return;
  assert.deepEqual(cases, Object.keys(EXPECTED).sort());
});

for (const caseName of cases) {
  test(`corpus: ${caseName}`, { timeout: 180_000 }, async (t) => {
    if (skipUnlessPossible(t, missingPrerequisites())) return;
    const expected = EXPECTED[caseName];
    assert.ok(expected, `no expected outcome written for ${caseName}`);
    const dir = path.join(CORPUS, caseName);
    const manifests = Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
    const sb = await buildSandbox({ manifests });
    try {
      await completeNode(sb);
      const plan = await runCli(['plan', '--root', sb.root, '-o', 'json']);
      const json = JSON.parse(plan.stdout) as { problems: Array<{ code: string; message: string; fix?: string }>; warnings: Array<{ code: string }> };
      const before = await snapshotTree(sb.root);
      const apply = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 120_000 });
      if (expected.outcome === 'refused') {
        assert.equal(apply.code, 2, show(apply));
        assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.root), { ignore: isToolState }), [], 'a refused apply changed the node');
        const codes = [...new Set(json.problems.map((p) => p.code))].sort();
        assert.deepEqual(codes, [...expected.problems].sort(), `plan problems: ${JSON.stringify(json.problems, null, 1)}`);
        assert.ok(json.problems.every((p) => p.fix), 'every refusal says how to fix it');
        return;
      }
      assert.deepEqual(json.problems, [], `plan is blocked: ${plan.stdout.slice(0, 2000)}`);
      for (const w of expected.warnings ?? []) assert.ok(json.warnings.some((x) => x.code === w), `expected warning ${w}`);
      assert.equal(apply.code, 0, show(apply));
      assert.deepEqual(await checkMigrated(sb, caseName), [], `kernel access checks failed in ${caseName}`);
    } finally {
      await sb.cleanup();
    }
  });
}
