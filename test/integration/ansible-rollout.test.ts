// The Ansible rollout (templates/rollout/ansible/site.yml) RUN BY ANSIBLE: the real ansible-playbook
// (Debian's ansible-core) drives the real single executable (npm run build:sea, built or reused through
// build-sea's stamp) over an inventory of three throwaway nodes on this machine. Each node is
//   - a sandbox root (sandbox.ts) whose only static pod is a kubeadm-shaped etcd.yaml (etcd-manifest.ts),
//   - its own kubelet stand-in (runner.ts) running a REAL etcd from that manifest, so apply's health
//     gates are on (no --no-wait): the migrated etcd must come back healthy as its new user,
//   - inventory host vars: ansible_connection local, ansible_become false (the test runs as root and
//     needs no sudo), kubeadm_nonroot_root = the sandbox, and the executable's and the fleet config's
//     destinations in a per-node directory OUTSIDE the sandbox (on a real node /usr/local/sbin and
//     /etc/kubeadm-nonroot), so the sandbox tree is exactly the node as the tool sees it.
// Ansible gets a private HOME, ANSIBLE_HOME, ANSIBLE_LOCAL_TEMP/REMOTE_TEMP and an empty ANSIBLE_CONFIG
// under the test's temp dir: nothing is written to the machine's ~/.ansible, no ssh and no host keys.
// The oracles are Ansible's own task lines and PLAY RECAP, the kernel (/proc: who etcd runs as), the
// tool's `verify` exit code, and tree snapshots (tree.ts) of every sandbox, never the playbook's text.
// Skipped only when not root, or etcd, setpriv or ansible-playbook is absent; then it FAILS instead when
// KUBEADM_NONROOT_REQUIRE_E2E=1 (.ci/run installs ansible-core).
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { buildSea, hostArch } from '../../scripts/build-sea.js';
import { parsePasswd } from '../../src/discover/accounts.js';
import { addSystemDirs, REPO } from '../../scripts/lib/cli-run.js';
import { freeEtcdPorts, renderEtcdManifest, type EtcdPorts } from '../support/etcd-manifest.js';
import { findOnPath, startRunner, type Runner } from '../support/runner.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';
import { missingPrerequisites, skipUnlessPossible } from '../support/setpriv.js';
import { diffSnapshots, snapshotTree, type Entry } from '../support/tree.js';
import { setTimeout as sleep } from 'node:timers/promises';

const PLAYBOOK = path.join(REPO, 'templates/rollout/ansible/site.yml');
const SEARCH_PATH = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';
const ANSIBLE_PLAYBOOK = findOnPath('ansible-playbook', SEARCH_PATH);
const MISSING = [
  ...missingPrerequisites({ etcd: true }),
  ...(ANSIBLE_PLAYBOOK ? [] : ['ansible-playbook is absent (apt-get install ansible-core)']),
];
const MANIFEST = '/etc/kubernetes/manifests/etcd.yaml';

let work = '';
let exe = '';
let transcripts = 0;

