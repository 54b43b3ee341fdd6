// The one directory walker (GNU find -P): it counts every entry below the top, lists only the
// exceptions (another owner, setuid/setgid, device nodes, hard-linked files) and follows no link.
// The oracle is the kernel: each expectation is set up here with chown/chmod/link/mknod, not read back
// through the code under test.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, lchown, link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { treeCensus, treeSummary } from '../../src/discover/fs.js';
import { skipOrFail } from '../support/prerequisites.js';

describe('ownership census', { skip: skipOrFail(process.getuid?.() !== 0 && 'needs root to chown') }, () => {
  it('counts owners, lists only the exceptions, and never follows a link', async () => {
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
      const c = await treeCensus(d);
      assert.deepEqual(c.common, [0, 0]);
      assert.deepEqual(c.exceptions.map((e) => [e.path, e.uid, e.gid]).sort(), [['member/snap/f3', 102, 109], ['member/snap/f4', 102, 109], ['member/snap/f5', 7, 0]]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('lists setuid/setgid files, device nodes and hard-linked files even when they have the common owner', async () => {
    const root = await mkdtemp(join(tmpdir(), 'census-'));
    try {
      const d = join(root, 'data');
      const outside = join(root, 'outside-secret');
      await mkdir(d);
      await writeFile(outside, 'secret');
      await writeFile(join(d, 'suid'), '#!/bin/sh\n');
      await chmod(join(d, 'suid'), 0o4755);
      await link(outside, join(d, 'hard'));
      execFileSync('mknod', [join(d, 'blk'), 'b', '7', '200']);
      await writeFile(join(d, 'name with spaces'), '');
      await writeFile(join(d, Buffer.from([0x62, 0xff, 0x2e, 0x79]).toString('latin1')), ''); // not the bytes b\xff.y: Node writes UTF-8
      const c = await treeCensus(d);
      assert.equal(c.entries, 5);
      assert.equal(c.setid, 1);
      assert.equal(c.hardLinks, 1);
      assert.equal(c.devices, 1);
      const byPath = Object.fromEntries(c.exceptions.map((e) => [String(e.path), e]));
      assert.deepEqual(Object.keys(byPath).sort(), ['blk', 'hard', 'suid']);
      assert.equal(byPath.suid!.mode, 0o4755);
      assert.equal(byPath.hard!.links, 2);
      assert.equal(byPath.blk!.type, 'b');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('keeps the exact bytes of a name that is not UTF-8', async () => {
    const root = await mkdtemp(join(tmpdir(), 'census-'));
    try {
      const name = Buffer.from([0x62, 0xff, 0x2e, 0x79]);
      await writeFile(Buffer.concat([Buffer.from(root + '/'), name]), '');
      await lchown(Buffer.concat([Buffer.from(root + '/'), name]), 5, 5);
      const c = await treeCensus(root);
      assert.deepEqual(c.exceptions.map((e) => e.path), [{ b64: name.toString('base64') }]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
  it('counts setuid/setgid files (directories aside: a setgid directory only passes its group on)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'census-'));
    try {
      const d = join(root, 'data');
      await mkdir(join(d, 'bin'), { recursive: true });
      await chmod(join(d, 'bin'), 0o2755); // not counted
      for (const [name, mode] of [['su', 0o4755], ['wall', 0o2755], ['ls', 0o755]] as const) {
        await writeFile(join(d, 'bin', name), 'x');
        await chmod(join(d, 'bin', name), mode);
      }
      assert.deepEqual(await treeSummary(root, '/data'), { entries: 4, owners: [{ uid: 0, gid: 0, count: 4 }], setid: 2 });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
