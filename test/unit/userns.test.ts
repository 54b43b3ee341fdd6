// The user-namespace mode: its config key and flag, and the prerequisite judgement on hand-built facts.
// Expected values are upstream's, not the tool's: gate names and defaults from kubernetes
// pkg/features/kube_features.go (UserNamespacesSupport beta off v1.30–v1.32, on from v1.33;
// UserNamespacesHostNetworkSupport alpha and off from v1.35, KEP-5607), Go's strconv.ParseBool for gate
// values, statfs magic numbers from include/uapi/linux/magic.h, idmapped-mount releases per filesystem
// from the kernel's history (ext4/xfs 5.12, btrfs 5.15, tmpfs 6.3; never an overlay mount itself).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configDifferences, defaultConfig, parseConfig, withUserNamespaceFlag } from '../../src/plan/config.js';
import { parseFeatureGatesFlag, type UserNamespaceFacts } from '../../src/model/userns.js';
import { gateDefault, kernelVersion, userNamespacePrerequisites, type UsernsComponent } from '../../src/plan/userns.js';
import { parsePod } from '../../src/model/pod.js';
import { removeSecurity } from '../../src/plan/manifest-edit.js';
import { manifestEdits } from '../../src/plan/manifest-undo.js';
import { buildPlan } from '../../src/plan/plan.js';
import { renderPlanHuman } from '../../src/render/plan-human.js';
import { makeStyle } from '../../src/render/style.js';
import { fixtureNode } from '../support/fixture-node.js';

const P = '/etc/kubeadm-nonroot/config.yaml';

describe('userNamespaces: config and flag', () => {
  it('the config key takes the three modes; off (also YAML 1.1\'s bare off, false) is the default, not stored', () => {
    assert.equal(parseConfig('userNamespaces: with-accounts\n', P).userNamespaces, 'with-accounts');
    assert.equal(parseConfig('userNamespaces: only\n', P).userNamespaces, 'only');
    assert.deepEqual(parseConfig('userNamespaces: off\n', P), defaultConfig());
    assert.deepEqual(parseConfig('userNamespaces: "off"\n', P), defaultConfig());
    assert.deepEqual(parseConfig('{}\n', P), defaultConfig());
  });

  it('anything else is refused naming the file, the key and the choices', () => {
    for (const bad of ['yes', 'on', 'true', 'userns', '[only]']) {
      assert.throws(() => parseConfig(`userNamespaces: ${bad}\n`, P), (e: Error) => e.name === 'InputError' && e.message.startsWith(`${P}: userNamespaces must be one of off, with-accounts, only`));
    }
  });

  it('--user-namespaces wins over the config, off included; absent, the config stays', () => {
    const config = parseConfig('userNamespaces: only\n', P);
    assert.equal(withUserNamespaceFlag(config, 'with-accounts').userNamespaces, 'with-accounts');
    assert.equal(withUserNamespaceFlag(config, 'off').userNamespaces, undefined);
    assert.equal(withUserNamespaceFlag(config, undefined), config);
    assert.throws(() => withUserNamespaceFlag(config, 'all'), /--user-namespaces must be one of off, with-accounts, only, not "all"/);
  });

  it('a mode that differs from the record\'s is a config difference', () => {
    assert.deepEqual(configDifferences(defaultConfig(), { ...defaultConfig(), userNamespaces: 'only' }), ['userNamespaces: off → only']);
    assert.deepEqual(configDifferences(defaultConfig(), defaultConfig()), []);
  });
});

describe('userNamespaces: feature gates', () => {
  it('--feature-gates values as component-base reads them (strconv.ParseBool)', () => {
    assert.deepEqual(parseFeatureGatesFlag('A=true,B=False, C=0,D=T'), { A: true, B: false, C: false, D: true });
    assert.match(parseFeatureGatesFlag('A=yes') as string, /"A=yes" is not name=true or name=false/);
    assert.match(parseFeatureGatesFlag('A') as string, /"A"/);
  });

  it('defaults per release', () => {
    assert.equal(gateDefault('UserNamespacesSupport', '1.32.13'), false);
    assert.equal(gateDefault('UserNamespacesSupport', '1.33.0'), true);
    assert.equal(gateDefault('UserNamespacesSupport', null), false);
    for (const v of ['1.35.4', '1.36.3', '1.37.2']) assert.equal(gateDefault('UserNamespacesHostNetworkSupport', v), false);
  });
});

const APISERVER = `apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
spec:
  hostNetwork: true
  containers:
  - name: kube-apiserver
    image: registry.k8s.io/kube-apiserver:v1.36.3
    command:
    - kube-apiserver
    - --secure-port=6443
    - --feature-gates=UserNamespacesHostNetworkSupport=true
    volumeMounts:
    - name: k8s-certs
      mountPath: /etc/kubernetes/pki
  volumes:
  - name: k8s-certs
    hostPath:
      path: /etc/kubernetes/pki
`;