before(async () => {
  if (MISSING.length) return;
  [exe] = await buildSea([hostArch()]);
  work = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-ansible-'));
  // The sandbox roots live below: the migrated etcd, no longer root, must be able to traverse to them.
  await chmod(work, 0o755);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface FleetNode {
  name: string;
  sb: Sandbox;
  ports: EtcdPorts;
  runner: Runner;
  /** Per-node directory outside the sandbox: the executable and the config land here (host vars). */
  host: string;
  bin: string;
  configDest: string;
}

interface Fleet {
  dir: string;
  nodes: FleetNode[];
  inventory: string;
  config: string;
}

/** etcd's own /health on its plain-HTTP metrics listener (the URL of kubeadm's liveness probe). */
async function waitEtcdHealthy(n: FleetNode, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${n.ports.metrics}/health`, { signal: AbortSignal.timeout(2000) });
      last = await r.text();
      if (r.ok && (JSON.parse(last) as { health?: string }).health === 'true') return;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`${n.name}: etcd not healthy within ${timeoutMs} ms: ${last}`);
}

/** A node with etcd running; it joins `nodes` as soon as its runner runs, so a failed start is stopped too. */
async function startNode(dir: string, name: string, nodes: FleetNode[]): Promise<void> {
  const ports = await freeEtcdPorts();
  const sb = await buildSandbox({ dir: path.join(dir, name, 'root'), manifests: { 'etcd.yaml': renderEtcdManifest({ ports }) } });
  await addSystemDirs(sb.root);
  // A real etcd refuses the sandbox's zero-filled db: it starts on an empty data dir (root 0700, as kubeadm leaves it).
  await rm(sb.path('/var/lib/etcd/member'), { recursive: true, force: true });
  const host = path.join(dir, name, 'host');
  await mkdir(path.join(host, 'sbin'), { recursive: true });
  const runner = startRunner({ root: sb.root, log: path.join(dir, name, 'pods.log') });
  const n: FleetNode = { name, sb, ports, runner, host, bin: path.join(host, 'sbin/kubeadm-nonroot'), configDest: path.join(host, 'etc/kubeadm-nonroot/config.yaml') };
  nodes.push(n);
  await runner.waitFor('etcd.yaml', (p) => p.state === 'running', 15_000, 'etcd running');
  await waitEtcdHealthy(n);
}

async function tool(args: string[]) {
  return execa(exe, args, { reject: false, stdin: 'ignore', timeout: 120_000, env: { NO_COLOR: '1' } });
}

/**
 * The fleet config docs/fleet.md derives from the first node's plan: its identities, pinned, so every
 * node gets the same names and IDs. JSON is YAML.
 */
async function fleetConfig(first: FleetNode, file: string): Promise<void> {
  const r = await tool(['plan', '--root', first.sb.root, '-o', 'json']);
  assert.equal(r.exitCode, 0, `plan of ${first.name}: ${r.stderr}`);
  const plan = JSON.parse(r.stdout) as { components: Array<{ component: string; identity: { user: string; group: string; uid: number; gid: number } | null }> };
  const accounts = Object.fromEntries(
    plan.components.filter((c) => c.identity).map((c) => [c.component, { user: c.identity!.user, group: c.identity!.group, uid: c.identity!.uid, gid: c.identity!.gid }]),
  );
  assert.ok(accounts.etcd, `the first node's plan gives etcd an identity: ${r.stdout}`);
  await writeFile(file, JSON.stringify({ apiVersion: 'kubeadm-nonroot/v1alpha1', kind: 'NonRootConfiguration', accounts }, null, 2) + '\n');
}

/** Three running nodes, the fleet config and the inventory; `body` runs, then every etcd is stopped by its runner. */
async function withFleet(t: TestContext, label: string, body: (f: Fleet) => Promise<void>): Promise<void> {
  if (skipUnlessPossible(t, MISSING)) return;
  const dir = await mkdtemp(path.join(work, `${label}-`));
  await chmod(dir, 0o755);
  const nodes: FleetNode[] = [];
  let failed = true;
  try {
    for (const name of ['node-1', 'node-2', 'node-3']) await startNode(dir, name, nodes);
    const config = path.join(dir, 'fleet-config.yaml');
    await fleetConfig(nodes[0]!, config);
    const inventory = path.join(dir, 'inventory.yml');
    // What an operator testing the playbook on one machine writes; on real nodes only the host names
    // (and, where the controller is root without sudo, ansible_become: false) would be there.
    const hosts = Object.fromEntries(
      nodes.map((n) => [
        n.name,
        {
          ansible_connection: 'local',
          ansible_become: false,
          ansible_python_interpreter: 'auto_silent',
          kubeadm_nonroot_root: n.sb.root,
          kubeadm_nonroot_bin: n.bin,
          kubeadm_nonroot_config_dest: n.configDest,
        },
      ]),
    );
    const vars = { kubeadm_nonroot_config: config, kubeadm_nonroot_apply_options: ['--timeout', '60s'] };
    await writeFile(inventory, JSON.stringify({ all: { children: { control_plane: { hosts, vars } } } }, null, 2) + '\n');
    await body({ dir, nodes, inventory, config });
    failed = false;
  } catch (e) {
    for (const n of nodes) process.stderr.write(`--- ${n.name}: static-pod runner log (${n.runner.logPath}), last lines:\n${n.runner.readLog().split('\n').slice(-25).join('\n')}\n`);
    throw e;
  } finally {
    for (const n of nodes) await n.runner.stop();
    if (!failed) await rm(dir, { recursive: true, force: true });
  }
}

interface PlayResult {
  code: number | undefined;
  out: string;
  /** One event per "ok/changed/fatal/skipping: [host]" line, with the TASK it belongs to, in output order. */
  events: Array<{ task: string; status: string; host: string }>;
  /** PLAY RECAP, by host. */
  recap: Map<string, Record<'ok' | 'changed' | 'unreachable' | 'failed' | 'skipped' | 'rescued' | 'ignored', number>>;
  recapLines: string[];
}

/** ansible-playbook -i INVENTORY site.yml ARGS, in a private Ansible home: nothing lands in ~/.ansible. */
async function playbook(f: Fleet, args: string[] = []): Promise<PlayResult> {
  const priv = path.join(f.dir, 'ansible');
  for (const d of ['home', 'ansible-home', 'local-tmp', 'remote-tmp']) await mkdir(path.join(priv, d), { recursive: true, mode: 0o700 });
  await writeFile(path.join(priv, 'ansible.cfg'), '');
  const r = await execa(ANSIBLE_PLAYBOOK!, ['-i', f.inventory, PLAYBOOK, ...args], {
    reject: false,
    stdin: 'ignore',
    all: true,
    timeout: 600_000,
    extendEnv: false,
    env: {
      PATH: SEARCH_PATH,
      HOME: path.join(priv, 'home'),
      LC_ALL: 'C.UTF-8', // ansible-core refuses a non-UTF-8 locale
      ANSIBLE_CONFIG: path.join(priv, 'ansible.cfg'), // not an ansible.cfg of the working directory
      ANSIBLE_HOME: path.join(priv, 'ansible-home'),
      ANSIBLE_LOCAL_TEMP: path.join(priv, 'local-tmp'),
      ANSIBLE_REMOTE_TEMP: path.join(priv, 'remote-tmp'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'false',
    },
  });
  const out = r.all ?? '';
  // docs/fleet.md quotes these runs: KUBEADM_NONROOT_ANSIBLE_TRANSCRIPTS=DIR keeps each one's output there.
  const keep = process.env.KUBEADM_NONROOT_ANSIBLE_TRANSCRIPTS;
  if (keep) await writeFile(path.join(keep, `${path.basename(f.dir)}-${++transcripts}.log`), `$ ansible-playbook -i inventory.yml site.yml ${args.join(' ')}\n${out}\n`);
  const events: PlayResult['events'] = [];
  let task = '';
  for (const line of out.split('\n')) {
    const t = /^TASK \[(.+)\] \*+$/.exec(line);
    if (t) task = t[1]!;
    const e = /^(ok|changed|fatal|skipping|failed): \[([^\]]+)\]/.exec(line);
    if (e && task) events.push({ task, status: e[1]!, host: e[2]! });
  }
  const recap: PlayResult['recap'] = new Map();
  const recapLines: string[] = [];
  const tail = out.slice(out.lastIndexOf('PLAY RECAP'));
  for (const line of tail.split('\n')) {
    const m = /^(\S+)\s+:\s+(ok=\d+.*)$/.exec(line);
    if (!m) continue;
    recapLines.push(line.trimEnd());
    recap.set(m[1]!, Object.fromEntries(m[2]!.trim().split(/\s+/).map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)])) as never);
  }
  return { code: r.exitCode, out, events, recap, recapLines };
}

