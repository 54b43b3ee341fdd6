// The planning-side rules of docs/ownership.md "The threat model", one by one: which paths may be handed
// to a component, which are host credentials, which contents are secrets, which IDs and groups are root
// in disguise. Expected answers are written from the rule's text in the docs, not from the code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unreadableLines } from '../../src/discover/accounts.js';
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { classifyContent, readSample } from '../../src/discover/content.js';
import { discoverNode } from '../../src/discover/discover.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';
import type { FileAccess } from '../../src/model/access.types.js';
import { defaultConfig } from '../../src/plan/config.js';
import { allocate, planIdentities, privilegedGroup } from '../../src/plan/identities.js';
import { groupUses, handoverRefusal, hostCredential, pkiDirs, type HandoverContext } from '../../src/plan/ownership.js';
import { buildRevertPlan } from '../../src/plan/revert.js';
import { editManifest, fixtureNode } from '../support/fixture-node.js';
import { group, nodeState, passwd } from '../support/node-state.js';

const KUBEADM_USES: HandoverContext['used'] = [
  { path: '/etc/kubernetes/pki/ca.crt', component: 'kube-apiserver' },
  { path: '/etc/kubernetes/pki/etcd/ca.crt', component: 'etcd' },
  { path: '/var/lib/minikube/certs/ca.crt', component: 'kube-apiserver' },
  { path: '/srv/shared/kas/audit-policy.yaml', component: 'kube-apiserver' },
  { path: '/var/lib/etcd', component: 'etcd' },
];
const ctx: HandoverContext = { manifestsDir: '/etc/kubernetes/manifests', used: KUBEADM_USES };

