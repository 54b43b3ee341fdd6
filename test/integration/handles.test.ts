// Owners and modes are changed on the entry the tool opened, never by a path a component can swap, and
// in place on the same inode, never by copying the file:
// - a component's user races the tool on inotify: the moment the tool starts on etcd's --wal-dir inside
//   the data dir it has just handed over, the component swaps `wal` for a link to a directory outside
//   the root, or to /etc/kubernetes/manifests; neither target may change, in apply or in rollback;
// - kube-apiserver appending to a single-file audit log through apply and rollback loses no line;
// - a component that makes a file it owns a sparse 3 GiB costs rollback nothing (exit 0, still sparse).
// The oracles are the kernel's lstat of the targets and the writer's own numbered lines, never the tool.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { addSystemDirs, REPO, runCli, show } from '../../scripts/lib/cli-run.js';
import { NEEDS_ROOT } from '../support/cli-root.js';
import { skipOrFail } from '../support/prerequisites.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';
import { SETPRIV } from '../support/setpriv.js';

const DATA = '/var/lib/etcd';
const ETCD = '/etc/kubernetes/manifests/etcd.yaml';
const KAS = '/etc/kubernetes/manifests/kube-apiserver.yaml';
const AUDIT = '/var/log/kubernetes/audit/audit.log';

/** The system's Python (a version manager's shim under /root is not executable by a component's user). */
const PYTHON = '/usr/bin/python3';
const NO_PYTHON = ((): string | false => {
  try {
    execFileSync(PYTHON, ['-c', 'import ctypes']);
    return false;
  } catch {
    return `needs ${PYTHON} (with ctypes) for the inotify racer`;
  }
})();
const SKIP = skipOrFail(NEEDS_ROOT || NO_PYTHON);

async function edit(sb: Sandbox, nodePath: string, change: (text: string) => string): Promise<void> {
  const file = sb.path(nodePath);
  await writeFile(file, change(await readFile(file, 'utf8')));
}

/** owner, group and mode of a path itself (lstat), the oracle for "unchanged". */
async function ownerMode(p: string): Promise<string> {
  const st = await lstat(p);
  return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
}

/** Run a program as a component's user with no capabilities (what a non-root etcd or apiserver can do). */
function spawnAs(uid: number, gid: number, cmd: string[]): ChildProcess {
  return spawn(SETPRIV, ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--inh-caps', '-all', '--bounding-set', '-all', '--', ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves with the first line the child prints that matches. */
function lineFrom(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.split('\n').find((l) => re.test(l));
      if (m) resolve(m);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`racer exited ${code} before "${re.source}": ${out}${err}`)));
  });
}

/** The plan's uid for a component's files (the oracle for who the racer is: the plan, read as data). */
async function plannedOwner(sb: Sandbox, path: string): Promise<[number, number]> {
  const p = await runCli(['plan', '--root', sb.root, '-o', 'json']);
  assert.equal(p.code, 0, show(p));
  const f = (JSON.parse(p.stdout) as { files: Array<{ path: string; desired: { uid: number; gid: number } }> }).files.find((x) => x.path === path);
  assert.ok(f, `the plan changes ${path}\n${p.stdout}`);
  return [f.desired.uid, f.desired.gid];
}

describe('a component swaps its wal dir for a link the moment the tool starts on it (inotify, as etcd)', { skip: SKIP }, () => {
  for (const where of ['outside the root', 'the manifests dir inside the root'] as const) {
    it(`apply and rollback leave the link's target (${where}) exactly as it was`, async () => {
      const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
      const outside = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-decoy-'));
      let racer: ChildProcess | null = null;
      try {
        await addSystemDirs(sb.root);
        await chmod(outside, 0o755);
        await edit(sb, ETCD, (t) => t.replace('- --data-dir=/var/lib/etcd', '- --data-dir=/var/lib/etcd\n    - --wal-dir=/var/lib/etcd/wal'));
        await mkdir(sb.path(`${DATA}/wal`));
        await writeFile(sb.path(`${DATA}/wal/0000000000000000-0000000000000000.wal`), 'wal');
        // Searchable before the migration, so the racer can watch it from the start; wal's mode differs
        // from the plan's, so the wal step has its own change to make after the data dir's (apply makes
        // both 0700).
        await chmod(sb.path(DATA), 0o755);
        await chmod(sb.path(`${DATA}/wal`), 0o755);
        const [uid, gid] = await plannedOwner(sb, `${DATA}/wal`);
        const target = where === 'outside the root' ? outside : sb.path('/etc/kubernetes/manifests');
        const before = await ownerMode(target);
        racer = spawnAs(uid, gid, [PYTHON, join(REPO, 'test/support/swap-on-touch.py'), sb.path(DATA), 'wal', target]);
        await lineFrom(racer, /^watching$/);
        const swapped = lineFrom(racer, /^swapped$/);
        const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
        await Promise.race([swapped, new Promise((_, reject) => setTimeout(() => reject(new Error(`the racer never swapped wal\n${show(r)}`)), 5000))]);
        assert.equal((await lstat(sb.path(`${DATA}/wal`))).isSymbolicLink(), true, 'the race happened: wal is a link now');
        assert.ok(r.code === 0 || r.code === 1, `apply ends done or rolled back, never 3 or 4\n${show(r)}`);
        assert.equal(await ownerMode(target), before, `apply left ${target} alone\n${show(r)}`);
        if (r.code === 0) {
          const rb = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
          assert.equal(rb.code, 0, show(rb));
          assert.equal(await ownerMode(target), before, `rollback left ${target} alone\n${show(rb)}`);
        }
        // What the component swapped away is root's again: it is inside the data dir the tool took back.
        assert.equal((await lstat(sb.path(`${DATA}/wal.real`))).uid, 0, show(r));
      } finally {
        racer?.kill('SIGKILL');
        await rm(outside, { recursive: true, force: true });
        await sb.cleanup();
      }
    });
  }
});

