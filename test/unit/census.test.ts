// The three census implementations (the synchronous walk of small trees, GNU find, and the concurrent
// JavaScript walk find falls back to) agree.
import assert from 'node:assert/strict';
import { chmod, lchown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findCensus, smallTreeCensus, treeSummary, walkCensus } from '../../src/discover/fs.js';
import { skipOrFail } from '../support/prerequisites.js';

describe('ownership census', { skip: skipOrFail(process.getuid?.() !== 0 && 'needs root to chown') }, () => {
  it('the small-tree walk, find and the concurrent walk count the same owners, links not followed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'census-'));
    try {
      const d = join(root, 'data');
      await mkdir(join(d, 'member', 'snap'), { recursive: true });
      for (let i = 0; i < 30; i++) await writeFile(join(d, 'member', 'snap', `f${i}`), 'x');
      await lchown(join(d, 'member', 'snap', 'f3'), 102, 109);
      await lchown(join(d, 'member', 'snap', 'f4'), 102, 109);
      await lchown(join(d, 'member', 'snap', 'f5'), 7, 0);
      await symlink('/etc/passwd', join(d, 'link')); // counted as an entry, never followed
      const expected = { entries: 33, owners: [{ uid: 0, gid: 0, count: 30 }, { uid: 102, gid: 109, count: 2 }, { uid: 7, gid: 0, count: 1 }] };
      assert.deepEqual(await treeSummary(root, '/data'), expected);
      assert.deepEqual(await walkCensus(d), expected);
      assert.deepEqual(await findCensus(d), expected);
      assert.deepEqual(smallTreeCensus(d), expected);
      assert.equal(smallTreeCensus(d, 32), null, 'one entry over the limit: left to find');
      assert.deepEqual(smallTreeCensus(d, 33), expected);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('all three count setuid/setgid files (directories aside: a setgid directory only passes its group on)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'census-'));
    try {
      const d = join(root, 'data');
      await mkdir(join(d, 'bin'), { recursive: true });
      await chmod(join(d, 'bin'), 0o2755); // not counted
      for (const [name, mode] of [['su', 0o4755], ['wall', 0o2755], ['ls', 0o755]] as const) {
        await writeFile(join(d, 'bin', name), 'x');
        await chmod(join(d, 'bin', name), mode);
      }
      const expected = { entries: 4, owners: [{ uid: 0, gid: 0, count: 4 }], setid: 2 };
      assert.deepEqual(await walkCensus(d), expected);
      assert.deepEqual(await findCensus(d), expected);
      assert.deepEqual(smallTreeCensus(d), expected);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