describe('handoverRefusal: only a directory dedicated to the component', () => {
  const refused: Array<[string, RegExp]> = [
    ['/', /root directory/],
    ['/var', /holds the system directory \/var\/lib|shared/],
    ['/var/lib', /system directory shared/],
    ['/var/log', /system directory shared/],
    ['/etc/kubernetes/manifests', /lies in \/etc/],
    ['/etc/kubernetes/pki', /lies in \/etc/],
    ['/etc/ssh', /lies in \/etc/],
    ['/usr/bin', /lies in \/usr/],
    ['/usr/local/etcd', /lies in \/usr/],
    ['/lib64/x', /lies in \/lib64/],
    ['/libexec-k8s', /lies in \/libexec-k8s/],
    ['/boot/etcd', /lies in \/boot/],
    ['/root/etcd-restore', /lies in \/root/],
    ['/home/alice/etcd', /lies in \/home/],
    ['/run/etcd', /lies in \/run/],
    ['/var/run/etcd', /lies in \/var\/run/],
    ['/var/lib/kubelet', /kubelet's state/],
    ['/var/lib/kubelet/pods/etcd', /kubelet's state/],
    ['/var/lib/containerd', /runtime's state/],
    ['/var/lib/docker', /runtime's state/],
    ['/var/lib/cri-o', /runtime's state/],
    ['/var/lib/kubeadm-nonroot', /kubeadm-nonroot's own state/],
    ['/var/lib/kubeadm-nonroot/backups', /kubeadm-nonroot's own state/],
    ['/var/lib/minikube', /holds \/var\/lib\/minikube\/certs: a Kubernetes PKI dir/],
    ['/var/lib/minikube/certs', /is \/var\/lib\/minikube\/certs/],
    ['/srv/shared', /holds \/srv\/shared\/kas\/audit-policy.yaml, which kube-apiserver uses/],
  ];
  for (const [path, why] of refused) {
    it(`refuses ${path}`, () => {
      const r = handoverRefusal(path, 'etcd', ctx, {});
      assert.ok(r !== null, `${path} must be refused`);
      assert.match(r, why);
    });
  }

  for (const path of ['/var/lib/etcd', '/var/lib/etcd-old-copy', '/var/lib/minikube/etcd', '/var/log/kubernetes/audit', '/data/etcd', '/srv/etcd']) {
    it(`hands over the dedicated ${path}`, () => {
      assert.equal(handoverRefusal(path, path.includes('audit') ? 'kube-apiserver' : 'etcd', ctx, { tree: { entries: 3, owners: [{ uid: 0, gid: 0, count: 3 }] } }), null);
    });
  }

  it('refuses a dedicated-looking tree that holds setuid/setgid files, and a setuid single file', () => {
    assert.match(handoverRefusal('/var/lib/etcd', 'etcd', ctx, { tree: { entries: 3, owners: [], setid: 2 } })!, /2 setuid\/setgid/);
    assert.match(handoverRefusal('/var/log/k8s/audit.log', 'kube-apiserver', ctx, { stat: { type: 'file', uid: 0, gid: 0, mode: 0o4755, size: 1 } })!, /setuid\/setgid file/);
  });

  it('finds the PKI dirs from kubeadm CA names (etcd/ca.crt counts for its parent)', () => {
    assert.deepEqual(pkiDirs(KUBEADM_USES), ['/etc/kubernetes/pki', '/var/lib/minikube/certs']);
  });
});

describe('hostCredential', () => {
  for (const p of ['/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/sudoers.d/admins', '/etc/ssh/ssh_host_ed25519_key', '/root/.ssh/id_rsa', '/home/alice/.ssh/id_ed25519', '/var/lib/kubelet/pki/kubelet-client-current.pem', '/etc/kubernetes/kubelet.conf']) {
    it(`${p} is a host credential`, () => assert.ok(hostCredential(p)));
  }
  for (const p of ['/etc/kubernetes/pki/ca.key', '/etc/ssl/etcd/ssl/node-key.pem', '/home/alice/notes', '/etc/shadowsocks.json']) {
    it(`${p} is not`, () => assert.equal(hostCredential(p), null));
  }
});

describe('classifyContent', () => {
  const cases: Array<[string, string, string | null]> = [
    ['RSA key', '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n', 'private-key'],
    ['PKCS#8 key after a certificate', '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n', 'private-key'],
    ['OpenSSH key', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n', 'private-key'],
    ['certificate only', '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n', null],
    ['public key', '-----BEGIN PUBLIC KEY-----\nMII\n-----END PUBLIC KEY-----\n', null],
    ['kubeconfig with client-key-data', 'apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-certificate-data: AAA\n    client-key-data: BBB\n', 'kubeconfig-credentials'],
    ['kubeconfig with a token, JSON', '{"apiVersion":"v1","kind":"Config","users":[{"name":"w","user":{"token":"abc"}}]}', 'kubeconfig-credentials'],
    ['kubeconfig naming a client-key file', 'clusters:\n- cluster: {server: "https://x"}\nusers:\n- name: u\n  user:\n    client-key: /etc/kubernetes/pki/x.key\n', 'kubeconfig-credentials'],
    ['kubeconfig with exec only', 'users:\n- name: u\n  user:\n    exec:\n      command: get-token\n', null],
    ['kubeconfig with an empty token', 'users:\n- name: u\n  user:\n    token: ""\n', null],
    ['EncryptionConfiguration', 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: []\n', 'encryption-config'],
    ['EncryptionConfig (before v1.13)', 'kind: EncryptionConfig\napiVersion: v1\n', 'encryption-config'],
    ['audit policy', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  users: ["system:kube-proxy"]\n', null],
  ];
  for (const [name, text, want] of cases) it(`${name}: ${want ?? 'not a secret'}`, () => assert.equal(classifyContent(text), want));
});

describe('groupUses: content and normalisation', () => {
  const a = (hostPath: string, over: Partial<FileAccess> = {}): FileAccess => ({ component: 'kube-apiserver', flag: '--client-ca-file', containerPath: hostPath, hostPath, volume: 'v', access: 'read', target: 'file', secret: false, ...over });
  it('a public-by-flag file with secret content is a secret', () => {
    const [u] = groupUses([a('/etc/kubernetes/pki/super-admin.conf')], { '/etc/kubernetes/pki/super-admin.conf': 'kubeconfig-credentials' });
    assert.equal(u!.secret, true);
    assert.equal(u!.content, 'kubeconfig-credentials');
  });
  it('"/var/lib/.", "/var/lib/" and "/var//lib" are one use of /var/lib', () => {
    const uses = groupUses([a('/var/lib/.', { access: 'write', target: 'dir', flag: '--data-dir', component: 'etcd' }), a('/var/lib/'), a('/var//lib')]);
    assert.deepEqual(uses.map((u) => [u.path, u.access]), [['/var/lib', 'write']]);
  });
});

describe('IDs that are root in disguise', () => {
  it('allocate() never hands out 0, whatever the range', () => {
    assert.deepEqual(allocate(new Set(), 0, 10, 2), [1, 2]);
    assert.equal(allocate(new Set(), 0, 0, 1), null);
  });

  it('SYS_GID_MIN 0 with no root line in /etc/group: no GID 0 for any group', () => {
    const node = nodeState({ group: group('daemon:x:1:'), loginDefs: { sysUidMin: 0, sysUidMax: 999, sysGidMin: 0, sysGidMax: 999, uidMin: 1000 }, passwd: passwd('daemon:x:1:1::/:/usr/sbin/nologin') });
    const plan = planIdentities(node, defaultConfig(), ['etcd', 'kube-apiserver'], []);
    assert.deepEqual(plan.problems, []);
    assert.ok(plan.identities.every((i) => i.uid !== 0 && i.gid !== 0), JSON.stringify(plan.identities));
  });

  it('an existing user with primary GID 0 and no group line is never given a group of GID 0', () => {
    const node = nodeState({ passwd: passwd('kubeadm-etcd:x:150:0::/:/bin/false'), group: group('daemon:x:1:') });
    const plan = planIdentities(node, defaultConfig(), ['etcd'], []);
    assert.ok(plan.accounts.every((a) => a.gid !== 0), JSON.stringify(plan.accounts));
    assert.deepEqual(plan.problems.map((p) => p.code), ['account-privileged-group']);
  });

  it('refuses reuse of a user in a privileged supplementary group (docker)', () => {
    const node = nodeState({ passwd: passwd('root:x:0:0::/root:/bin/bash\nkubeadm-etcd:x:150:150::/:/bin/false'), group: group('root:x:0:\ndocker:x:998:kubeadm-etcd\nkubeadm-etcd:x:150:kubeadm-etcd') });
    const plan = planIdentities(node, defaultConfig(), ['etcd'], []);
    assert.deepEqual(plan.problems.map((p) => p.code), ['account-privileged-group']);
    assert.match(plan.problems[0]!.message, /docker \(controls the Docker daemon/);
    assert.match(plan.problems[0]!.fix!, /gpasswd -d kubeadm-etcd docker/);
  });

  it('refuses a privileged group named as a component group or reader group', () => {
    const config = defaultConfig();
    config.accounts.etcd = { group: 'disk' };
    config.saKeyReaders = { group: 'adm' };
    const node = nodeState({ group: group('root:x:0:\ndisk:x:6:\nadm:x:4:') });
    const plan = planIdentities(node, config, ['etcd', 'kube-apiserver', 'kube-controller-manager'], [{ name: 'adm', members: ['kube-apiserver', 'kube-controller-manager'], saKey: true }]);
    assert.deepEqual(plan.problems.map((p) => [p.code, p.message.split(' ')[1]]), [['account-privileged-group', 'disk'], ['account-privileged-group', 'adm']]);
  });

  it('privilegedGroup: by name or GID 0; ordinary groups pass', () => {
    assert.ok(privilegedGroup('shadow', 42));
    assert.ok(privilegedGroup('anything', 0));
    assert.equal(privilegedGroup('daemon', 1), null);
    assert.equal(privilegedGroup('kubeadm-etcd', 150), null);
    assert.equal(privilegedGroup('constructor', 150), null);
  });
});

describe('broken account lines', () => {
  it('lists wrong field counts and non-numeric IDs with 0-based lines, never comments or NIS lines', () => {
    const text = 'root:x:0:0:root:/root\n# comment\n+::::::\nok:x:1:1::/:/bin/false\nbad:x:one:1::/:/bin/false\n';
    assert.deepEqual(unreadableLines(text, '/etc/passwd', 'passwd').map((l) => [l.line, l.name]), [[0, 'root'], [4, 'bad']]);
    assert.deepEqual(unreadableLines('root:x:0\nwheel:x:10:\n', '/etc/group', 'group').map((l) => [l.line, l.name]), [[0, 'root']]);
  });

  it('a broken line about root or a planned account is a blocking problem naming file and line; others are not', () => {
    const node = nodeState({ unreadableAccountLines: [{ path: '/etc/passwd', line: 0, name: 'root', why: '6 fields where 7 are expected' }, { path: '/etc/group', line: 7, name: 'games', why: 'x' }] });
    const plan = planIdentities(node, defaultConfig(), ['etcd'], []);
    assert.deepEqual(plan.problems.map((p) => [p.code, p.path]), [['account-line-unreadable', '/etc/passwd']]);
    assert.match(plan.problems[0]!.message, /line 1 of \/etc\/passwd is about root/);
  });
});

describe('revert never "restores" what migrate never hands over', () => {
  it('/etc/shadow named by --audit-policy-file and /usr/bin named as the data dir are left alone; secret content stays 0600', () => {
    const node = fixtureNode('v1.31-ubuntu-stacked-kube-vip');
    const kas = node.manifests.find((m) => m.fileName === 'kube-apiserver.yaml')!;
    editManifest(kas, (t) => t.replace('    - --allow-privileged=true\n', '    - --allow-privileged=true\n    - --audit-policy-file=/etc/shadow\n').replace('    volumeMounts:\n', '    volumeMounts:\n    - mountPath: /etc/shadow\n      name: shadow\n').replace('  volumes:\n', '  volumes:\n  - hostPath:\n      path: /etc/shadow\n      type: File\n    name: shadow\n'));
    const etcd = node.manifests.find((m) => m.fileName === 'etcd.yaml')!;
    editManifest(etcd, (t) => t.replace('      path: /var/lib/etcd\n', '      path: /usr/bin\n'));
    node.paths['/etc/shadow'] = { type: 'file', uid: 0, gid: 42, mode: 0o640, size: 100 };
    node.paths['/usr/bin'] = { type: 'dir', uid: 0, gid: 0, mode: 0o755, size: 4096 };
    node.trees['/usr/bin'] = { entries: 2, owners: [{ uid: 0, gid: 0, count: 2 }], setid: 1 };
    // a CA-flagged file that is really a key, owned by its reader after a migration
    node.paths['/etc/kubernetes/pki/front-proxy-ca.crt'] = { type: 'file', uid: 101, gid: 101, mode: 0o600, size: 100 };
    node.contents = { '/etc/kubernetes/pki/front-proxy-ca.crt': 'private-key' };
    const revert = buildRevertPlan(node, defaultConfig(), { now: new Date(0) });
    const paths = revert.files.map((f) => f.path);
    assert.ok(!paths.includes('/etc/shadow'), paths.join(' '));
    assert.ok(!paths.includes('/usr/bin'), paths.join(' '));
    assert.equal(revert.files.find((f) => f.path === '/etc/kubernetes/pki/front-proxy-ca.crt')?.desired.mode, 0o600);
  });
});

describe('discovery classifies what the components read by content', () => {
  it('keys and kubeconfigs with credentials are secrets, certificates are not; a FIFO at a key path does not hang', async () => {
    const sb = await buildSandbox({ fixture: 'v1.31-ubuntu-stacked-kube-vip' });
    try {
      const node = await discoverNode({ root: sb.root, manifestsDir: '/etc/kubernetes/manifests' });
      assert.equal(node.contents?.['/etc/kubernetes/pki/apiserver.key'], 'private-key');
      assert.equal(node.contents?.['/etc/kubernetes/pki/sa.key'], 'private-key');
      assert.equal(node.contents?.['/etc/kubernetes/controller-manager.conf'], 'kubeconfig-credentials');
      assert.equal(node.contents?.['/etc/kubernetes/pki/ca.crt'], undefined);
      assert.equal(node.contents?.['/etc/kubernetes/pki/sa.pub'], undefined);
      execFileSync('mkfifo', [sb.path('/etc/kubernetes/pki/fifo.key')]);
      assert.equal(readSample(sb.root, '/etc/kubernetes/pki/fifo.key'), null, 'opened without blocking, nothing read');
    } finally {
      await rm(sb.root, { recursive: true, force: true });
    }
  });
});
