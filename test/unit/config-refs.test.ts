// Files named inside kubeconfigs and component configs are accesses too (review finding: a webhook
// kubeconfig's client-key stayed root 0600 and kube-apiserver would not start after the migration).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configRefs, expandConfigAccesses } from '../../src/model/config-refs.js';
import { analyzeAccess } from '../../src/model/access.js';
import { parsePod } from '../../src/model/pod.js';
import { defaultConfig } from '../../src/plan/config.js';
import { buildPlan } from '../../src/plan/plan.js';
import { fixtureNode } from '../support/fixture-node.js';

const WEBHOOK_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: authn
  cluster:
    certificate-authority: /etc/kubernetes/webhooks/ca.crt
    server: https://authn.example:8443/authenticate
users:
- name: kube-apiserver
  user:
    client-certificate: /etc/kubernetes/webhooks/client.crt
    client-key: /etc/kubernetes/webhooks/client.key
contexts:
- name: webhook
  context: {cluster: authn, user: kube-apiserver}
current-context: webhook
`;

describe('files named inside config files', () => {
  it('configRefs finds absolute paths and unix sockets, not URLs or embedded data', () => {
    assert.deepEqual(configRefs(WEBHOOK_KUBECONFIG).map((r) => `${r.key}=${r.path}`), [
      'certificate-authority=/etc/kubernetes/webhooks/ca.crt',
      'client-certificate=/etc/kubernetes/webhooks/client.crt',
      'client-key=/etc/kubernetes/webhooks/client.key',
    ]);
    const enc = 'kind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - kms:\n      name: vault\n      endpoint: unix:///var/run/k8s-kms-plugin/socket.sock\n  - identity: {}\n';
    assert.deepEqual(configRefs(enc), [{ key: 'endpoint', path: '/var/run/k8s-kms-plugin/socket.sock', socket: true }]);
    assert.deepEqual(configRefs('client-key-data: LS0tLS1CRUdJTi...\nserver: https://x\n'), []);
    assert.deepEqual(configRefs('not: [valid'), []);
  });

  it("a kubeconfig's relative paths are relative to its own directory (client-go ResolveLocalPaths); other files' are not paths", () => {
    const relative = WEBHOOK_KUBECONFIG.replace('/etc/kubernetes/webhooks/client.key', 'client.key').replace('/etc/kubernetes/webhooks/ca.crt', '../ca/ca.crt');
    assert.deepEqual(configRefs(relative, '/etc/kubernetes/webhooks').map((r) => `${r.key}=${r.path}`), [
      'certificate-authority=/etc/kubernetes/ca/ca.crt',
      'client-certificate=/etc/kubernetes/webhooks/client.crt',
      'client-key=/etc/kubernetes/webhooks/client.key',
    ]);
    assert.deepEqual(configRefs(relative).map((r) => `${r.key}=${r.path}${r.relative ? ' (relative)' : ''}`), [
      'certificate-authority=../ca/ca.crt (relative)',
      'client-certificate=/etc/kubernetes/webhooks/client.crt',
      'client-key=client.key (relative)',
    ], 'without the directory: kept as written, marked relative (resolved where the component reads the file)');
    assert.deepEqual(configRefs('kind: AdmissionConfiguration\nclient-key: client.key\n', '/etc/x'), [], 'not a kubeconfig');
  });

  it('the plan gives the webhook client key to kube-apiserver (v1.30 webhooks case)', () => {
    const node = fixtureNode('v1.30-port443-webhooks-haproxy-keepalived');
    node.configs['/etc/kubernetes/webhooks/authn-webhook.kubeconfig'] = configRefs(WEBHOOK_KUBECONFIG);
    for (const f of ['ca.crt', 'client.crt']) node.paths[`/etc/kubernetes/webhooks/${f}`] = { type: 'file', uid: 0, gid: 0, mode: 0o644, size: 1 };
    node.paths['/etc/kubernetes/webhooks/client.key'] = { type: 'file', uid: 0, gid: 0, mode: 0o600, size: 1 };
    const plan = buildPlan(node, defaultConfig(), { now: new Date(0) });
    const key = plan.files.find((f) => f.path === '/etc/kubernetes/webhooks/client.key');
    assert.ok(key, plan.files.map((f) => f.path).join(', '));
    // read only: root's, through kube-apiserver's group (docs/ownership.md, the read-only rule)
    assert.deepEqual([key.desired.user, key.desired.group, key.desired.mode, key.secret], ['root', 'kubeadm-kas', 0o640, true]);
    assert.ok(!plan.files.some((f) => f.path.endsWith('/client.crt') || f.path.endsWith('/ca.crt')), 'readable certificates stay as they are');
  });

  it('a referenced file that does not exist blocks the plan, naming the file it was found in', () => {
    const node = fixtureNode('v1.30-port443-webhooks-haproxy-keepalived');
    node.configs['/etc/kubernetes/webhooks/authn-webhook.kubeconfig'] = configRefs(WEBHOOK_KUBECONFIG);
    const plan = buildPlan(node, defaultConfig(), { now: new Date(0) });
    const p = plan.problems.find((x) => x.path === '/etc/kubernetes/webhooks/client.key');
    assert.equal(p?.code, 'missing-file');
    assert.match(p!.message, /--authentication-token-webhook-config-file → client-key/);
  });

  it('a KMS socket is reported, never chowned', () => {
    const node = fixtureNode('v1.17-kms-encryption-apiserver-only');
    node.configs['/etc/kubernetes/apiserver-encryption.conf'] = configRefs('kind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - kms: {name: k, endpoint: "unix:///var/run/k8s-kms-plugin/socket.sock"}\n');
    const plan = buildPlan(node, defaultConfig(), { now: new Date(0) });
    assert.deepEqual(plan.warnings.map((w) => [w.code, w.path]), [['socket-reference', '/var/run/k8s-kms-plugin/socket.sock']]);
    assert.ok(!plan.files.some((f) => f.path.includes('socket')));
  });

  it('asks discovery for the followed files it has not read yet', () => {
    const node = fixtureNode('v1.30-port443-webhooks-haproxy-keepalived');
    const m = node.manifests.find((x) => x.fileName === 'kube-apiserver.yaml')!;
    const pod = parsePod(m.text, m.path);
    const ex = expandConfigAccesses(pod, 'kube-apiserver', analyzeAccess(pod, 'kube-apiserver').accesses, {});
    assert.deepEqual(ex.wanted.sort(), ['/etc/kubernetes/webhooks/authn-webhook.kubeconfig', '/etc/kubernetes/webhooks/authz-webhook.kubeconfig']);
  });
});
