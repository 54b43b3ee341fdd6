// The prompt, the progress lines and the rollback preview, without a terminal or a node.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { ApplyEvent } from '../../src/apply/run.js';
import { confirm } from '../../src/cli/confirm.js';
import { describe as describeEvent, formatElapsed, throttleWaiting } from '../../src/cli/progress.js';
import { describeUndo } from '../../src/render/undo.js';

function tty(): PassThrough & { isTTY: boolean; setRawMode: (b: boolean) => void } {
  return Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
}

describe('confirm', () => {
  for (const [keys, want, what] of [
    ['y\r', true, '"y"'],
    ['yes\r', true, '"yes"'],
    ['n\r', false, '"n"'],
    ['\r', false, 'Enter'],
    ['\x03', false, 'Ctrl-C'],
    ['\x04', false, 'Ctrl-D'],
  ] as const) {
    it(`${what} at the prompt answers ${want ? 'yes' : 'no'}`, async () => {
      const input = tty();
      const output = new PassThrough();
      const answer = confirm('Apply this plan?', false, { input, output });
      setImmediate(() => input.write(keys));
      assert.equal(await answer, want);
    });
  }
});

describe('progress lines', () => {
  it('a waiting gate shows the elapsed time and the last observation', () => {
    assert.equal(describeEvent({ type: 'gate', component: 'etcd', status: 'waiting', detail: 'a new etcd process runs as uid 0 gid 0, expected 1001', elapsedMs: 75_400 }), '… etcd: 1m15s: a new etcd process runs as uid 0 gid 0, expected 1001');
    assert.equal(describeEvent({ type: 'gate', component: 'etcd', status: 'unconfirmed', detail: 'etcd did not become healthy within 5s' }), '? etcd: restored, health unconfirmed: etcd did not become healthy within 5s');
    assert.equal(formatElapsed(4200), '4s');
  });

  it('without a terminal, a waiting gate prints when its observation changes or every 10 s, not every poll', () => {
    const printed: string[] = [];
    const emit = throttleWaiting((e) => printed.push(describeEvent(e)));
    const wait = (ms: number, detail: string): ApplyEvent => ({ type: 'gate', component: 'etcd', status: 'waiting', detail, elapsedMs: ms });
    emit({ type: 'gate', component: 'etcd', status: 'waiting', detail: 'waiting for the kubelet', elapsedMs: 0 });
    for (let ms = 500; ms <= 12_000; ms += 500) emit(wait(ms, ms < 6000 ? 'no new etcd process' : 'pid 7 runs as uid 1001; HTTP 127.0.0.1:2381/health answered 500'));
    emit({ type: 'gate', component: 'etcd', status: 'healthy', detail: 'ok' });
    // One line every 5 s at most, however often the gate polls or its observation changes.
    assert.deepEqual(printed, ['… etcd: waiting for the kubelet', '… etcd: 0s: no new etcd process', '… etcd: 5s: no new etcd process', '… etcd: 10s: pid 7 runs as uid 1001; HTTP 127.0.0.1:2381/health answered 500', '✔ etcd: ok']);
  });

  it('a gate waiting 10 s prints 3 lines, not one per poll; a long step is a line every 5 s, a quick one none', async () => {
    const printed: string[] = [];
    const emit = throttleWaiting((e) => printed.push(describeEvent(e)), 40);
    for (let ms = 0; ms <= 10_000; ms += 35) emit({ type: 'gate', component: 'etcd', status: 'waiting', detail: ms % 70 ? 'no new etcd process' : 'etcd: 0s', elapsedMs: ms * 1000 / 1000 });
    assert.ok(printed.length <= 10_000 / 40 + 2);
    printed.length = 0;
    emit({ type: 'step', title: 'write /etc/kubernetes/manifests/etcd.yaml', status: 'running' });
    emit({ type: 'step', title: 'write /etc/kubernetes/manifests/etcd.yaml', status: 'done' });
    emit({ type: 'step', title: '/var/lib/etcd: owner kubeadm-etcd:kubeadm-etcd recursively, mode 0700', status: 'running' });
    await new Promise((r) => setTimeout(r, 100));
    emit({ type: 'step', title: '/var/lib/etcd: owner kubeadm-etcd:kubeadm-etcd recursively, mode 0700', status: 'done' });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(printed[0], '✔ write /etc/kubernetes/manifests/etcd.yaml');
    assert.match(printed[1]!, /^… \/var\/lib\/etcd: owner kubeadm-etcd:kubeadm-etcd recursively, mode 0700 \(running for 0s\)$/);
    assert.equal(printed[printed.length - 1], '✔ /var/lib/etcd: owner kubeadm-etcd:kubeadm-etcd recursively, mode 0700');
    assert.ok(printed.length >= 3 && printed.length <= 5, printed.join('\n'));
  });
});

describe('rollback preview', () => {
  it('names the owner and mode each undo restores, not the forward step', () => {
    assert.equal(describeUndo({ kind: 'restore-owner-mode', path: '/etc/kubernetes/pki/apiserver.key', uid: 0, gid: 0, mode: 0o600 }), '/etc/kubernetes/pki/apiserver.key back to 0:0 0600');
    assert.equal(describeUndo({ kind: 'restore-tree', path: '/var/lib/etcd', uid: 0, gid: 0, mode: 0o700, defaultOwner: [0, 0], ownersFile: 'owners.json' }), '/var/lib/etcd back to 0:0 0700, everything below to 0:0 except the recorded other owners');
    assert.equal(describeUndo({ kind: 'delete-user', name: 'kubeadm-etcd' }), 'remove user kubeadm-etcd (created by the run)');
  });
});
