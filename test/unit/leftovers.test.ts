// src/state/leftovers.ts: the programs a killed run left running are found by the mark in their
// environment — only root's, only that run's — and waited for until they end. The processes here are
// real (sleep), started by this test with environments it writes itself; their start times and states
// are read from /proc by the test, not by the code under test.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runProgram } from '../../src/exec.js';
import { leftoversOf, RUN_MARK_VAR, waitForLeftovers } from '../../src/state/leftovers.js';
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
});