const shown = (r: PlayResult): string => `ansible-playbook exit ${r.code}\n${r.out.slice(-6000)}`;

/** The hosts that reported `status` for `task`, in output order. */
const hostsOf = (r: PlayResult, task: string, status: string): string[] => r.events.filter((e) => e.task === task && e.status === status).map((e) => e.host);

/**
 * One node at a time: the hosts of the task lines, in output order, never go back to an earlier host
 * (serial: 1 runs every task for node-1, then every task for node-2, …).
 */
function assertOneAtATime(r: PlayResult, order: string[]): void {
  const seq = r.events.map((e) => order.indexOf(e.host));
  assert.ok(!seq.includes(-1), `unknown host in ${JSON.stringify(r.events)}`);
  for (let i = 1; i < seq.length; i++) assert.ok(seq[i]! >= seq[i - 1]!, `host ${r.events[i]!.host} ran "${r.events[i]!.task}" after a later host had started\n${shown(r)}`);
}

const nodeTree = (n: FleetNode): Promise<Map<string, Entry>> => snapshotTree(n.sb.root);

/**
 * Every difference, inode times included, except content and times below the data dir of an etcd that
 * is running (etcd writes there itself; owners and modes still count).
 */
function untouchedDiff(before: Map<string, Entry>, after: Map<string, Entry>): string[] {
  return diffSnapshots(before, after, { ignoreMtime: false, ignoreCtime: false }).filter((l) => !/^var\/lib\/etcd(\/\S*)?: (content|mtime|ctime) changed$/.test(l));
}

