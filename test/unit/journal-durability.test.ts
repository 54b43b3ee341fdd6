// Which journal writes are fsynced (src/state/journal.ts header): appendDurable writes and fsyncs,
// appendLine only writes. The fsyncs are observed on the real file handles: FileHandle.prototype.sync is
// wrapped to note the path of each descriptor it flushes (/proc/self/fd), and still syncs.
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appendDurable, appendLine } from '../../src/fs/atomic.js';
import { Journal, JOURNAL_FILE, readJournal, type JournalRecord } from '../../src/state/journal.js';

let dir: string;
const synced: string[] = [];
let restore: () => void;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubeadm-nonroot-durability-'));
  const probe = await open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { sync: (this: { fd: number }) => Promise<void> };
  await probe.close();
  const real = proto.sync;
  proto.sync = function (this: { fd: number }) {
    synced.push(readlinkSync(`/proc/self/fd/${this.fd}`));
    return real.call(this);
  };
  restore = () => (proto.sync = real);
});
after(async () => {
  restore();
  await rm(dir, { recursive: true, force: true });
});
const take = () => synced.splice(0);

describe('appendDurable and appendLine', () => {
  it('appendDurable appends and fsyncs the file; appendLine appends without fsync', async () => {
    const f = join(dir, 'lines');
    take();
    await appendDurable(f, 'one\n');
    assert.deepEqual(take(), [f]);
    await appendLine(f, 'two\n');
    assert.deepEqual(take(), []);
    await appendDurable(f, 'three\n');
    assert.deepEqual(take(), [f]);
    assert.equal(await readFile(f, 'utf8'), 'one\ntwo\nthree\n');
    assert.equal((await stat(f)).mode & 0o777, 0o600, 'created private');
    const g = join(dir, 'created-by-appendLine');
    await appendLine(g, 'x\n');
    assert.equal((await stat(g)).mode & 0o777, 0o600);
  });

  it('the journal fsyncs begin, resume, intent, commit and the rollback bounds, and not done, undone, gate', async () => {
    const jdir = await mkdtemp(join(dir, 'run-'));
    const path = join(jdir, JOURNAL_FILE);
    const j = await Journal.create(jdir);
    const records: Array<[JournalRecord, string[]]> = [
      [{ t: 'begin', op: 'apply', at: 'a', pid: 1, fingerprint: 'f', tool: 't' }, [path, jdir]], // the new file's directory entry too
      [{ t: 'intent', step: '1:x', title: 'x', undo: null, at: 1 }, [path]],
      [{ t: 'done', step: '1:x', at: 2 }, []],
      [{ t: 'gate', component: 'etcd', ok: true, detail: 'd' }, []],
      [{ t: 'resume', at: 'b', pid: 2 }, [path]],
      [{ t: 'rollback-begin', at: 'c', reason: 'r' }, [path]],
      [{ t: 'undone', step: '1:x', at: 3 }, []],
      [{ t: 'rollback-done', at: 'd', failures: [] }, [path]],
      [{ t: 'commit', at: 'e' }, [path]],
    ];
    take();
    for (const [r, want] of records) {
      await j.record(r);
      assert.deepEqual(take(), want, r.t);
    }
    assert.deepEqual(await readJournal(jdir), records.map(([r]) => r), 'every record is in the file, in order');
  });
});
