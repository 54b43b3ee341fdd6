// The read-only layout and the grant rules of docs/ownership.md, one by one. Expected owners and modes
// are written from the rules' text (a file a component only reads: root:<its group or the shared
// reader group>, group read added, nothing else gained; a written directory: the component's), never
// copied from the planner's output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { formatMode } from '../../src/model/perms.js';
import { discoverNode } from '../../src/discover/discover.js';
import { defaultConfig } from '../../src/plan/config.js';
import { buildPlan } from '../../src/plan/plan.js';
import type { Plan } from '../../src/plan/types.js';
import { editManifest, fixtureNode, kubesprayKeyNode } from '../support/fixture-node.js';
import { skipOrFail } from '../support/prerequisites.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';

const NOW = new Date('2026-12-07T00:00:00Z');
const planOf = (node: ReturnType<typeof fixtureNode>): Plan => buildPlan(node, defaultConfig(), { now: NOW });
const desiredOf = (p: Plan, path: string): string | undefined => {
  const f = p.files.find((x) => x.path === path);
  return f ? `${f.desired.user}:${f.desired.group} ${formatMode(f.desired.mode)}${f.action === 'set-owner-recursive' ? ' -R' : ''}` : undefined;
};

// The RootlessControlPlane gate's accounts (kubeadm's IDs 100..104 on an empty system range).
const GATE_PASSWD = 'root:x:0:0:root:/root:/bin/bash\nkubeadm-etcd:x:100:100:kubeadm-nonroot etcd::/bin/false\nkubeadm-kas:x:101:101:kubeadm-nonroot kube-apiserver::/bin/false\nkubeadm-kcm:x:102:102:kubeadm-nonroot kube-controller-manager::/bin/false\nkubeadm-ks:x:103:103:kubeadm-nonroot kube-scheduler::/bin/false\n';
const GATE_GROUP = 'root:x:0:\nkubeadm-etcd:x:100:kubeadm-etcd\nkubeadm-kas:x:101:kubeadm-kas\nkubeadm-kcm:x:102:kubeadm-kcm\nkubeadm-ks:x:103:kubeadm-ks\nkubeadm-sa-key-readers:x:104:kubeadm-kas,kubeadm-kcm\n';