async function uidOf(n: FleetNode, user: string): Promise<number | undefined> {
  return parsePasswd(await readFile(n.sb.path('/etc/passwd'), 'utf8'), '/etc/passwd').find((u) => u.name === user)?.uid;
}

/** The node is migrated: `verify` (as the playbook runs it) exits 0 and the kernel shows etcd as the pinned user. */
async function assertMigrated(f: Fleet, n: FleetNode): Promise<void> {
  const v = await tool(['verify', '--root', n.sb.root, '--config', f.config, '-o', 'json']);
  assert.equal(v.exitCode, 0, `${n.name}: verify exit ${v.exitCode}\n${v.stdout}\n${v.stderr}`);
  assert.equal((JSON.parse(v.stdout) as { ok: boolean }).ok, true);
  const pinned = (JSON.parse(await readFile(f.config, 'utf8')) as { accounts: { etcd: { user: string; uid: number } } }).accounts.etcd;
  assert.equal(await uidOf(n, pinned.user), pinned.uid, `${n.name}: ${pinned.user} has the fleet's pinned uid`);
  const pod = await n.runner.waitFor('etcd.yaml', (p) => p.state === 'running' && p.privileges?.uid === pinned.uid, 30_000, `etcd running as uid ${pinned.uid}`);
  const status = await readFile(`/proc/${pod.pid}/status`, 'utf8');
  assert.match(status, new RegExp(`^Uid:\\s+${pinned.uid}\\s+${pinned.uid}\\s+${pinned.uid}\\s+${pinned.uid}$`, 'm'), `${n.name}: /proc says etcd runs as ${pinned.uid}`);
  await waitEtcdHealthy(n);
}

test('ansible: --tags preflight changes no node; the rollout then migrates the three nodes in order, verify passes on each; a second run changes nothing', { timeout: 1_200_000 }, async (t) => {
  await withFleet(t, 'rollout', async (f) => {
    // 1. The read-only preflight (copy + plan), as docs/fleet.md has an operator run it first.
    const pristine = await Promise.all(f.nodes.map(nodeTree));
    const pre = await playbook(f, ['--tags', 'preflight']);
    assert.equal(pre.code, 0, shown(pre));
    assertOneAtATime(pre, f.nodes.map((n) => n.name));
    assert.deepEqual(hostsOf(pre, 'Plan (changes nothing)', 'ok'), ['node-1', 'node-2', 'node-3'], shown(pre));
    assert.deepEqual(pre.events.filter((e) => /Apply|Verify/.test(e.task)), [], 'preflight ran no apply or verify');
    for (const [i, n] of f.nodes.entries()) {
      assert.deepEqual(untouchedDiff(pristine[i]!, await nodeTree(n)), [], `${n.name}: the preflight changed the node`);
      // What it did change is outside the node root: the executable and the config, copied.
      assert.equal((await stat(n.bin)).mode & 0o7777, 0o755);
      assert.equal(await readFile(n.configDest, 'utf8'), await readFile(f.config, 'utf8'));
      assert.ok(/changed=[1-9]/.test(pre.recapLines.find((l) => l.startsWith(`${n.name} `)) ?? ''), `${n.name}: the first copy is a change\n${shown(pre)}`);
    }
    process.stderr.write(`ansible preflight recap:\n${pre.recapLines.join('\n')}\n`);

    // 2. The rollout.
    const names = f.nodes.map((n) => n.name);
    const r = await playbook(f);
    assert.equal(r.code, 0, shown(r));
    assertOneAtATime(r, names);
    assert.deepEqual(hostsOf(r, 'Apply', 'changed'), names, shown(r));
    assert.deepEqual(hostsOf(r, 'Verify', 'ok'), names, shown(r));
    for (const n of names) assert.deepEqual(r.recap.get(n)?.failed, 0, shown(r));
    // In order on the nodes themselves: each etcd.yaml was republished after the previous node's.
    const mtimes = await Promise.all(f.nodes.map(async (n) => (await stat(n.sb.path(MANIFEST))).mtimeMs));
    assert.ok(mtimes[0]! < mtimes[1]! && mtimes[1]! < mtimes[2]!, `manifests republished in node order: ${mtimes.join(' ')}`);
    for (const n of f.nodes) await assertMigrated(f, n);
    process.stderr.write(`ansible rollout recap:\n${r.recapLines.join('\n')}\n`);

    const before = await Promise.all(f.nodes.map(nodeTree));
    const again = await playbook(f);
    assert.equal(again.code, 0, shown(again));
    for (const n of names) {
      assert.ok(again.recap.has(n), shown(again));
      assert.equal(again.recap.get(n)!.changed, 0, `${n}: the second run changed something\n${shown(again)}`);
      assert.equal(again.recap.get(n)!.failed, 0, shown(again));
    }
    assert.deepEqual(hostsOf(again, 'Apply', 'ok'), names, shown(again));
    for (const [i, n] of f.nodes.entries()) {
      // The tool's lock comes and goes in /run (its times move) and a run with nothing to do records nothing else.
      const diff = untouchedDiff(before[i]!, await nodeTree(n)).filter((l) => l !== 'run: mtime changed' && l !== 'run: ctime changed');
      assert.deepEqual(diff, [], `${n.name}: the second run changed the node`);
    }
    process.stderr.write(`ansible second run recap:\n${again.recapLines.join('\n')}\n`);
  });
});

