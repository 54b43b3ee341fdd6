// revert removes only the accounts kubeadm-nonroot CREATED: a reused system account (daemon) or a
// distro's own etcd user and group stay, with a warning; what the tool's journals say it created goes —
// never an account matched by its name or comment (an operator's own kubeadm-foo-readers stays).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/plan/config.js';
import { buildRevertPlan } from '../../src/plan/revert.js';
import { fixtureNode } from '../support/fixture-node.js';

const NOW = new Date('2026-11-25T00:00:00Z');
const FIXTURE = 'v1.31-rootless-control-plane';

describe('revert removes only accounts the tool created', () => {
  it('keeps a distro etcd user and group and a reused daemon account', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\netcd:x:105:110:etcd distributed key-value store:/var/lib/etcd:/bin/false\n';
    const group = 'root:x:0:\ndaemon:x:1:\netcd:x:110:\n';
    const config = defaultConfig();
    config.accounts = { etcd: { user: 'etcd', group: 'etcd' }, 'kube-scheduler': { user: 'daemon', group: 'daemon' } };
    const plan = buildRevertPlan(fixtureNode(FIXTURE, { passwd, group }), config, { now: NOW });
    assert.deepEqual(plan.accounts, [], 'nothing the tool did not create is removed');
    const kept = plan.warnings.filter((w) => w.code === 'account-not-created').map((w) => w.message.split(' ').slice(0, 2).join(' '));
    assert.deepEqual(kept.sort(), ['group daemon', 'group etcd', 'user daemon', 'user etcd']);
  });

  it('removes the users it created and their own groups', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nkubeadm-etcd:x:100:100:kubeadm-nonroot etcd:/nonexistent:/bin/false\nkubeadm-ks:x:103:103:someone else:/nonexistent:/bin/false\n';
    const group = 'root:x:0:\nkubeadm-etcd:x:100:\nkubeadm-ks:x:103:\n';
    const created = { users: ['kubeadm-etcd'], groups: ['kubeadm-etcd'] };
    const plan = buildRevertPlan(fixtureNode(FIXTURE, { passwd, group }), defaultConfig(), { now: NOW, created });
    assert.deepEqual(plan.accounts.map((a) => `${a.action} ${a.name}`), ['delete-user kubeadm-etcd', 'delete-group kubeadm-etcd']);
  });

  it('leaves an operator\'s own kubeadm-foo-readers group, and the tool\'s marked users, when no journal says it created them', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nkubeadm-etcd:x:100:100:kubeadm-nonroot etcd:/nonexistent:/bin/false\nkubeadm-kas:x:101:101:kubeadm-nonroot kube-apiserver:/nonexistent:/bin/false\n';
    const group = 'root:x:0:\nkubeadm-etcd:x:100:\nkubeadm-kas:x:101:\nkubeadm-foo-readers:x:150:alice\nkubeadm-etcd-kas-readers:x:151:\n';
    const created = { users: ['kubeadm-etcd'], groups: ['kubeadm-etcd', 'kubeadm-etcd-kas-readers'] };
    const plan = buildRevertPlan(fixtureNode(FIXTURE, { passwd, group }), defaultConfig(), { now: NOW, created });
    assert.deepEqual(plan.accounts.map((a) => `${a.action} ${a.name}`), ['delete-user kubeadm-etcd', 'delete-group kubeadm-etcd', 'delete-group kubeadm-etcd-kas-readers']);
    const none = buildRevertPlan(fixtureNode(FIXTURE, { passwd, group }), defaultConfig(), { now: NOW });
    assert.deepEqual(none.accounts, [], 'without a journal nothing is removed');
    assert.ok(none.warnings.some((w) => w.code === 'account-not-created' && w.message.startsWith('user kubeadm-etcd')));
  });
});