function component(text = APISERVER): UsernsComponent {
  return { component: 'kube-apiserver', path: '/etc/kubernetes/manifests/kube-apiserver.yaml', pod: parsePod(text, 'kube-apiserver.yaml') };
}

function facts(change: Partial<UserNamespaceFacts> = {}): UserNamespaceFacts {
  return {
    kubeletConfig: { path: '/var/lib/kubelet/config.yaml', gates: { UserNamespacesHostNetworkSupport: true } },
    kubeletFlags: [{ path: '/var/lib/kubelet/kubeadm-flags.env', gates: {} }, { path: '/etc/default/kubelet', gates: null }],
    kernelRelease: '6.8.0-45-generic',
    unprivilegedPortStart: 1024,
    proc: '/proc',
    filesystems: [
      { path: '/etc/kubernetes/pki', usedBy: 'kube-apiserver.yaml volume k8s-certs', statted: '/etc/kubernetes/pki', magic: 0xef53 },
      { path: '/var/lib/kubelet', usedBy: 'the kubelet', statted: '/var/lib/kubelet', magic: 0x58465342 },
    ],
    runtime: { known: true, source: 'node.json', handlers: [{ name: '', userNamespaces: true }] },
    ...change,
  };
}

const codes = (f: UserNamespaceFacts, version = '1.36.3', text?: string) =>
  userNamespacePrerequisites({ mode: 'with-accounts', facts: f, components: [component(text)], kubernetesVersion: version }).map((p) => p.code);

describe('userNamespaces: prerequisites', () => {
  it('all in place: no problem; mode off judges nothing', () => {
    assert.deepEqual(codes(facts()), []);
    assert.deepEqual(userNamespacePrerequisites({ mode: 'off', facts: facts({ kernelRelease: null }), components: [], kubernetesVersion: null }), []);
  });

  it('before v1.35 hostNetwork pods cannot have user namespaces at all', () => {
    assert.deepEqual(codes(facts(), '1.34.4'), ['userns-kubernetes-version']);
  });

  it('UserNamespacesSupport is on by default from v1.33, so not asked for; an unknown version needs both explicitly', () => {
    assert.deepEqual(codes(facts(), '1.35.0'), []);
    const none = userNamespacePrerequisites({ mode: 'only', facts: facts(), components: [component()], kubernetesVersion: null });
    assert.deepEqual(none.map((p) => `${p.code} ${/UserNamespaces\w+/.exec(p.message)?.[0]}`), ['userns-kubelet-gate UserNamespacesSupport', 'userns-apiserver-gate UserNamespacesSupport']);
  });

  it('the kubelet: a flag wins over the config file', () => {
    assert.deepEqual(codes(facts({ kubeletFlags: [{ path: '/var/lib/kubelet/kubeadm-flags.env', gates: { UserNamespacesHostNetworkSupport: false } }] })), ['userns-kubelet-gate']);
    assert.deepEqual(codes(facts({ kubeletConfig: { path: '/var/lib/kubelet/config.yaml', gates: {} }, kubeletFlags: [{ path: '/etc/default/kubelet', gates: { UserNamespacesHostNetworkSupport: true } }] })), []);
    assert.deepEqual(codes(facts({ kubeletConfig: { path: '/var/lib/kubelet/config.yaml', gates: null, unreadable: 'invalid YAML' } })), ['userns-kubelet-gates-unreadable']);
  });

  it('kube-apiserver: the last --feature-gates naming a gate wins; an unparsable one is named', () => {
    const off = APISERVER.replace('    - --feature-gates=UserNamespacesHostNetworkSupport=true\n', '    - --feature-gates=UserNamespacesHostNetworkSupport=true\n    - --feature-gates=UserNamespacesHostNetworkSupport=false\n');
    assert.deepEqual(codes(facts(), '1.36.3', off), ['userns-apiserver-gate']);
    assert.deepEqual(codes(facts(), '1.36.3', APISERVER.replace('=true', '=on')), ['userns-apiserver-gates-unreadable']);
  });

  it('the runtime: advertised on the default handler only counts', () => {
    assert.deepEqual(codes(facts({ runtime: { known: true, source: 'x', handlers: [{ name: 'runc', userNamespaces: true }] } })), ['userns-runtime']);
    assert.deepEqual(codes(facts({ runtime: { known: false, source: 'x', reason: 'connection refused' } })), ['userns-runtime-unknown']);
  });

  it('filesystems: an allow-list by kernel release', () => {
    const fs = (magic: number | null) => facts({ filesystems: [{ path: '/srv/x', usedBy: 'v', statted: '/srv/x', magic }] });
    assert.deepEqual(codes(fs(0x6969)), ['userns-idmap-filesystem'], 'nfs is not on the list');
    assert.deepEqual(codes(fs(null)), ['userns-idmap-filesystem']);
    assert.deepEqual(codes({ ...fs(0x01021994), kernelRelease: '6.2.16' }), ['userns-idmap-filesystem'], 'tmpfs from 6.3');
    assert.deepEqual(codes({ ...fs(0x01021994), kernelRelease: '6.3.0' }), []);
    assert.deepEqual(codes({ ...fs(0x9123683e), kernelRelease: '5.14.21' }), ['userns-idmap-filesystem'], 'btrfs from 5.15');
    assert.deepEqual(codes({ ...fs(0x794c7630), kernelRelease: '6.18.0' }), ['userns-idmap-filesystem'], 'an overlay mount is never idmappable (only its layers are)');
    assert.deepEqual(codes({ ...fs(0xef53), kernelRelease: '5.11.22' }), ['userns-idmap-filesystem'], 'ext4 from 5.12');
    assert.deepEqual(kernelVersion('6.18.44-fc-v1272'), [6, 18]);
    assert.deepEqual(codes(facts({ kernelRelease: 'linux' })), ['userns-kernel-unknown']);
  });

  it('ports below ip_unprivileged_port_start, the kube-apiserver on 443 above all', () => {
    assert.deepEqual(codes(facts(), '1.36.3', APISERVER.replace('--secure-port=6443', '--secure-port=443')), ['userns-privileged-port']);
    assert.deepEqual(codes(facts({ unprivilegedPortStart: 0 }), '1.36.3', APISERVER.replace('--secure-port=6443', '--secure-port=443')), []);
    assert.deepEqual(codes(facts({ unprivilegedPortStart: null })), ['userns-port-start-unknown']);
  });
});