describe('read-only means read-only', () => {
  it('a secret one component reads stays root\'s, readable through its group: 0600 → 0640', () => {
    const p = planOf(fixtureNode('v1.32-rhel-stacked'));
    assert.equal(desiredOf(p, '/etc/kubernetes/controller-manager.conf'), 'root:kubeadm-kcm 0640');
    assert.equal(desiredOf(p, '/etc/kubernetes/pki/apiserver.key'), 'root:kubeadm-kas 0640');
  });

  it('never adds a bit the rule does not need: a 0400 key becomes 0440, not 0640', () => {
    const node = fixtureNode('v1.32-rhel-stacked');
    node.paths['/etc/kubernetes/pki/etcd/server.key'] = { type: 'file', uid: 0, gid: 0, mode: 0o400, size: 100 };
    assert.equal(desiredOf(planOf(node), '/etc/kubernetes/pki/etcd/server.key'), 'root:kubeadm-etcd 0440');
  });

  it('a secret several components read: root:<shared reader group> 0640', () => {
    assert.equal(desiredOf(planOf(fixtureNode('v1.32-rhel-stacked')), '/etc/kubernetes/pki/sa.key'), 'root:kubeadm-sa-key-readers 0640');
  });

  it('a directory a component writes is its own, recursively', () => {
    assert.equal(desiredOf(planOf(fixtureNode('v1.32-rhel-stacked')), '/var/lib/etcd'), 'kubeadm-etcd:kubeadm-etcd 0700 -R');
  });

  it('never adds a world bit: a public file several components cannot read gets a shared group, not 0644', () => {
    const node = fixtureNode('v1.32-rhel-stacked');
    node.paths['/etc/kubernetes/pki/ca.crt'] = { type: 'file', uid: 0, gid: 0, mode: 0o600, size: 100 }; // read by kas and kcm
    const p = planOf(node);
    const f = p.files.find((x) => x.path === '/etc/kubernetes/pki/ca.crt')!;
    assert.ok(f, 'ca.crt is changed');
    assert.equal(f.desired.uid, 0);
    assert.equal(f.desired.mode & 0o007, 0, `no world bit: ${formatMode(f.desired.mode)}`);
    assert.equal(f.desired.mode, 0o640);
    assert.ok(p.accounts.some((a) => a.action === 'create-group' && a.gid === f.desired.gid), 'a reader group is created for it');
    const withGroup = p.components.filter((c) => c.identity?.supplementalGroups.some((g) => g.gid === f.desired.gid)).map((c) => c.component);
    assert.deepEqual(withGroup, ['kube-apiserver', 'kube-controller-manager'], 'exactly its readers get the group');
  });

  it('a node the gate (or an earlier version) migrated is brought to the new layout: owners back to root', () => {
    const node = fixtureNode('v1.31-rootless-control-plane', { passwd: GATE_PASSWD, group: GATE_GROUP });
    const owned = (path: string, id: number) => (node.paths[path] = { type: 'file', uid: id, gid: id, mode: 0o600, size: 100 });
    owned('/etc/kubernetes/pki/etcd/server.key', 100);
    owned('/etc/kubernetes/pki/apiserver.key', 101);
    owned('/etc/kubernetes/pki/sa.pub', 101);
    owned('/etc/kubernetes/controller-manager.conf', 102);
    owned('/etc/kubernetes/scheduler.conf', 103);
    node.paths['/var/lib/etcd'] = { type: 'dir', uid: 100, gid: 100, mode: 0o700, size: 4096 };
    node.trees['/var/lib/etcd'] = { entries: 3, owners: [{ uid: 100, gid: 100, count: 3 }] };
    const p = planOf(node);
    assert.deepEqual(p.problems, []);
    assert.ok(p.accounts.every((a) => a.action === 'reuse-user' || a.action === 'reuse-group'), 'same accounts and IDs');
    assert.equal(desiredOf(p, '/etc/kubernetes/pki/etcd/server.key'), 'root:kubeadm-etcd 0640');
    assert.equal(desiredOf(p, '/etc/kubernetes/pki/apiserver.key'), 'root:kubeadm-kas 0640');
    assert.equal(desiredOf(p, '/etc/kubernetes/pki/sa.pub'), 'root:kubeadm-kas 0640');
    assert.equal(desiredOf(p, '/etc/kubernetes/controller-manager.conf'), 'root:kubeadm-kcm 0640');
    assert.equal(desiredOf(p, '/etc/kubernetes/scheduler.conf'), 'root:kubeadm-ks 0640');
    assert.equal(desiredOf(p, '/var/lib/etcd'), undefined, 'what etcd writes stays etcd\'s');
  });
});

