// scripts/real-node.ts: a node whose runner was killed before stop() is swept by the next start, and a
// node whose runner lives is left alone (parallel runners). Scratch dirs only: no node is started, and
// the pids named are of a process that has exited, so nothing is killed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { sweepLeftNodes } from '../../scripts/real-node.js';

const made: string[] = [];
after(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

const exited = Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());

/** A scratch dir as RealNode.start leaves it, owned by `runner` started at `runnerStart`. */
function scratch(runner: number, runnerStart: string): string {
  const dir = mkdtempSync('/var/tmp/kubeadm-nonroot-node-');
  made.push(dir);
  writeFileSync(join(dir, 'owner.json'), JSON.stringify({ runner, runnerStart, unshare: exited, init: exited }));
  return dir;
}

function ownStartTime(): string {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

it('sweeps the node of a runner that is gone', () => {
  const dir = scratch(exited, '1');
  sweepLeftNodes(() => undefined);
  assert.equal(existsSync(dir), false);
});

it('leaves the node of a live runner', () => {
  // /proc/self is this test process: the same pid and start time sweepLeftNodes reads for it.
  const dir = scratch(process.pid, ownStartTime());
  sweepLeftNodes(() => undefined);
  assert.equal(existsSync(dir), true);
});

it('sweeps a node whose runner pid was reused by another process (start time differs)', () => {
  const dir = scratch(process.pid, 'not-this-start');
  sweepLeftNodes(() => undefined);
  assert.equal(existsSync(dir), false);
});
