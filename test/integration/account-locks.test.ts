// Issue 10, class 8: rollback publishes /etc/passwd (…) itself, so it must take the lock files
// shadow-utils takes (FILE.lock, link-based, lib/commonio.c) around the write: a concurrent useradd or
// chpasswd is then never overwritten. A live holder is waited for; a lock without a valid PID is not
// stale and is never taken over; a lock whose holder is gone is taken. The oracle for "the same lock" is
// the real shadow-utils: useradd --prefix must fail while the tool holds the lock.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withAccountLocks } from '../../src/apply/account-lock.js';
import { restoreAccountFiles } from '../../src/apply/account-files.js';
import { NEEDS_ROOT } from '../support/cli-root.js';
import { PASSWD, writeAccounts } from '../../scripts/lib/accounts.js';
import { setTimeout as sleep } from 'node:timers/promises';

const TOOL_LINE = 'kubeadm-etcd:x:998:998:kubeadm-nonroot etcd:/nonexistent:/bin/false\n';

/** A root whose /etc/passwd holds the tool's account, and a backup dir with the pre-apply copy. */
async function setup(): Promise<{ root: string; backup: string; cleanup(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-locks-'));
  await writeAccounts(root, { passwd: PASSWD + TOOL_LINE });
  const backup = join(root, 'backup');
  await mkdir(join(backup, 'accounts'), { recursive: true });
  await writeFile(join(backup, 'accounts/passwd'), PASSWD);
  return { root, backup, cleanup: () => rm(root, { recursive: true, force: true }) };
}

const records = [{ path: '/etc/passwd', saved: 'accounts/passwd', uid: 0, gid: 0, mode: 0o644 }];

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => execFile(cmd, args, { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } }, (e) => resolve(e ? Number((e as { code?: number }).code ?? 1) : 0)));
}

describe("account files are published under shadow-utils' locks", { skip: NEEDS_ROOT }, () => {
  it('waits for a live holder of /etc/passwd.lock before it writes /etc/passwd', async () => {
    const s = await setup();
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await writeFile(join(s.root, 'etc/passwd.lock'), String(holder.pid));
      const restoring = restoreAccountFiles(s.root, s.backup, records, ['kubeadm-etcd']);
      await sleep(800);
      assert.equal(await readFile(join(s.root, 'etc/passwd'), 'utf8'), PASSWD + TOOL_LINE, 'not written while another process holds the lock');
      await rm(join(s.root, 'etc/passwd.lock')); // the holder (a useradd, say) is done
      assert.deepEqual(await restoring, []);
      assert.equal(await readFile(join(s.root, 'etc/passwd'), 'utf8'), PASSWD, 'written once the lock was free');
      await assert.rejects(stat(join(s.root, 'etc/passwd.lock')), 'and the lock released');
    } finally {
      holder.kill('SIGKILL');
      await s.cleanup();
    }
  });

  it('never takes over a lock it cannot read a live or dead PID from', async () => {
    const s = await setup();
    try {
      await writeFile(join(s.root, 'etc/passwd.lock'), 'not a pid');
      await assert.rejects(restoreAccountFiles(s.root, s.backup, records, ['kubeadm-etcd'], { lockWaitMs: 500 }), /passwd\.lock exists without a valid PID/);
      assert.equal(await readFile(join(s.root, 'etc/passwd'), 'utf8'), PASSWD + TOOL_LINE);
      assert.equal(await readFile(join(s.root, 'etc/passwd.lock'), 'utf8'), 'not a pid', 'the lock is left as it was');
    } finally {
      await s.cleanup();
    }
  });

  it('takes a lock whose holder is gone, as shadow-utils does', async () => {
    const s = await setup();
    try {
      const gone = spawn('true');
      await new Promise((r) => gone.on('close', r));
      await writeFile(join(s.root, 'etc/passwd.lock'), String(gone.pid));
      assert.deepEqual(await restoreAccountFiles(s.root, s.backup, records, ['kubeadm-etcd'], { lockWaitMs: 500 }), []);
      assert.equal(await readFile(join(s.root, 'etc/passwd'), 'utf8'), PASSWD);
    } finally {
      await s.cleanup();
    }
  });

  it('is the lock shadow-utils honours: useradd --prefix fails while the tool holds it, and works after', async () => {
    const s = await setup();
    try {
      const files = ['passwd', 'group', 'shadow', 'gshadow'].map((f) => join(s.root, 'etc', f));
      const during = await withAccountLocks(files, () => run('useradd', ['--prefix', s.root, '--system', '--no-create-home', 'racer']));
      assert.notEqual(during, 0, 'useradd could not lock /etc/passwd while the tool held it');
      assert.doesNotMatch(await readFile(join(s.root, 'etc/passwd'), 'utf8'), /^racer:/m);
      assert.equal(await run('useradd', ['--prefix', s.root, '--system', '--no-create-home', 'racer']), 0);
      assert.match(await readFile(join(s.root, 'etc/passwd'), 'utf8'), /^racer:/m);
    } finally {
      await s.cleanup();
    }
  });
});
