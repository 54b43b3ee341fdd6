// scripts/lib/run.ts, the scripts' one way to run a command: what a failure says, and stderr lines as
// they come.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { run, runSync, tryRun } from '../../scripts/lib/run.js';

it('a failing command is reported with how it ended and what it printed on stderr', async () => {
  await assert.rejects(run('sh', ['-c', 'echo out; echo "the reason" >&2; exit 3']), /sh -c .* failed \(exit 3\):\nthe reason/);
});

it('a command that does not exist is named, with the hint', async () => {
  const r = await tryRun('kubeadm-nonroot-no-such-command', [], { missingHint: 'install it' });
  assert.equal(r.exitCode, undefined);
  assert.equal(r.failure, 'kubeadm-nonroot-no-such-command: not found (install it)');
});

it('stderr lines reach onStderrLine one by one, and stdout is returned', async () => {
  const lines: string[] = [];
  const r = await run('sh', ['-c', 'echo a >&2; echo result; echo b >&2'], { onStderrLine: (l) => lines.push(l) });
  assert.deepEqual(lines, ['a', 'b']);
  assert.equal(r.stdout, 'result\n');
});

it('extendEnv false gives the command only the environment passed', () => {
  const r = runSync('/usr/bin/env', [], { env: { ONLY: '1' }, extendEnv: false });
  assert.equal(r.stdout, 'ONLY=1\n');
});
