// src/state/leftovers.ts: the programs a killed run left running are found by the mark in their
// environment — only root's, only that run's — and waited for until they end. The processes here are
// real (sleep), started by this test with environments it writes itself; their start times and states
// are read from /proc by the test, not by the code under test.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProgram } from '../../src/exec.js';
import { leftoversOf, RUN_MARK_VAR, waitForLeftovers } from '../../src/state/leftovers.js';
import { LOCK_FILE } from '../../src/state/locations.js';

const LOCK_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/state/lock.js');
import { skipOrFail } from '../support/prerequisites.js';

const NEEDS_ROOT = skipOrFail(process.getuid?.() !== 0 && 'needs root: a process of another user (setpriv --reuid) and the environment of processes');

/** Field 22 of /proc/PID/stat (starttime), read here independently of the code under test. */
function startOf(pid: number | 'self'): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

function sleeper(env: NodeJS.ProcessEnv, asNobody = false): ChildProcess {
  const argv = asNobody ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'sleep', '60'] : ['sleep', '60'];
  return spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', env: { PATH: '/usr/bin:/bin', ...env } });
}

/** Until the process has exec'd its program (its environment is the new one from then on). */
async function execed(c: ChildProcess, program: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').startsWith(`${program}\0`)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`pid ${c.pid} never ran ${program}`);
}

const ended = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));

describe('leftovers of a killed run', { skip: NEEDS_ROOT }, () => {
  it('every program the tool starts carries its mark: its PID and its start time', async () => {
    const r = await runProgram('sh', ['-c', `printf %s "$${RUN_MARK_VAR}"`]);
    assert.equal(r.stdout.toString('utf8'), `${process.pid}@${startOf('self')}`);
  });

  it("finds root's processes that carry the mark, not another run's, not a non-root process's", async () => {
    const mark = '4242@12345';
    const ours = sleeper({ [RUN_MARK_VAR]: mark });
    const other = sleeper({ [RUN_MARK_VAR]: '4242@99999' });
    const nobody = sleeper({ [RUN_MARK_VAR]: mark }, true);
    try {
      await Promise.all([execed(ours, 'sleep'), execed(other, 'sleep'), execed(nobody, 'sleep')]);
      const found = await leftoversOf(mark);
      assert.deepEqual(found, [{ pid: ours.pid, start: startOf(ours.pid!), command: 'sleep 60' }]);
    } finally {
      for (const c of [ours, other, nobody]) c.kill('SIGKILL');
    }
  });

  it('waits until each has ended, naming it once', async () => {
    const mark = '4243@12345';
    const first = sleeper({ [RUN_MARK_VAR]: mark });
    const second = sleeper({ [RUN_MARK_VAR]: mark });
    try {
      await Promise.all([execed(first, 'sleep'), execed(second, 'sleep')]);
      const said: string[] = [];
      let returned: number | null = null;
      const waiting = waitForLeftovers(mark, 4243, (m) => said.push(m), 20).then((n) => (returned = n));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(returned, null, 'still waiting while both run');
      first.kill('SIGKILL');
      await ended(first);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(returned, null, 'still waiting while one runs');
      second.kill('SIGKILL');
      await waiting;
      assert.equal(returned, 2);
      assert.equal(said.length, 2);
      for (const c of [first, second]) assert.equal(said.filter((m) => m.startsWith(`pid ${c.pid} (sleep 60), started by the interrupted run (pid 4243)`)).length, 1, said.join('\n'));
    } finally {
      for (const c of [first, second]) c.kill('SIGKILL');
    }
  });

  it('returns at once when nothing of the run is left', async () => {
    assert.equal(await waitForLeftovers('4244@1', 4244, () => assert.fail('nothing to say')), 0);
  });

  it('a run takes over a stale lock only once the programs of its dead holder have ended; one interrupted while it waits leaves the lock, and the wait, to the next', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'leftovers-lock-'));
    const started: ChildProcess[] = [];
    try {
      // A holder that has ended: a process of this test, its PID and start time read while it ran.
      const holder = spawn('sleep', ['0.2'], { stdio: 'ignore' });
      const holderStart = startOf(holder.pid!);
      await ended(holder);
      mkdirSync(path.join(root, 'run'));
      writeFileSync(path.join(root, LOCK_FILE), JSON.stringify({ pid: holder.pid, start: holderStart, command: 'apply' }) + '\n');
      const program = sleeper({ [RUN_MARK_VAR]: `${holder.pid}@${holderStart}` });
      started.push(program);
      await execed(program, 'sleep');
      const takeLock = () => {
        const run = spawn(process.execPath, ['--input-type=module', '-e', `import { acquireLock } from ${JSON.stringify(LOCK_JS)};
await acquireLock(${JSON.stringify(root)}, 'rollback', (m) => process.stderr.write(m + '\\n'));
process.stdout.write('acquired\\n');`], { stdio: ['ignore', 'pipe', 'pipe'] });
        started.push(run);
        const out = { stdout: '', stderr: '' };
        run.stdout!.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
        run.stderr!.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
        return { run, out };
      };
      const waitsFor = async (o: { stderr: string }) => {
        for (let i = 0; i < 300 && !o.stderr.includes(`pid ${program.pid} `); i++) await new Promise((r) => setTimeout(r, 20));
        return o.stderr.includes(`pid ${program.pid} `);
      };
      // The first run waits for the program, and is killed while it waits.
      const first = takeLock();
      assert.ok(await waitsFor(first.out), `the first run waits for pid ${program.pid}\n${first.out.stderr}`);
      first.run.kill('SIGKILL');
      await ended(first.run);
      // The next one must wait again: the dead holder's program is still running.
      const second = takeLock();
      assert.ok(await waitsFor(second.out), `the next run waits for pid ${program.pid} too\n${second.out.stderr}${second.out.stdout}`);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(second.out.stdout, '', 'no lock while the program runs');
      program.kill('SIGKILL');
      await ended(second.run);
      assert.equal(second.out.stdout, 'acquired\n', second.out.stderr);
      assert.match(second.out.stderr, new RegExp(`taking over a stale lock \\S+ left by pid ${holder.pid} \\(apply\\)`));
    } finally {
      for (const c of started) c.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  });
});