describe('only regular files and directories are granted', () => {
  const cases: Array<[string, 'block-device' | 'char-device' | 'fifo' | 'socket', RegExp]> = [
    ['/etc/kubernetes/pki/apiserver.key', 'char-device', /character device/],
    ['/etc/kubernetes/scheduler.conf', 'fifo', /FIFO/],
    ['/etc/kubernetes/pki/etcd/peer.key', 'block-device', /block device/],
    ['/etc/kubernetes/pki/sa.pub', 'socket', /socket/],
  ];
  for (const [path, type, words] of cases) {
    it(`a ${type} at ${path} is a blocking problem naming its type`, () => {
      const node = fixtureNode('v1.32-rhel-stacked');
      node.paths[path] = { type, uid: 0, gid: 0, mode: 0o600, size: 0 };
      const p = planOf(node);
      const problem = p.problems.find((x) => x.path === path);
      assert.equal(problem?.code, 'not-a-regular-file', JSON.stringify(p.problems));
      assert.match(problem.message, words);
      assert.ok(!p.files.some((f) => f.path === path));
    });
  }

  it('discovery reports devices and FIFOs by type (mknod in the sandbox)', { skip: skipOrFail(process.getuid?.() !== 0 && 'mknod needs root') }, async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    try {
      execFileSync('rm', ['-f', sb.path('/etc/kubernetes/pki/apiserver.key'), sb.path('/etc/kubernetes/scheduler.conf')]);
      execFileSync('mknod', [sb.path('/etc/kubernetes/pki/apiserver.key'), 'c', '1', '3']);
      execFileSync('mkfifo', [sb.path('/etc/kubernetes/scheduler.conf')]);
      const node = await discoverNode({ root: sb.root, manifestsDir: '/etc/kubernetes/manifests' });
      assert.equal(node.paths['/etc/kubernetes/pki/apiserver.key']?.type, 'char-device');
      assert.equal(node.paths['/etc/kubernetes/scheduler.conf']?.type, 'fifo');
      const p = buildPlan(node, defaultConfig(), { now: NOW });
      assert.deepEqual(p.problems.filter((x) => x.code === 'not-a-regular-file').map((x) => x.path), ['/etc/kubernetes/pki/apiserver.key', '/etc/kubernetes/scheduler.conf']);
    } finally {
      await sb.cleanup();
    }
  });
});

describe("root's kubeconfigs are never granted", () => {
  for (const conf of ['admin.conf', 'super-admin.conf', 'kubelet.conf']) {
    it(`a manifest naming /etc/kubernetes/${conf} does not hand it over`, () => {
      const node = fixtureNode('v1.32-rhel-stacked');
      const kcm = node.manifests.find((m) => m.fileName === 'kube-controller-manager.yaml')!;
      editManifest(kcm, (t) => t.replaceAll('/etc/kubernetes/controller-manager.conf', `/etc/kubernetes/${conf}`)); // flags and the volume
      node.paths[`/etc/kubernetes/${conf}`] = { type: 'file', uid: 0, gid: 0, mode: 0o600, size: 100 };
      const p = planOf(node);
      assert.ok(!p.files.some((f) => f.path === `/etc/kubernetes/${conf}`), 'no file action');
      assert.ok(p.problems.some((x) => x.code === 'host-credential' && x.path === `/etc/kubernetes/${conf}`), JSON.stringify(p.problems));
    });
  }
});

describe('secrets are judged on the whole file', () => {
  it('a private key after 64 KiB is a secret; a file over 1 MiB counts as one unread', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    try {
      const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      const filler = '# ' + 'x'.repeat(78) + '\n';
      // ca.crt is named by CA flags (public by flag); the key hides after 70 KiB of comment lines.
      await writeFile(sb.path('/etc/kubernetes/pki/ca.crt'), cert + filler.repeat(900) + '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
      await writeFile(sb.path('/etc/kubernetes/pki/front-proxy-ca.crt'), cert + filler.repeat(14000), { mode: 0o600 });
      const node = await discoverNode({ root: sb.root, manifestsDir: '/etc/kubernetes/manifests' });
      assert.equal(node.contents?.['/etc/kubernetes/pki/ca.crt'], 'private-key');
      assert.equal(node.contents?.['/etc/kubernetes/pki/front-proxy-ca.crt'], 'too-large');
      const p = buildPlan(node, defaultConfig(), { now: NOW });
      for (const path of ['/etc/kubernetes/pki/ca.crt', '/etc/kubernetes/pki/front-proxy-ca.crt']) {
        const f = p.files.find((x) => x.path === path);
        assert.ok(f, `${path} is granted to its readers`);
        assert.equal(f.secret, true, path);
        assert.equal(f.desired.mode & 0o007, 0, `${path} gets no world bit: ${formatMode(f.desired.mode)}`);
      }
    } finally {
      await sb.cleanup();
    }
  });
});

