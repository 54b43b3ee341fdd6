// The scripts' one cross-process lock (scripts/lib/pid-lock.ts) and the Kubernetes build cache's key
// (scripts/k8s-build.ts): a lock is taken over only from a holder that is provably gone, and a cached
// binary is reused only under the recipe it was built with.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withPidLock } from '../../scripts/lib/pid-lock.js';
import { REPO_ROOT } from '../../scripts/lib/paths.js';

const scratch = mkdtempSync(join(tmpdir(), 'script-locks-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A lock directory as another process left it: `pid` holds `pidText` (undefined: no pid file). */
function lockLeft(name: string, pidText: string | undefined, ageSeconds = 0): string {
  const lock = join(scratch, name);
  mkdirSync(lock);
  if (pidText !== undefined) writeFileSync(join(lock, 'pid'), pidText);
  const then = Date.now() / 1000 - ageSeconds;
  utimesSync(lock, then, then);
  return lock;
}

/** Whether withPidLock runs its function within `ms` (true) or is still waiting (false; it is then released). */
async function takenWithin(lock: string, ms: number): Promise<boolean> {
  let ran = false;
  const held = withPidLock(lock, async () => { ran = true; }, { pollMs: 20 });
  await sleep(ms);
  const result = ran;
  if (!ran) rmSync(lock, { recursive: true, force: true });
  await held;
  return result;
}

describe('withPidLock', () => {
  it('waits for a holder whose pid file is still empty (mkdir done, pid not yet written)', async () => {
    // The k8s-build lock before it read an empty lock file as pid 0, and process.kill(0, 0) "found" it:
    // the lock of a live holder was deleted.
    assert.equal(await takenWithin(lockLeft('empty', ''), 300), false);
  });

  it('waits for a live holder', async () => {
    const child = spawn('sleep', ['30']);
    try {
      assert.equal(await takenWithin(lockLeft('live', String(child.pid)), 300), false);
    } finally {
      child.kill();
    }
  });

  it('takes over the lock of a dead holder', async () => {
    const dead = Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
    assert.equal(await takenWithin(lockLeft('dead', String(dead)), 300), true);
  });

  it('takes over a lock whose creator never wrote its pid, once the directory is old', async () => {
    assert.equal(await takenWithin(lockLeft('orphan', undefined, 60), 300), true);
  });

  it('releases the lock when the function throws', async () => {
    const lock = join(scratch, 'throws');
    await assert.rejects(withPidLock(lock, async () => { throw new Error('boom'); }), /boom/);
    assert.equal(existsSync(lock), false);
  });
});

describe('the Kubernetes build cache key', () => {
  const bin = join(scratch, 'fake-go');
  mkdirSync(bin);
  // A `go` that only answers `go env GOVERSION`, with the version the test chooses.
  writeFileSync(join(bin, 'go'), '#!/bin/sh\necho "$FAKE_GOVERSION"\n');
  chmodSync(join(bin, 'go'), 0o755);
  const cache = join(scratch, 'k8s-cache');

  /** What scripts/k8s-build.js says, in a process of its own (the cache dir and Go version are per process). */
  function ask(expr: string, goVersion: string): string {
    const script = `import * as k from ${JSON.stringify(join(REPO_ROOT, 'dist/scripts/k8s-build.js'))}; console.log(JSON.stringify(${expr}));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, FAKE_GOVERSION: goVersion, KUBEADM_NONROOT_K8S_CACHE: cache },
    });
    return JSON.parse(out) as string;
  }

  it('changes with the Go version', () => {
    const a = ask("k.kubernetesCacheDir('v1.36.3')", 'go1.26.0');
    const b = ask("k.kubernetesCacheDir('v1.36.3')", 'go1.26.1');
    assert.notEqual(a, b);
    assert.ok(a.startsWith(join(cache, 'v1.36.3-')), a);
  });

  it('never reuses a binary of the version-only layout, nor one without a stamp of its module', () => {
    mkdirSync(join(cache, 'v1.36.3', 'bin'), { recursive: true });
    writeFileSync(join(cache, 'v1.36.3', 'bin', 'kubeadm'), '');
    const keyed = ask("k.kubernetesCacheDir('v1.36.3')", 'go1.26.0');
    mkdirSync(join(keyed, 'bin'), { recursive: true });
    writeFileSync(join(keyed, 'bin', 'kubeadm'), '');
    assert.equal(ask("k.cachedKubernetesBinary('v1.36.3', 'kubeadm')", 'go1.26.0'), null);
    writeFileSync(join(keyed, 'bin', '.kubeadm.module'), 'not the module\n');
    assert.equal(ask("k.cachedKubernetesBinary('v1.36.3', 'kubeadm')", 'go1.26.0'), null);
  });
});
