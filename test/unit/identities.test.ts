import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMPONENTS } from '../../src/model/components.js';
import { defaultConfig } from '../../src/plan/config.js';
import { allocate, planIdentities } from '../../src/plan/identities.js';
import type { AccountAction } from '../../src/plan/types.js';
import { group, nodeState, passwd } from '../support/node-state.js';

const SA = { name: 'kubeadm-sa-key-readers', members: ['kube-apiserver', 'kube-controller-manager'] as ('kube-apiserver' | 'kube-controller-manager')[], saKey: true };

function ids(accounts: AccountAction[]): string {
  // kubeadm's String() format (users_linux.go): name{id,gid}; sorted — to compare with §6 verbatim.
  return accounts
    .filter((a) => a.action === 'create-user' || a.action === 'reuse-user')
    .map((a) => `${a.name}{${'uid' in a ? a.uid : ''},${a.gid}};`)
    .sort()
    .join('');
}

describe('identity allocation', () => {
  it('reproduces kubeadm integration case (kubeadm-rootless.md §6)', () => {
    // login.defs 101-998 / 102-999, existing kubeadm-etcd 101/102.
    const node = nodeState({
      loginDefs: { sysUidMin: 101, sysUidMax: 998, sysGidMin: 102, sysGidMax: 999, uidMin: 1000 },
      passwd: passwd('kubeadm-etcd:x:101:102:::/bin/false'),
      group: group('kubeadm-etcd:x:102:kubeadm-etcd'),
    });
    const plan = planIdentities(node, defaultConfig(), [...COMPONENTS], [SA]);
    assert.deepEqual(plan.problems, []);
    assert.equal(ids(plan.accounts), 'kubeadm-etcd{101,102};kubeadm-kas{102,103};kubeadm-kcm{103,104};kubeadm-ks{104,105};');
    const groups = plan.accounts.filter((a) => a.action === 'create-group' || a.action === 'reuse-group').map((a) => `${a.name}{${a.gid}}`);
    assert.deepEqual(groups, ['kubeadm-etcd{102}', 'kubeadm-kas{103}', 'kubeadm-kcm{104}', 'kubeadm-ks{105}', 'kubeadm-sa-key-readers{106}']);
    assert.equal(plan.accounts.find((a) => a.name === 'kubeadm-etcd' && a.action === 'reuse-user')?.action, 'reuse-user');
    const kas = plan.identities.find((i) => i.component === 'kube-apiserver')!;
    assert.deepEqual(kas.supplementalGroups, [{ name: 'kubeadm-sa-key-readers', gid: 106 }]);
    assert.deepEqual(plan.identities.find((i) => i.component === 'kube-scheduler')!.supplementalGroups, []);
  });

  it('allocates UIDs and GIDs independently, lowest free first, skipping taken ones', () => {
    const node = nodeState({
      passwd: passwd('root:x:0:0:::/bin/bash\nmessagebus:x:100:102:::/usr/sbin/nologin\nsystemd-network:x:998:998:::/usr/sbin/nologin'),
      group: group('root:x:0:\nusers:x:100:\nsystemd-journal:x:101:\nmessagebus:x:102:'),
    });
    const plan = planIdentities(node, defaultConfig(), ['etcd', 'kube-scheduler'], []);
    assert.deepEqual(plan.accounts.map((a) => `${a.action} ${a.name} ${'uid' in a ? a.uid : a.gid}/${a.gid}`), [
      'create-group kubeadm-etcd 103/103',
      'create-group kubeadm-ks 104/104',
      'create-user kubeadm-etcd 101/103',
      'create-user kubeadm-ks 102/104',
    ]);
  });

  it('creates accounts only for the components it migrates (no etcd user with external etcd)', () => {
    const plan = planIdentities(nodeState(), defaultConfig(), ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'], [SA]);
    assert.ok(!plan.accounts.some((a) => a.name === 'kubeadm-etcd'));
    assert.equal(plan.identities.length, 3);
  });

  it('avoids IDs known only to NSS when given', () => {
    const node = nodeState({ nss: { users: [{ name: 'ldapsvc', uid: 100 }], groups: [{ name: 'ldapgrp', gid: 100 }, { name: 'ldap2', gid: 101 }] } });
    const plan = planIdentities(node, defaultConfig(), ['etcd'], []);
    assert.deepEqual(plan.identities.map((i) => [i.uid, i.gid]), [[101, 102]]);
  });

  it('reports an exhausted range as a blocking problem naming login.defs', () => {
    const node = nodeState({ loginDefs: { sysUidMin: 100, sysUidMax: 101, sysGidMin: 100, sysGidMax: 999, uidMin: 1000 } });
    const plan = planIdentities(node, defaultConfig(), [...COMPONENTS], [SA]);
    const p = plan.problems.find((x) => x.code === 'id-range-exhausted');
    assert.ok(p, 'expected id-range-exhausted');
    assert.equal(p.path, '/etc/login.defs');
    assert.match(p.message, /4 UIDs/);
  });

  it('refuses to reuse a login account, a root account, or a user whose primary group is root', () => {
    const node = nodeState({
      passwd: passwd('kubeadm-etcd:x:1001:1001::/home/x:/bin/bash\nkubeadm-kas:x:0:0:::/bin/false\nkubeadm-ks:x:150:0:::/bin/false\nkubeadm-kcm:x:151:160:::/bin/false'),
      group: group('root:x:0:\nother:x:160:\nkubeadm-kcm:x:161:'),
    });
    const plan = planIdentities(node, defaultConfig(), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'], []);
    const codes = plan.problems.map((p) => p.code).sort();
    // kubeadm-ks's primary group is GID 0: a privileged group, refused before any group comparison.
    assert.deepEqual(codes, ['account-group-mismatch', 'account-is-login', 'account-is-root', 'account-privileged-group']);
    assert.ok(plan.problems.every((p) => p.fix && p.path === '/etc/passwd'));
  });

  it('blocks on unexpected members of the shared reader group but adds missing ones', () => {
    const extra = planIdentities(nodeState({ group: group('kubeadm-sa-key-readers:x:150:alice') }), defaultConfig(), ['kube-apiserver', 'kube-controller-manager'], [SA]);
    assert.deepEqual(extra.problems.map((p) => p.code), ['group-unexpected-members']);
    const node = nodeState({
      passwd: passwd('kubeadm-kas:x:120:120:::/bin/false'),
      group: group('kubeadm-kas:x:120:\nkubeadm-sa-key-readers:x:150:'),
    });
    const plan = planIdentities(node, defaultConfig(), ['kube-apiserver', 'kube-controller-manager'], [SA]);
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(plan.accounts.find((a) => a.name === 'kubeadm-sa-key-readers'), { action: 'add-group-members', name: 'kubeadm-sa-key-readers', gid: 150, members: ['kubeadm-kas'] });
    // the new kcm user joins the groups through useradd -G: its own (kubeadm lists each user as a member
    // of its own group, kubeadm-rootless.md §1.1) and the reader group
    const kcm = plan.accounts.find((a) => a.name === 'kubeadm-kcm' && a.action === 'create-user');
    assert.deepEqual(kcm && 'supplementaryGroups' in kcm ? kcm.supplementaryGroups : null, ['kubeadm-kcm', 'kubeadm-sa-key-readers']);
    assert.equal(kcm && 'shell' in kcm ? kcm.shell : null, '/bin/false'); // the only shell kubeadm's gate accepts
  });

  it('honours names and pinned IDs from the config (CIS 1.1.12 wants etcd:etcd)', () => {
    const config = defaultConfig();
    config.accounts.etcd = { user: 'etcd', uid: 2001, gid: 2001 };
    config.saKeyReaders = { gid: 2100 };
    const plan = planIdentities(nodeState(), config, ['etcd', 'kube-apiserver', 'kube-controller-manager'], [SA]);
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(plan.identities.find((i) => i.component === 'etcd'), { component: 'etcd', user: 'etcd', uid: 2001, group: 'etcd', gid: 2001, supplementalGroups: [] });
    assert.equal(plan.identities.find((i) => i.component === 'kube-apiserver')!.supplementalGroups[0]!.gid, 2100);
    // pinned IDs are not handed out again by the allocator
    assert.equal(plan.identities.find((i) => i.component === 'kube-apiserver')!.uid, 100);
  });

  it('reports a pinned ID taken by another account', () => {
    const config = defaultConfig();
    config.accounts['kube-scheduler'] = { uid: 100 };
    const plan = planIdentities(nodeState({ passwd: passwd('messagebus:x:100:100:::/usr/sbin/nologin') }), config, ['kube-scheduler'], []);
    assert.deepEqual(plan.problems.map((p) => p.code), ['account-id-conflict']);
    assert.match(plan.problems[0]!.message, /messagebus/);
  });

  it('reuses a user whose group is missing by creating the group with its GID', () => {
    const plan = planIdentities(nodeState({ passwd: passwd('kubeadm-ks:x:140:141:::/bin/false') }), defaultConfig(), ['kube-scheduler'], []);
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(plan.accounts.map((a) => a.action + ' ' + a.gid), ['create-group 141', 'reuse-user 141']);
  });

  it('allocate() returns null when the range is too small and [] for zero', () => {
    assert.deepEqual(allocate(new Set([5]), 5, 7, 2), [6, 7]);
    assert.equal(allocate(new Set([5]), 5, 7, 3), null);
    assert.deepEqual(allocate(new Set(), 7, 5, 0), []);
    assert.equal(allocate(new Set(), 7, 5, 1), null); // min > max: nothing to allocate from
  });
});

describe('groups and accounts by allow-list: only a dedicated group or account is reused', () => {
  // Debian's GIDs for these (base-passwd static: src 40, video 44; dynamic system groups: ssl-cert, input).
  const debianGroups = 'root:x:0:\nsrc:x:40:\nvideo:x:44:\nssl-cert:x:110:postgres\ninput:x:105:\nrender:x:106:\n';

  it('refuses ssl-cert, src, input and video named as a component\'s group in the config', () => {
    for (const name of ['ssl-cert', 'src', 'input', 'video']) {
      const config = defaultConfig();
      config.accounts['kube-scheduler'] = { group: name };
      const plan = planIdentities(nodeState({ group: group(debianGroups) }), config, ['kube-scheduler'], []);
      assert.deepEqual(plan.problems.map((p) => p.code), ['account-system-group'], name);
      assert.ok(!plan.accounts.some((a) => a.name === name), `${name} is not reused`);
    }
  });

  it('refuses a group with a GID below SYS_GID_MIN whatever its name', () => {
    const config = defaultConfig();
    config.accounts['kube-scheduler'] = { group: 'ks-private' };
    const plan = planIdentities(nodeState({ group: group('ks-private:x:60:\n') }), config, ['kube-scheduler'], []);
    assert.deepEqual(plan.problems.map((p) => p.code), ['account-system-group']);
    assert.match(plan.problems[0]!.message, /GID 60 is below SYS_GID_MIN 100/);
  });

  it('refuses an own group with other members, or that is another account\'s primary group', () => {
    const members = planIdentities(nodeState({ group: group('kubeadm-ks:x:150:alice\n') }), defaultConfig(), ['kube-scheduler'], []);
    assert.deepEqual(members.problems.map((p) => p.code), ['group-unexpected-members']);
    assert.match(members.problems[0]!.fix!, /gpasswd -d alice kubeadm-ks/);
    const primary = planIdentities(nodeState({ passwd: passwd('backupsvc:x:151:150:::/usr/sbin/nologin'), group: group('kubeadm-ks:x:150:\n') }), defaultConfig(), ['kube-scheduler'], []);
    assert.deepEqual(primary.problems.map((p) => [p.code, /primary group of backupsvc/.test(p.message)]), [['account-not-dedicated', true]]);
  });

  it('refuses to reuse an account that belongs to groups the plan does not give it', () => {
    const node = nodeState({ passwd: passwd('kubeadm-ks:x:150:150:::/bin/false'), group: group('kubeadm-ks:x:150:kubeadm-ks\nmonitoring:x:160:kubeadm-ks\n') });
    const plan = planIdentities(node, defaultConfig(), ['kube-scheduler'], []);
    assert.deepEqual(plan.problems.map((p) => p.code), ['account-not-dedicated']);
    assert.match(plan.problems[0]!.message, /also belongs to group\(s\) monitoring/);
  });

  it('still reuses Debian\'s etcd:etcd named in the config (CIS 1.1.12) and kubeadm\'s own accounts', () => {
    const config = defaultConfig();
    config.accounts.etcd = { user: 'etcd' };
    const node = nodeState({
      passwd: passwd('etcd:x:108:112::/var/lib/etcd:/usr/sbin/nologin\nkubeadm-kas:x:102:103:::/bin/false'),
      group: group(`${debianGroups}etcd:x:112:\nkubeadm-kas:x:103:kubeadm-kas\nkubeadm-sa-key-readers:x:104:kubeadm-kas\n`),
    });
    const plan = planIdentities(node, config, ['etcd', 'kube-apiserver', 'kube-controller-manager'], [SA]);
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(plan.identities.find((i) => i.component === 'etcd'), { component: 'etcd', user: 'etcd', uid: 108, group: 'etcd', gid: 112, supplementalGroups: [] });
    assert.equal(plan.accounts.find((a) => a.name === 'kubeadm-kas' && a.action === 'reuse-user')?.action, 'reuse-user');
  });

  it('never allocates or reuses an ID above 2^31-2 (the API rejects such a pod)', () => {
    const wide = nodeState({ loginDefs: { sysUidMin: 2147483645, sysUidMax: 4000000000, sysGidMin: 2147483645, sysGidMax: 4000000000, uidMin: 4000000001 } });
    const plan = planIdentities(wide, defaultConfig(), ['etcd', 'kube-scheduler', 'kube-controller-manager'], []);
    assert.deepEqual(plan.problems.map((p) => p.code), ['id-range-exhausted', 'id-range-exhausted']);
    const big = nodeState({ passwd: passwd('kubeadm-ks:x:3000000000:150:::/bin/false'), group: group('kubeadm-ks:x:150:\nkubeadm-etcd:x:3000000001:\n') });
    const reused = planIdentities(big, defaultConfig(), ['etcd', 'kube-scheduler'], []);
    assert.deepEqual(reused.problems.map((p) => [p.code, p.path]), [['id-out-of-range', '/etc/group'], ['id-out-of-range', '/etc/passwd']]);
    assert.match(reused.problems[1]!.message, /user kubeadm-ks has UID 3000000000 \(line 1 of \/etc\/passwd\), above 2147483646/);
  });

  it('a reused kas or kcm user may stay in kubeadm\'s gate sa-key reader group even when no secret is shared now', () => {
    const node = nodeState({ passwd: passwd('kubeadm-kas:x:102:103:::/bin/false\nkubeadm-ks:x:104:105:::/bin/false'), group: group('kubeadm-kas:x:103:kubeadm-kas\nkubeadm-ks:x:105:kubeadm-ks,kubeadm-ks\nkubeadm-sa-key-readers:x:106:kubeadm-kas,kubeadm-ks\n') });
    const plan = planIdentities(node, defaultConfig(), ['kube-apiserver', 'kube-scheduler'], []);
    assert.deepEqual(plan.problems.map((p) => [p.code, p.message.split(' ')[1]]), [['account-not-dedicated', 'kubeadm-ks']], 'the scheduler was never in it');
  });
});

