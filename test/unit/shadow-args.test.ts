// The argument vectors the tool gives shadow-utils: every option must exist in shadow-utils 4.6 (RHEL 8)
// — the oracle is the table below, written from shadow-maint/shadow's NEWS (the release that added
// each option), not from src/apply/accounts.ts. `usermod --remove` (4.9) is the option this replaced.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addToGroup, groupadd, groupdel, removeFromGroup, rootOption, useradd, userdel, type AccountTools } from '../../src/apply/accounts.js';

/** Long options per program, with the shadow-utils release that introduced them (all ≤ 4.6). */
const OPTIONS_IN_4_6: Record<string, Record<string, string>> = {
  useradd: { '--system': '4.1.1', '--no-user-group': '4.1.1', '--no-create-home': '4.1.3', '--uid': '4.0', '--gid': '4.0', '--groups': '4.0', '--home-dir': '4.0', '--shell': '4.0', '--comment': '4.0', '--prefix': '4.6' },
  groupadd: { '--system': '4.1.1', '--gid': '4.0', '--prefix': '4.6' },
  usermod: { '--append': '4.0.11', '--groups': '4.0', '--prefix': '4.6' },
  userdel: { '--prefix': '4.6' },
  groupdel: { '--prefix': '4.6' },
  gpasswd: { '--delete': '4.1.3', '--root': '4.1.5' },
};

function recorder(root: string): { tools: AccountTools; calls: string[][] } {
  const calls: string[][] = [];
  return { calls, tools: { run: async (cmd, args) => void calls.push([cmd, ...rootOption(cmd, root), ...args]) } };
}

async function everyCall(root: string): Promise<string[][]> {
  const { tools, calls } = recorder(root);
  await groupadd(tools, 'kubeadm-etcd', 990);
  await useradd(tools, { name: 'kubeadm-etcd', uid: 990, gid: 990, supplementaryGroups: ['kubeadm-sa-key-readers'], shell: '/usr/sbin/nologin', home: '/nonexistent', comment: 'etcd' });
  await addToGroup(tools, 'kubeadm-kcm', 'kubeadm-sa-key-readers');
  await removeFromGroup(tools, 'kubeadm-kcm', 'kubeadm-sa-key-readers');
  await userdel(tools, 'kubeadm-etcd');
  await groupdel(tools, 'kubeadm-etcd');
  return calls;
}

describe('shadow-utils argument vectors', () => {
  for (const root of ['/', '/srv/node']) {
    it(`use only options shadow-utils 4.6 has (root ${root})`, async () => {
      for (const [cmd, ...args] of await everyCall(root)) {
        const known = OPTIONS_IN_4_6[cmd!];
        assert.ok(known, `${cmd} is not a program the table knows`);
        for (const a of args.filter((x) => x.startsWith('-'))) assert.ok(a in known, `${cmd} ${a} is not in shadow-utils 4.6`);
      }
    });
  }

  it('remove one supplementary group with gpasswd --delete USER GROUP, chrooted with --root for another root', async () => {
    assert.deepEqual((await everyCall('/srv/node')).find((c) => c[0] === 'gpasswd'), ['gpasswd', '--root', '/srv/node', '--delete', 'kubeadm-kcm', 'kubeadm-sa-key-readers']);
    assert.deepEqual((await everyCall('/')).find((c) => c[0] === 'gpasswd'), ['gpasswd', '--delete', 'kubeadm-kcm', 'kubeadm-sa-key-readers']);
  });

  it('point the other programs at another root with --prefix, and at / with nothing', async () => {
    for (const c of await everyCall('/srv/node')) if (c[0] !== 'gpasswd') assert.deepEqual(c.slice(1, 3), ['--prefix', '/srv/node'], c.join(' '));
    for (const c of await everyCall('/')) assert.ok(!c.includes('--prefix') && !c.includes('--root'), c.join(' '));
  });
});
