// The undo of "add members to a reused group" run with this machine's real shadow-utils on a sandbox
// root: exactly that membership goes, the other members and groups stay (gpasswd --root chroots into it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { shadowUtils } from '../../src/apply/accounts.js';
import { performUndo } from '../../src/apply/undo.js';
import { GROUP, writeAccounts } from '../../scripts/lib/accounts.js';
import { NEEDS_ROOT } from '../support/cli-root.js';

describe('remove-members undo with the real shadow-utils', { skip: NEEDS_ROOT }, () => {
  it('removes only the recorded members from the group, in /etc/group and /etc/gshadow', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'kn-shadow-'));
    try {
      await writeAccounts(root, { group: GROUP.replace('audio:x:29:alice', 'audio:x:29:alice,daemon,bin') });
      const ctx = { root, backupDir: root, tools: shadowUtils(root), createdNames: [], warn: (m: string) => assert.fail(m) };
      await performUndo({ kind: 'remove-members', group: 'audio', members: ['daemon', 'bin'] }, ctx);
      const group = await readFile(path.join(root, 'etc/group'), 'utf8');
      assert.equal(group, GROUP, 'only daemon and bin left audio');
      assert.match(await readFile(path.join(root, 'etc/gshadow'), 'utf8'), /^audio:[^:\n]*:[^:\n]*:alice$/m);
      // Idempotent: a second run (a rollback resumed after a crash) finds nothing to remove.
      await performUndo({ kind: 'remove-members', group: 'audio', members: ['daemon', 'bin'] }, ctx);
      assert.equal(await readFile(path.join(root, 'etc/group'), 'utf8'), GROUP);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
