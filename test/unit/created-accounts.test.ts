// Which accounts the tool created, from its journals (src/state/created-accounts.ts): an apply's
// creations stand unless undone; a finished revert's removals take them out again. Journals written by
// hand, in the shape src/apply/steps.ts journals account steps.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createdAccounts } from '../../src/state/created-accounts.js';
import type { BackupInfo } from '../../src/state/backups.js';

async function run(base: string, id: string, lines: object[]): Promise<BackupInfo> {
  const dir = join(base, id);
  await mkdir(dir);
  await writeFile(join(dir, 'journal.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return { id, dir, op: 'apply', status: 'applied', startedAt: null, changes: 0 };
}
const intent = (step: string, undo: object) => ({ t: 'intent', step, title: step, undo });

describe('accounts the tool created', () => {
  it('are the creations journaled and not undone, minus what a later revert removed', async () => {
    const base = await mkdtemp(join(tmpdir(), 'created-accounts-'));
    try {
      const backups = [
        await run(base, '1', [intent('1', { kind: 'delete-group', name: 'kubeadm-etcd' }), intent('2', { kind: 'delete-user', name: 'kubeadm-etcd' }), intent('3', { kind: 'delete-group', name: 'kubeadm-sa-key-readers' }), intent('4', { kind: 'delete-group', name: 'kubeadm-ks' }), { t: 'undone', step: '4' }]),
        await run(base, '2', [intent('1', { kind: 'recreate-group', name: 'kubeadm-sa-key-readers', gid: 150 })]),
      ];
      assert.deepEqual(await createdAccounts(backups), { users: ['kubeadm-etcd'], groups: ['kubeadm-etcd'] });
      assert.deepEqual(await createdAccounts([]), { users: [], groups: [] });
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
