// The lock's holder check against process stand-ins, for the instants a real process cannot be held at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alive, type ProcessProbes } from '../../src/state/lock.js';

const esrch = (): never => {
  throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
};
const eperm = (): never => {
  throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
};
const holder = { pid: 4242, start: '1000', command: 'apply' };

/** Answers kill(pid, 0) from a list, one answer per call (the last one repeats). */
function signalAnswers(...answers: (() => void)[]): ProcessProbes['signalZero'] {
  let call = 0;
  return () => answers[Math.min(call++, answers.length - 1)]!();
}

test('a PID that is gone is not a holder', () => {
  assert.equal(alive(holder, { signalZero: esrch, startOf: () => '1000' }), false);
});

test('the same process (same start time) holds the lock; a reused PID (another start time) does not', () => {
  assert.equal(alive(holder, { signalZero: () => undefined, startOf: () => '1000' }), true);
  assert.equal(alive(holder, { signalZero: () => undefined, startOf: () => '2000' }), false);
});

test('a process that ends between kill(pid, 0) and the read of its start time is not a holder', () => {
  // kill answers first (it still ran), /proc/PID/stat is gone, kill then says ESRCH.
  assert.equal(alive(holder, { signalZero: signalAnswers(() => undefined, esrch), startOf: () => null }), false);
});

test('a start time that cannot be read of a process that still runs counts as a holder', () => {
  assert.equal(alive(holder, { signalZero: () => undefined, startOf: () => null }), true);
  // EPERM: the PID exists but is not ours to signal — still a process, still a possible holder.
  assert.equal(alive(holder, { signalZero: eperm, startOf: () => null }), true);
});

test('a lock written without a start time trusts any live PID', () => {
  assert.equal(alive({ ...holder, start: null }, { signalZero: () => undefined, startOf: () => '7' }), true);
});
