// The static-pod runner (test/support/runner.ts) and the securityContext → setpriv mapping
// (test/support/setpriv.ts) that the end-to-end tests rely on. Expected values come from the
// Kubernetes/containerd rules quoted in setpriv.ts's header, not from the code's own output.
// The live part starts `sleep` / `sh` pods (on every Linux machine) and needs root for setpriv.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readPod } from '../../scripts/lib/pod-reading.js';
import { findOnPath, sandboxArgv, startRunner, type Runner } from '../support/runner.js';
import { identityOf, missingPrerequisites, privilegesOf, RUNTIME_DEFAULT_CAPS, setprivArgs, skipUnlessPossible } from '../support/setpriv.js';

/** A minimal Pod manifest: command, optional pod/container securityContext and hostPath volumes. */
function manifest(o: {
  name?: string;
  command: string[];
  pod?: string[];
  container?: string[];
  mounts?: Array<{ name: string; mountPath: string; hostPath: string; type?: string }>;
}): string {
  const lines = ['apiVersion: v1', 'kind: Pod', 'metadata:', `  name: ${o.name ?? 'pod'}`, 'spec:', '  containers:', '  - name: c', '    image: registry.example/x:1', '    command:'];
  for (const a of o.command) lines.push(`    - ${JSON.stringify(a)}`);
  if (o.container) lines.push('    securityContext:', ...o.container.map((l) => `      ${l}`));
  if (o.mounts?.length) {
    lines.push('    volumeMounts:');
    for (const m of o.mounts) lines.push(`    - name: ${m.name}`, `      mountPath: ${m.mountPath}`);
  }
  if (o.pod) lines.push('  securityContext:', ...o.pod.map((l) => `    ${l}`));
  if (o.mounts?.length) {
    lines.push('  volumes:');
    for (const m of o.mounts) lines.push(`  - name: ${m.name}`, '    hostPath:', `      path: ${m.hostPath}`, ...(m.type ? [`      type: ${m.type}`] : []));
  }
  return lines.join('\n') + '\n';
}

const pod = (text: string) => readPod(text);

test('runner privileges: a pod without securityContext runs as root with containerd default capabilities', () => {
  const p = privilegesOf(pod(manifest({ command: ['etcd'] })));
  assert.deepEqual(p, { uid: 0, gid: 0, groups: [], bounding: [...RUNTIME_DEFAULT_CAPS], noNewPrivs: false });
  assert.equal(RUNTIME_DEFAULT_CAPS.length, 14, "containerd's defaultUnixCaps has 14 entries");
  assert.ok(!RUNTIME_DEFAULT_CAPS.includes('sys_admin') && RUNTIME_DEFAULT_CAPS.includes('dac_override'));
});

test('runner privileges: kubeadm rootless etcd/kcm/scheduler shape → own uid/gid, no groups, empty bounding set, no_new_privs', () => {
  const p = pod(manifest({ command: ['etcd'], pod: ['runAsUser: 102', 'runAsGroup: 109', 'runAsNonRoot: true'], container: ['allowPrivilegeEscalation: false', 'capabilities:', '  drop:', '  - ALL'] }));
  assert.deepEqual(setprivArgs(privilegesOf(p)), ['--reuid', '102', '--regid', '109', '--clear-groups', '--inh-caps', '-all', '--bounding-set', '-all', '--no-new-privs']);
});

test('runner privileges: kubeadm rootless apiserver shape → supplementary group, only NET_BIND_SERVICE bounded, escalation allowed', () => {
  const p = pod(manifest({ command: ['kube-apiserver'], pod: ['runAsUser: 103', 'runAsGroup: 110', 'supplementalGroups: [113]'], container: ['capabilities:', '  add: ["NET_BIND_SERVICE"]', '  drop: ["ALL"]'] }));
  assert.deepEqual(setprivArgs(privilegesOf(p)), ['--reuid', '103', '--regid', '110', '--groups', '113', '--inh-caps', '-all', '--bounding-set', '-all,+net_bind_service']);
});