describe('userNamespaces: hostUsers is one of the tool\'s fields', () => {
  const plain = makeStyle(false);

  it('with-accounts: each manifest edit adds hostUsers: false to the securityContext edits; the record sees the field', () => {
    const node = fixtureNode('v1.32-rhel-stacked');
    const plan = buildPlan(node, { ...defaultConfig(), userNamespaces: 'with-accounts' }, { now: new Date(0) });
    assert.equal(plan.userNamespaces, 'with-accounts');
    for (const m of plan.manifests) {
      assert.ok(m.changes.includes('pod hostUsers: false'), m.changes.join('\n'));
      assert.ok(m.changes.some((c) => c.startsWith('pod securityContext.runAsUser')), m.component);
      const before = node.manifests.find((x) => x.path === m.path)!.text;
      assert.deepEqual(manifestEdits(before, m.after, m.component, m.path).filter((f) => f.field.join('.') === 'spec.hostUsers').map(({ field, before: was, after }) => ({ field, before: was, after })), [{ field: ['spec', 'hostUsers'], before: undefined, after: false }]);
    }
    assert.match(renderPlanHuman(plan, plain), /User namespaces: with-accounts/);
  });

  it('only: no account, no file, hostUsers: false alone', () => {
    const plan = buildPlan(fixtureNode('v1.32-rhel-stacked'), { ...defaultConfig(), userNamespaces: 'only' }, { now: new Date(0) });
    assert.deepEqual([plan.accounts, plan.files, plan.problems], [[], [], []]);
    assert.deepEqual(plan.manifests.map((m) => m.changes), Array(4).fill(['pod hostUsers: false']));
    assert.ok(plan.components.every((c) => c.identity === null && c.migrate));
    assert.match(renderPlanHuman(plan, plain), /etcd\s+runs as its image's user \(root\) in a user namespace of its own/);
  });

  it('only: the plan judges an upgrade target and warns of an absent selected component, as every plan does', () => {
    const node = fixtureNode('v1.32-rhel-stacked');
    const plan = buildPlan(node, { ...defaultConfig(), userNamespaces: 'only' }, { now: new Date(0), targetVersion: '1.33.0' });
    assert.equal(plan.target?.version, '1.33.0');
    const withoutScheduler = { ...node, manifests: node.manifests.filter((m) => !m.path.endsWith('kube-scheduler.yaml')) };
    const partial = buildPlan(withoutScheduler, { ...defaultConfig(), userNamespaces: 'only', components: ['etcd', 'kube-scheduler'] }, { now: new Date(0) });
    assert.deepEqual(partial.warnings.filter((w) => w.code === 'component-absent').map((w) => w.message), ['kube-scheduler was selected in the config but has no kubeadm manifest on this node']);
  });

  it('revert removes hostUsers with the rest (kubeadm never writes it)', () => {
    const plan = buildPlan(fixtureNode('v1.32-rhel-stacked'), { ...defaultConfig(), userNamespaces: 'with-accounts' }, { now: new Date(0) });
    const back = removeSecurity(plan.manifests[0]!.after, { keepSeccompField: true, removeSeccompAnnotation: false });
    assert.ok(back.changes.includes('pod hostUsers: removed (was false)'), back.changes.join('\n'));
    assert.doesNotMatch(back.text, /hostUsers/);
  });
});
