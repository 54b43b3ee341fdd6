// Config collisions are refused when the config is read (exit 2, naming both config keys), not half-way
// through apply: two components never share a user, a group or a pinned ID, and no account is named
// like another component's. Each case below was a config that passed plan and failed in apply.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/plan/config.js';

const P = '/etc/kubeadm-nonroot.yaml';
const refused = (yaml: string) => assert.throws(() => parseConfig(yaml, P), (e: Error) => e.name === 'InputError' && e.message.startsWith(`${P}: `) && /each component needs accounts and IDs of its own/.test(e.message) ? true : assert.fail(e.message));

describe('config collisions', () => {
  it('etcd named as kube-apiserver\'s user (the default name of the other)', () => {
    assert.throws(() => parseConfig('accounts:\n  kube-apiserver:\n    user: kubeadm-etcd\n', P), /accounts\.kube-apiserver\.user and etcd's default user both give the account name "kubeadm-etcd"/);
  });

  it('two components given the same user, or the same group', () => {
    refused('accounts:\n  etcd:\n    user: etcd\n  kube-scheduler:\n    user: etcd\n');
    refused('accounts:\n  kube-controller-manager:\n    group: cp\n  kube-scheduler:\n    group: cp\n');
  });

  it('a user name equal to another component\'s group', () => {
    assert.throws(() => parseConfig('accounts:\n  etcd:\n    group: kubeadm-ks\n', P), /accounts\.etcd\.group and kube-scheduler's default user both give the account name "kubeadm-ks"|kube-scheduler's default user and accounts\.etcd\.group/);
  });

  it('pinned IDs shared across components, and a pinned gid equal to saKeyReaders.gid', () => {
    assert.throws(() => parseConfig('accounts:\n  etcd:\n    uid: 2001\n  kube-scheduler:\n    uid: 2001\n', P), /accounts\.kube-scheduler\.uid and accounts\.etcd\.uid both give uid 2001/);
    refused('accounts:\n  etcd:\n    gid: 2001\n  kube-apiserver:\n    gid: 2001\n');
    assert.throws(() => parseConfig('accounts:\n  kube-apiserver:\n    gid: 2100\nsaKeyReaders:\n  gid: 2100\n', P), /saKeyReaders\.gid and accounts\.kube-apiserver\.gid both give gid 2100/);
    refused('saKeyReaders:\n  group: kubeadm-kcm\n');
  });

  it('accepts distinct names and IDs, a user and its own group of the same name, and collisions only among components not migrated', () => {
    assert.doesNotThrow(() => parseConfig('accounts:\n  etcd:\n    user: etcd\n    group: etcd\n    uid: 2001\n    gid: 2001\n  kube-scheduler:\n    uid: 2002\n    gid: 2002\nsaKeyReaders:\n  gid: 2100\n', P));
    assert.doesNotThrow(() => parseConfig('components: [kube-apiserver]\naccounts:\n  kube-scheduler:\n    user: kubeadm-kas\n', P));
  });

  it('IDs outside 1..2^31-2 are refused naming the key', () => {
    assert.throws(() => parseConfig('accounts:\n  etcd:\n    uid: 2147483647\n', P), /accounts\.etcd\.uid: 2147483647 is not an ID in 1\.\.2147483646/);
  });
});
