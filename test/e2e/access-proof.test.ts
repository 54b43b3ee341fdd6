// The kernel, not the tool, decides whether the migrated components can read what they need and
// nothing else — and what they need comes from the fixtures' hand-checked INDEX tables
// (test/fixtures/manifests/INDEX.md: each path-valued flag, its access, and the host path a person
// resolved through the volumeMounts), never from the tool's own access analysis. For every fixture case,
// after `apply --no-wait`, for every kubeadm component the INDEX lists (by file name), a process with
// the UID, GID and supplementary groups of its MIGRATED manifest (read by the test's own pod reading,
// scripts/lib/pod-reading.ts; no capabilities at all: bounding set empty, so no DAC_OVERRIDE) asks
// the kernel (test -r / -w / -x):
//   - every host path of its INDEX rows must be readable (a directory also searchable); a written
//     directory readable, writable and searchable; a written file writable, or, when it does not exist
//     yet (an audit log), its directory writable and searchable; and every file named INSIDE a
//     kubeconfig its rows name (a webhook kubeconfig's client-key, pod-reading.ts withKubeconfigFiles)
//     readable;
//   - every regular file its rows only READ (no write row names it or a directory holding it) must be
//     refused for writing (test -w): a component cannot rewrite its kubeconfig, keys or configs
//     (docs/ownership.md, the read-only rule);
//   - every secret (by name or by content, access-proof.ts secretFilesOnNode) none of those names must
//     be refused: the private keys and kubeconfigs of the other components, and the files no
//     component's flags name (admin.conf, super-admin.conf, kubelet.conf, etcd/ca.key,
//     front-proxy-ca.key), and /etc/shadow, /etc/gshadow.
// Manifests the INDEX lists that are not kubeadm components (haproxy, keepalived, kube-vip) must be
// left byte-identical. A case whose apply is refused proves nothing: it is skipped with the reason,
// and FAILS when KUBEADM_NONROOT_REQUIRE_E2E=1 (as does a missing prerequisite).
import assert from 'node:assert/strict';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { readNodeFile, secretFilesOnNode } from '../support/access-proof.js';
import { BIN } from '../../scripts/lib/cli-run.js';
import { readIndexTables, type IndexRow } from '../../scripts/lib/index-tables.js';
import { readPod, withKubeconfigFiles, type PodReading } from '../../scripts/lib/pod-reading.js';
import { skipUnlessPossible } from '../support/prerequisites.js';
import { buildSandbox, fixturesDir, listFixtures, type Sandbox } from '../../scripts/lib/sandbox.js';
import { identityOf, kernelAccess, missingPrerequisites, type AccessCheck, type Identity } from '../support/setpriv.js';

const MANIFESTS = '/etc/kubernetes/manifests';
/** kubeadm's static pod files (kubeadm: constants.go, GetStaticPodFilepath). */
const KUBEADM_FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'];

/** Files only root may read however the node is set up: account secrets. */
const ROOT_ONLY = ['/etc/shadow', '/etc/gshadow'];

const INDEX = readIndexTables();