/** The Kubernetes auditing docs' layout: one log file mounted from the host (FileOrCreate). */
async function singleFileAuditLog(sb: Sandbox): Promise<void> {
  await edit(sb, KAS, (t) =>
    t
      .replace('- mountPath: /var/log/kubernetes/audit\n', `- mountPath: ${AUDIT}\n`)
      .replace('path: /var/log/kubernetes/audit\n      type: DirectoryOrCreate', `path: ${AUDIT}\n      type: FileOrCreate`),
  );
  await mkdir(sb.path('/var/log/kubernetes/audit'), { recursive: true });
  await chmod(sb.path('/var/log/kubernetes/audit'), 0o755);
  await writeFile(sb.path(AUDIT), '', { mode: 0o600 });
}

describe('files owned in place, on the same inode', { skip: SKIP }, () => {
  it('a writer appending to a single-file audit log through apply and rollback loses no line', async () => {
    const sb = await buildSandbox({ fixture: 'v1.29-audit-encryption' });
    let writer: ChildProcess | null = null;
    try {
      await addSystemDirs(sb.root);
      await singleFileAuditLog(sb);
      const inode = (await stat(sb.path(AUDIT))).ino;
      // kube-apiserver's audit backend opens the file once and appends (lumberjack); so does this writer.
      const script = `import os, sys, time\nfd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)\nprint('open', flush=True)\nn = 0\nwhile True:\n    n += 1\n    os.write(fd, b'event %d\\n' % n)\n    time.sleep(0.003)\n`;
      writer = spawn(PYTHON, ['-c', script, sb.path(AUDIT)], { stdio: ['ignore', 'pipe', 'pipe'] });
      await lineFrom(writer, /^open$/);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      assert.equal((await stat(sb.path(AUDIT))).uid !== 0, true, 'the log was handed to kube-apiserver');
      const rb = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(rb.code, 0, show(rb));
      writer.kill('SIGTERM');
      await new Promise((resolve) => writer!.once('exit', resolve));
      writer = null;
      const st = await stat(sb.path(AUDIT));
      assert.equal(st.ino, inode, 'the same file throughout (never replaced by a copy)');
      const lines = (await readFile(sb.path(AUDIT), 'utf8')).split('\n').filter(Boolean);
      assert.ok(lines.length > 20, `the writer wrote through both runs (${lines.length} lines)`);
      lines.forEach((l, i) => assert.equal(l, `event ${i + 1}`, `line ${i + 1} is there, in order`));
      assert.equal(`${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`, '0:0 600', 'owner and mode restored');
    } finally {
      writer?.kill('SIGKILL');
      await sb.cleanup();
    }
  });

  it('a component makes a file it owns a sparse 3 GiB: rollback exits 0, reads nothing, the file stays sparse', async () => {
    const sb = await buildSandbox({ fixture: 'v1.29-audit-encryption' });
    try {
      await addSystemDirs(sb.root);
      await singleFileAuditLog(sb);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(r.code, 0, show(r));
      const { uid, gid } = await stat(sb.path(AUDIT));
      assert.notEqual(uid, 0);
      execFileSync(SETPRIV, ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--inh-caps', '-all', '--bounding-set', '-all', '--', 'truncate', '-s', '3G', sb.path(AUDIT)]);
      const grown = await stat(sb.path(AUDIT));
      assert.equal(grown.size, 3 * 2 ** 30);
      const rb = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(rb.code, 0, show(rb));
      const after = await stat(sb.path(AUDIT));
      assert.deepEqual([after.ino, after.size, after.uid, after.gid, after.mode & 0o7777], [grown.ino, grown.size, 0, 0, 0o600], 'the same sparse file, root\'s again');
      assert.ok(after.blocks * 512 < 1 << 20, `no blocks written (${after.blocks} blocks)`);
    } finally {
      await sb.cleanup();
    }
  });
});