test('ansible: a node the tool refuses stops the play there; the node before stays migrated, the node after untouched; fixed, a rerun completes', { timeout: 900_000 }, async (t) => {
  await withFleet(t, 'stop', async (f) => {
    const [first, second, third] = f.nodes as [FleetNode, FleetNode, FleetNode];
    // Node 2's etcd.yaml is malformed YAML: plan must refuse it (exit 2) before changing anything.
    const good = await readFile(second.sb.path(MANIFEST), 'utf8');
    const spoiled = good.replace(/^apiVersion: v1$/m, 'apiVersion: [v1');
    assert.notEqual(spoiled, good);
    await writeFile(second.sb.path(MANIFEST), spoiled);
    await second.runner.waitFor('etcd.yaml', (p) => p.state === 'invalid', 10_000, 'the spoiled manifest seen by the kubelet stand-in');
    const before2 = await nodeTree(second);
    const before3 = await nodeTree(third);

    const r = await playbook(f);
    assert.notEqual(r.code, 0, shown(r));
    assert.deepEqual(hostsOf(r, 'Apply', 'changed'), ['node-1'], shown(r));
    assert.deepEqual(hostsOf(r, 'Plan (changes nothing)', 'fatal'), ['node-2'], shown(r));
    const fatal = r.out.split('\n').find((l) => l.startsWith('fatal: [node-2]')) ?? '';
    assert.match(fatal, /"rc": 2\b/, `plan refused node-2 with exit 2\n${shown(r)}`);
    assert.match(fatal, /etcd\.yaml/, `the refusal names the manifest\n${shown(r)}`);
    assert.equal(r.events.some((e) => e.host === 'node-3'), false, `node-3 was never started\n${shown(r)}`);
    assert.deepEqual([...r.recap.keys()], ['node-1', 'node-2'], shown(r));
    assert.equal(r.recap.get('node-1')!.failed, 0);
    assert.equal(r.recap.get('node-2')!.failed, 1);
    process.stderr.write(`ansible stopped-rollout recap:\n${r.recapLines.join('\n')}\n`);

    await assertMigrated(f, first);
    assert.deepEqual(untouchedDiff(before2, await nodeTree(second)), [], 'node-2: refused, so unchanged');
    assert.deepEqual(untouchedDiff(before3, await nodeTree(third)), [], 'node-3: untouched');
    await assert.rejects(stat(third.bin), { code: 'ENOENT' }, 'node-3: not even the executable was copied');
    const uid3 = await uidOf(third, 'kubeadm-etcd');
    assert.equal(uid3, undefined, 'node-3 has no kubeadm-etcd account');

    // Recovery as docs/fleet.md says: fix what the failed task printed, then run the same playbook again.
    await writeFile(second.sb.path(MANIFEST), good);
    await second.runner.waitFor('etcd.yaml', (p) => p.state === 'running', 15_000, 'etcd running again');
    await waitEtcdHealthy(second);
    const rerun = await playbook(f);
    assert.equal(rerun.code, 0, shown(rerun));
    assertOneAtATime(rerun, f.nodes.map((n) => n.name));
    assert.equal(rerun.recap.get('node-1')?.changed, 0, `node-1 had nothing left to do\n${shown(rerun)}`);
    assert.deepEqual(hostsOf(rerun, 'Apply', 'changed'), ['node-2', 'node-3'], shown(rerun));
    for (const n of f.nodes) await assertMigrated(f, n);
    process.stderr.write(`ansible rerun-after-fix recap:\n${rerun.recapLines.join('\n')}\n`);
  });
});