async function kind(p: string): Promise<'dir' | 'file' | 'missing'> {
  try {
    return (await lstat(p)).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

/** The kernel checks one INDEX row needs, by what the path is in the sandbox. */
async function needs(sb: Sandbox, r: IndexRow): Promise<AccessCheck[]> {
  const host = sb.path(r.hostPath);
  const k = await kind(host);
  if (r.access === 'write') {
    if (k === 'dir') return (['r', 'w', 'x'] as const).map((mode) => ({ path: host, mode }));
    if (k === 'file') return [{ path: host, mode: 'w' }];
    return (['w', 'x'] as const).map((mode) => ({ path: path.dirname(host), mode })); // created by the component
  }
  return k === 'dir' ? (['r', 'x'] as const).map((mode) => ({ path: host, mode })) : [{ path: host, mode: 'r' }];
}

const describeId = (id: Identity) => `uid ${id.uid} gid ${id.gid} groups [${id.groups.join(',')}]`;

for (const fixture of listFixtures()) {
  test(`kernel access proof after apply (oracle: INDEX.md): ${fixture}`, { timeout: 120_000 }, async (t) => {
    if (skipUnlessPossible(t, missingPrerequisites())) return;
    const tables = INDEX.get(fixture);
    assert.ok(tables, `INDEX.md has no section for ${fixture}`);
    const sb = await buildSandbox({ fixture });
    try {
      const apply = await execa(process.execPath, [BIN, 'apply', '--root', sb.root, '--yes', '--no-wait'], { reject: false, stdin: 'ignore' });
      if (apply.exitCode === 2 && skipUnlessPossible(t, [`apply refused this case (exit 2), so there is nothing to prove: ${apply.stderr.trim().split('\n').pop()}`])) return;
      assert.equal(apply.exitCode, 0, `apply --no-wait failed (${apply.exitCode}):\n${apply.stdout}\n${apply.stderr}`);

      // Not kubeadm's: left exactly as they were.
      for (const file of [...tables.keys()].filter((f) => !KUBEADM_FILES.includes(f))) {
        assert.equal(await readFile(sb.path(`${MANIFESTS}/${file}`), 'utf8'), await readFile(path.join(fixturesDir(), fixture, file), 'utf8'), `${file} is not a kubeadm component and must be left alone`);
      }
      const components = [...tables.entries()].filter(([file]) => KUBEADM_FILES.includes(file)).map(([file, rows]): [string, IndexRow[]] => [file, [...rows]]);
      assert.ok(components.length > 0, 'the case has kubeadm components');

      // Each component's INDEX rows, plus a read row for each file named inside a kubeconfig they name.
      const pods = new Map<string, PodReading>();
      for (const [file] of components) pods.set(file, readPod(await readFile(sb.path(`${MANIFESTS}/${file}`), 'utf8')));
      for (const [file, rows] of components) {
        const direct = rows.map((r) => ({ host: r.hostPath, containerPath: r.containerPath, via: r.flag, write: r.access === 'write' }));
        const followed = (await withKubeconfigFiles(pods.get(file)!, direct, (p) => readNodeFile(sb, p))).slice(direct.length);
        rows.push(...followed.map((n): IndexRow => ({ flag: n.via, containerPath: n.containerPath, access: 'read', hostPath: n.host })));
      }

      // Secret → the component files whose rows name it (none: only root may read it).
      const owners = new Map<string, Set<string>>();
      for (const p of [...(await secretFilesOnNode(sb)), ...ROOT_ONLY]) owners.set(p, new Set());
      for (const [file, rows] of components) for (const r of rows) owners.get(r.hostPath)?.add(file);
      assert.ok(owners.has('/etc/kubernetes/admin.conf'), 'the node has admin.conf (a root-only secret) to check against');

      const violations: string[] = [];
      for (const [file, rows] of components) {
        const id = identityOf(pods.get(file)!);
        assert.notEqual(id.uid, 0, `${file} still runs as root after apply`);
        const mine = new Set(rows.map((r) => r.hostPath));
        const allowed: AccessCheck[] = [];
        const why = new Map<string, string>();
        for (const r of rows) {
          for (const c of await needs(sb, r)) {
            allowed.push(c);
            why.set(`${c.mode}:${c.path}`, `${r.flag} ${r.access}`);
          }
        }
        const refused: AccessCheck[] = [...owners.keys()].filter((p) => !mine.has(p)).map((p) => ({ path: sb.path(p), mode: 'r' }));
        const written = rows.filter((r) => r.access === 'write').map((r) => r.hostPath);
        const readOnly = new Set(rows.filter((r) => r.access === 'read' && !written.some((w) => r.hostPath === w || r.hostPath.startsWith(`${w}/`))).map((r) => r.hostPath));
        for (const p of [...readOnly].sort()) if ((await kind(sb.path(p))) === 'file') refused.push({ path: sb.path(p), mode: 'w' });
        assert.ok(allowed.length > 0 && refused.length > 0, `${file}: nothing to check (${allowed.length} allowed, ${refused.length} refused)`);
        const answers = await kernelAccess(id, [...allowed, ...refused]);
        for (const [i, r] of answers.entries()) {
          const shouldBeAllowed = i < allowed.length;
          if (r.allowed === shouldBeAllowed) continue;
          const p = r.path.slice(sb.root.length);
          if (shouldBeAllowed) violations.push(`${file} (${describeId(id)}) is DENIED test -${r.mode} ${p}, which it needs (INDEX.md: ${why.get(`${r.mode}:${r.path}`)})`);
          else if (r.mode === 'w') violations.push(`${file} (${describeId(id)}) CAN write ${p}, which it only reads (INDEX.md)`);
          else {
            const of = [...owners.get(p)!];
            violations.push(`${file} (${describeId(id)}) CAN read ${p}, a secret of ${of.length ? of.join(', ') : 'root only'}`);
          }
        }
      }
      assert.deepEqual(violations, [], `kernel access checks failed in ${fixture}:\n${violations.join('\n')}`);
    } finally {
      await sb.cleanup();
    }
  });
}