describe('allow, do not deny: read grants outside the Kubernetes trees need the config', () => {
  const kubesprayKey = () => kubesprayKeyNode(0o755);

  it('a key outside /etc/kubernetes and the PKI dirs is refused, naming the config key that allows it', () => {
    const p = planOf(kubesprayKey());
    assert.deepEqual(p.problems.map((x) => [x.code, x.path]), [['path-not-allowed', '/etc/ssl/etcd/ssl/node-cp1-key.pem']]);
    assert.match(p.problems[0]!.fix!, /allowPaths: \[\/etc\/ssl\/etcd\/ssl\/node-cp1-key\.pem\]/);
    assert.ok(!p.files.some((f) => f.path === '/etc/ssl/etcd/ssl/node-cp1-key.pem'));
  });

  it('listed in the config (the file or a directory holding it), it is granted as any read', () => {
    for (const allowed of ['/etc/ssl/etcd/ssl/node-cp1-key.pem', '/etc/ssl/etcd']) {
      const config = defaultConfig();
      config.allowPaths = [allowed];
      const p = buildPlan(kubesprayKey(), config, { now: NOW });
      assert.deepEqual(p.problems, [], allowed);
      assert.equal(desiredOf(p, '/etc/ssl/etcd/ssl/node-cp1-key.pem'), 'root:kubeadm-kas 0640', allowed);
    }
  });

  it('a custom certificatesDir (where kubeadm\'s CA files are) is a Kubernetes PKI dir: allowed', () => {
    const p = planOf(fixtureNode('v1.20-minikube-certsdir-port8443'));
    assert.deepEqual(p.problems, []);
    assert.equal(desiredOf(p, '/var/lib/minikube/certs/apiserver.key'), 'root:kubeadm-kas 0640');
  });
});

describe('executables are never granted for writing', () => {
  it('a written single file with an execute bit is refused', () => {
    const node = fixtureNode('v1.29-audit-encryption');
    const kas = node.manifests.find((m) => m.fileName === 'kube-apiserver.yaml')!;
    editManifest(kas, (t) => t.replace(/path: \/var\/log\/kubernetes\/audit\n      type: DirectoryOrCreate/, 'path: /var/log/kubernetes/audit/audit.log\n      type: FileOrCreate').replace('- mountPath: /var/log/kubernetes/audit\n', '- mountPath: /var/log/kubernetes/audit/audit.log\n'));
    node.paths['/var/log/kubernetes/audit'] = { type: 'dir', uid: 0, gid: 0, mode: 0o755, size: 1 };
    node.paths['/var/log/kubernetes/audit/audit.log'] = { type: 'file', uid: 0, gid: 0, mode: 0o755, size: 1 };
    const p = planOf(node);
    assert.deepEqual(p.problems.map((x) => [x.code, x.path]), [['executable-write', '/var/log/kubernetes/audit/audit.log']]);
    assert.ok(!p.files.some((f) => f.path === '/var/log/kubernetes/audit/audit.log'));
  });

  for (const dir of ['/opt/cni/bin', '/usr/libexec/kubernetes/kubelet-plugins/volume/exec', '/usr/local/bin']) {
    it(`a data dir at ${dir} (programs root runs) is never handed over`, () => {
      const node = fixtureNode('v1.32-rhel-stacked');
      const etcd = node.manifests.find((m) => m.fileName === 'etcd.yaml')!;
      editManifest(etcd, (t) => t.replace('      path: /var/lib/etcd\n', `      path: ${dir}\n`));
      node.paths[dir] = { type: 'dir', uid: 0, gid: 0, mode: 0o755, size: 4096 };
      node.trees[dir] = { entries: 2, owners: [{ uid: 0, gid: 0, count: 2 }] };
      const p = planOf(node);
      assert.ok(p.problems.some((x) => x.code === 'not-dedicated' && x.path === dir), JSON.stringify(p.problems));
      assert.ok(!p.files.some((f) => f.path === dir));
    });
  }
});