test('runner privileges: container runAsUser/runAsGroup override the pod, fsGroup joins supplementalGroups, CAP_ prefix accepted', () => {
  const p = pod(manifest({
    command: ['x'],
    pod: ['runAsUser: 1', 'runAsGroup: 2', 'fsGroup: 7', 'supplementalGroups: [9, 7]'],
    container: ['runAsUser: 3', 'runAsGroup: 4', 'capabilities:', '  drop: ["CAP_NET_RAW", "MKNOD"]'],
  }));
  assert.deepEqual(identityOf(p), { uid: 3, gid: 4, groups: [7, 9] });
  const b = privilegesOf(p).bounding!;
  assert.equal(b.length, 12);
  assert.ok(!b.includes('net_raw') && !b.includes('mknod') && b.includes('chown'));
});

test('runner privileges: privileged keeps every capability (no --bounding-set)', () => {
  const args = setprivArgs(privilegesOf(pod(manifest({ command: ['x'], container: ['privileged: true'] }))));
  assert.ok(!args.includes('--bounding-set'));
});

test('runner argv: path values map through hostPath volumes into the sandbox; URLs, names and unmapped paths stay', () => {
  const p = pod(manifest({
    command: ['etcd', '--data-dir=/var/lib/etcd', '--cert-file=/etc/kubernetes/pki/etcd/server.crt', '--listen-client-urls=https://127.0.0.1:2379', '--name=cp', '--wal-dir=/data/wal', '--trusted=/etc/kubernetes/pki/etcd/ca.crt,/opt/in-image.crt', '/etc/kubernetes/pki/etcd/positional', '--etcd-prefix=/registry'],
    mounts: [
      { name: 'etcd-data', mountPath: '/var/lib/etcd', hostPath: '/var/lib/etcd', type: 'DirectoryOrCreate' },
      { name: 'etcd-certs', mountPath: '/etc/kubernetes/pki/etcd', hostPath: '/srv/certs/etcd', type: 'DirectoryOrCreate' },
      { name: 'restored', mountPath: '/data', hostPath: '/var/lib/etcd-old-copy' },
    ],
  }));
  const { argv, unmapped } = sandboxArgv(p, '/tmp/sb');
  assert.deepEqual(argv, [
    'etcd',
    '--data-dir=/tmp/sb/var/lib/etcd',
    '--cert-file=/tmp/sb/srv/certs/etcd/server.crt',
    '--listen-client-urls=https://127.0.0.1:2379',
    '--name=cp',
    '--wal-dir=/tmp/sb/var/lib/etcd-old-copy/wal',
    '--trusted=/tmp/sb/srv/certs/etcd/ca.crt,/opt/in-image.crt',
    '/tmp/sb/srv/certs/etcd/positional',
    '--etcd-prefix=/registry',
  ]);
  assert.deepEqual(unmapped, ['/opt/in-image.crt', '/registry']);
});

test('runner binaries: found by basename on PATH, absent ones are not', () => {
  assert.equal(findOnPath('sh', '/nonexistent-dir:/bin:/usr/bin'), existsSync('/bin/sh') ? '/bin/sh' : '/usr/bin/sh');
  assert.equal(findOnPath('/usr/local/bin/sh', '/bin'), '/bin/sh', 'an image path is looked up by its basename');
  assert.equal(findOnPath('kube-apiserver-not-installed-here', '/bin:/usr/bin'), null);
});

// ---- live: real processes ----

function procUids(pid: number): { uid: number[]; capBnd: bigint; noNewPrivs: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    uid: /^Uid:\s+(.*)$/m.exec(s)![1].trim().split(/\s+/).map(Number),
    capBnd: BigInt(`0x${/^CapBnd:\s+(\w+)/m.exec(s)![1]}`),
    noNewPrivs: Number(/^NoNewPrivs:\s+(\d)/m.exec(s)![1]),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function withRunner(fn: (dir: string, r: Runner) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-runner-test-'));
  const dir = path.join(root, 'etc/kubernetes/manifests');
  await mkdir(dir, { recursive: true });
  const r = startRunner({ root, log: path.join(root, 'pods.log'), path: '/usr/bin:/bin', backoff: { initialMs: 100, maxMs: 400 }, graceMs: 2000 });
  try {
    await fn(dir, r);
  } catch (e) {
    process.stderr.write(`--- runner log:\n${r.readLog()}\n---\n`);
    throw e;
  } finally {
    await r.stop();
    await rm(root, { recursive: true, force: true });
  }
}

const SLEEPER = (seconds: string) =>
  manifest({ name: 'sleeper', command: ['sleep', seconds], pod: ['runAsUser: 65534', 'runAsGroup: 65534'], container: ['allowPrivilegeEscalation: false', 'capabilities:', '  drop: [ALL]'] });

test('runner live: runs a pod as its securityContext says, ignores dotfiles, reports pods whose binary is missing', { timeout: 30_000 }, async (t) => {
  if (skipUnlessPossible(t, missingPrerequisites())) return;
  await withRunner(async (dir, r) => {
    await writeFile(path.join(dir, 'sleeper.yaml'), SLEEPER('300'));
    await writeFile(path.join(dir, '.sleeper.yaml.tmp'), SLEEPER('301'));
    await writeFile(path.join(dir, 'kube-apiserver.yaml'), manifest({ name: 'kube-apiserver', command: ['kube-apiserver-not-installed-here', '--secure-port=6443'] }));
    const p = await r.waitFor('sleeper.yaml', (x) => x.state === 'running', 5000, 'sleeper running');
    const st = procUids(p.pid!);
    assert.deepEqual(st.uid, [65534, 65534, 65534, 65534]);
    assert.equal(st.capBnd, 0n);
    assert.equal(st.noNewPrivs, 1);
    // The runner reads the manifests one by one: under load sleeper.yaml can run before it has read the
    // apiserver's (a flake seen once at load average ≈ 27).
    await r.waitFor('kube-apiserver.yaml', (x) => x.state === 'not-runnable', 5000, 'kube-apiserver not runnable');
    const files = r.pods().map((x) => x.file).sort();
    assert.deepEqual(files, ['kube-apiserver.yaml', 'sleeper.yaml'], 'the dotfile is not a pod');
    const api = r.pods().find((x) => x.file === 'kube-apiserver.yaml')!;
    assert.equal(api.state, 'not-runnable');
    assert.match(api.reason ?? '', /not on PATH/);
  });
});

test('runner live: a changed manifest replaces the process, a removed one stops it, stop() leaves nothing behind', { timeout: 30_000 }, async (t) => {
  if (skipUnlessPossible(t, missingPrerequisites())) return;
  let last = 0;
  await withRunner(async (dir, r) => {
    const file = path.join(dir, 'sleeper.yaml');
    await writeFile(file, SLEEPER('300'));
    const first = (await r.waitFor('sleeper.yaml', (x) => x.state === 'running', 5000, 'first sleeper')).pid!;
    // Published the way the tool does it: a dot-named temp file renamed over the manifest.
    await writeFile(path.join(dir, '.sleeper.yaml.new'), SLEEPER('302'));
    await rename(path.join(dir, '.sleeper.yaml.new'), file);
    const second = (await r.waitFor('sleeper.yaml', (x) => x.state === 'running' && x.pid !== first, 15_000, 'restarted sleeper')).pid!;
    assert.ok(!alive(first), 'the old process was stopped before the new one ran');
    assert.equal(readFileSync(`/proc/${second}/cmdline`, 'utf8').split('\0')[1], '302');
    await rm(file);
    const deadline = Date.now() + 5000;
    while ((alive(second) || r.pods().length > 0) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.ok(!alive(second), 'removing the manifest stopped the pod');
    assert.equal(r.pods().length, 0);
    await writeFile(file, SLEEPER('303'));
    last = (await r.waitFor('sleeper.yaml', (x) => x.state === 'running', 5000, 'third sleeper')).pid!;
  });
  assert.ok(last > 0 && !alive(last), 'stop() killed the running pod');
});

test('runner live: a pod that exits is restarted with a growing back-off', { timeout: 30_000 }, async (t) => {
  if (skipUnlessPossible(t, missingPrerequisites())) return;
  await withRunner(async (dir, r) => {
    const started = Date.now();
    await writeFile(path.join(dir, 'crasher.yaml'), manifest({ name: 'crasher', command: ['sh', '-c', 'exit 3'] }));
    const p = await r.waitFor('crasher.yaml', (x) => x.starts >= 4 && x.state === 'backoff', 10_000, 'four starts');
    // Delays 100, 200, 400 ms before starts 2, 3, 4: at least 0.7 s in all.
    assert.ok(Date.now() - started >= 700, `four starts took only ${Date.now() - started} ms: no back-off`);
    assert.equal(p.reason, 'exited with code 3');
    assert.match(r.readLog(), /restarting in 400 ms/);
  });
});
