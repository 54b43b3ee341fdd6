// What the kubelet reads is what the plan is for (issue 11, items 2–6): manifests the kubelet would
// reject or misread block the plan with field, line and fix; exec probes and lifecycle hooks are part
// of what a component reads; written paths inside the image block; every manifest left alone has its
// reason; shared reader groups are named after what they share. Each manifest below is a fixture
// with ONE hand edit, and each expectation is written from reading that edit (line numbers are found
// by searching the edited text, not taken from the tool).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Pod as KmPod } from 'kubernetes-models/v1/Pod';
import { parse } from 'yaml';
import { analyzeAccess, commandPathRefs } from '../../src/model/access.js';
import { parsePod } from '../../src/model/pod.js';
import { validatePodManifest } from '../../src/model/pod-schema.js';
import { defaultConfig } from '../../src/plan/config.js';
import { buildPlan } from '../../src/plan/plan.js';
import { isBlocked } from '../../src/plan/summary.js';
import type { Plan } from '../../src/plan/types.js';
import { verifyNode } from '../../src/verify/verify.js';
import { fixtureNode } from '../support/fixture-node.js';
import { FIXTURES_DIR } from '../../scripts/lib/paths.js';
import { listFixtures } from '../../scripts/lib/sandbox.js';

const NOW = new Date('2026-11-25T00:00:00Z');
const CASE = 'v1.32-rhel-stacked';
const text = (file: string, caseName = CASE) => readFileSync(join(FIXTURES_DIR, caseName, file), 'utf8');
const FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'];
const stacked = (): Record<string, string> => Object.fromEntries(FILES.map((f) => [f, text(f)]));

/** Replace exactly one occurrence (the edit must hit). */
function edit(t: string, from: string, to: string): string {
  const i = t.indexOf(from);
  assert.ok(i !== -1, `edit: ${JSON.stringify(from)} not found`);
  return t.slice(0, i) + to + t.slice(i + from.length);
}

/** 1-based line of the first line containing `needle` (after `after`, when given). */
function lineOf(t: string, needle: string, after = ''): number {
  const start = after ? t.indexOf(after) : 0;
  const i = t.indexOf(needle, start);
  assert.ok(i !== -1, `${needle} not in text`);
  return t.slice(0, i).split('\n').length;
}

function planOf(manifests: Record<string, string>): Plan {
  return buildPlan(fixtureNode(CASE, { manifests }), defaultConfig(), { now: NOW });
}

const codes = (list: Plan['problems']) => list.map((p) => p.code);

describe('item 2: the Pod schema, as the kubelet decodes and validates it', () => {
  it('finds nothing wrong in any fixture manifest', () => {
    for (const c of listFixtures()) {
      for (const f of readdirSync(join(FIXTURES_DIR, c)).filter((n) => n.endsWith('.yaml'))) assert.deepEqual(validatePodManifest(text(f, c)), [], `${c}/${f}`);
    }
  });

  it('a lower-case hostpath: is an unknown field (the kubelet would make it an emptyDir): field, line, fix', () => {
    const kas = edit(text('kube-apiserver.yaml'), '  - hostPath:\n      path: /etc/kubernetes/pki', '  - hostpath:\n      path: /etc/kubernetes/pki');
    const issues = validatePodManifest(kas);
    assert.equal(issues.length, 1, JSON.stringify(issues));
    // volumes: ca-certs, etc-pki-ca-trust, etc-pki-tls-certs, k8s-certs → the 4th volume
    assert.equal(issues[0].field, 'spec.volumes[3].hostpath');
    assert.equal(issues[0].line, lineOf(kas, '  - hostpath:'));
    assert.match(issues[0].message, /did you mean hostPath/);
    assert.match(issues[0].fix, /rename hostpath to hostPath/);
  });

  it('readOlny, a volume without a name, a mount naming no volume, and wrong types', () => {
    let kas = text('kube-apiserver.yaml');
    kas = edit(kas, '    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n      readOnly: true', '    - mountPath: /etc/kubernetes/pki\n      name: k8s-certs\n      readOlny: true');
    kas = edit(kas, '\n    name: ca-certs\n', '\n');
    kas = edit(kas, '  hostNetwork: true', '  hostNetwork: "true"');
    const fields = validatePodManifest(kas).map((i) => i.field).sort();
    assert.deepEqual(fields, [
      'spec.containers[0].volumeMounts[0].name', // ca-certs: its volume lost its name
      'spec.containers[0].volumeMounts[3].readOlny',
      'spec.hostNetwork',
      'spec.volumes[0].name',
    ]);
    const typeIssue = validatePodManifest(kas).find((i) => i.field === 'spec.hostNetwork')!;
    assert.match(typeIssue.message, /must be a boolean, not the string "true"/);
    assert.equal(typeIssue.line, lineOf(kas, '  hostNetwork: "true"'));
  });

  it('agrees with kubernetes-models (a maintained schema package) on wrong types and missing required fields', () => {
    let kas = text('kube-apiserver.yaml');
    kas = edit(kas, '\n    name: ca-certs\n', '\n');
    kas = edit(kas, '  hostNetwork: true', '  hostNetwork: "true"');
    kas = edit(kas, '    - mountPath: /etc/kubernetes/pki\n', '    - mountPath: 6443\n');
    kas = edit(kas, '      periodSeconds: 10', '      periodSeconds: ten');
    let theirs: string[] = [];
    try {
      new KmPod(parse(kas, { version: '1.1' })).validate();
    } catch (e) {
      theirs = (e as { errors: Array<{ instancePath: string; keyword: string; params: { missingProperty?: string } }> }).errors.map(
        (x) => (x.instancePath.slice(1).replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.') + (x.keyword === 'required' ? `.${x.params.missingProperty}` : '')),
      );
    }
    const ours = validatePodManifest(kas)
      .filter((i) => !/is not a field|names no volume/.test(i.message))
      .map((i) => i.field);
    assert.equal(theirs.length, 4, theirs.join(', '));
    assert.deepEqual([...ours].sort(), [...theirs].sort());
  });

  it('YAML 1.1 values are judged as the kubelet reads them (yes is a boolean, 0750 an integer)', () => {
    let kas = edit(text('kube-apiserver.yaml'), '  hostNetwork: true', '  hostNetwork: yes');
    kas = edit(kas, '  securityContext:\n    seccompProfile:', '  securityContext:\n    runAsUser: 0750\n    seccompProfile:');
    assert.deepEqual(validatePodManifest(kas), []);
    kas = edit(kas, 'runAsUser: 0750', 'runAsUser: "0750"');
    assert.deepEqual(validatePodManifest(kas).map((i) => i.field), ['spec.securityContext.runAsUser']);
  });

  it('a component manifest the kubelet would reject blocks the plan with the line and the fix', () => {
    const manifests = stacked();
    manifests['kube-apiserver.yaml'] = edit(manifests['kube-apiserver.yaml'], '  - hostPath:\n      path: /etc/kubernetes/pki', '  - hostpath:\n      path: /etc/kubernetes/pki');
    const p = planOf(manifests);
    assert.ok(isBlocked(p));
    const problem = p.problems.find((x) => x.code === 'invalid-pod-spec');
    assert.ok(problem, JSON.stringify(p.problems));
    assert.equal(problem.path, '/etc/kubernetes/manifests/kube-apiserver.yaml');
    assert.ok(problem.message.startsWith(`kube-apiserver.yaml line ${lineOf(manifests['kube-apiserver.yaml'], '  - hostpath:')}: spec.volumes[3].hostpath`), problem.message);
    assert.match(problem.fix ?? '', /hostPath/);
  });
});

/** kubeadm v1.14's etcd probe (cmd/kubeadm/app/phases/etcd/local.go, before the HTTP probe of v1.16). */
const EXEC_PROBE = [
  '    livenessProbe:',
  '      exec:',
  '        command:',
  '        - /bin/sh',
  '        - -ec',
  '        - ETCDCTL_API=3 etcdctl --endpoints=https://[127.0.0.1]:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt',
  '          --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key',
  '          get foo',
  '      failureThreshold: 8',
].join('\n');

function etcdWithExecProbe(): string {
  const etcd = text('etcd.yaml');
  const start = etcd.indexOf('    livenessProbe:');
  const end = etcd.indexOf('      initialDelaySeconds: 10', start);
  return etcd.slice(0, start) + EXEC_PROBE + '\n' + etcd.slice(end);
}

describe('item 3: exec probes and lifecycle hooks read files as the component', () => {
  it("etcd's etcdctl probe reads the healthcheck client key (a secret), its certificate and the CA", () => {
    const pod = parsePod(etcdWithExecProbe(), '/etc/kubernetes/manifests/etcd.yaml');
    const probe = analyzeAccess(pod, 'etcd').accesses.filter((a) => a.flag.startsWith('livenessProbe'));
    assert.deepEqual(
      probe.map((a) => [a.hostPath, a.flag, a.secret]),
      [
        ['/etc/kubernetes/pki/etcd/ca.crt', 'livenessProbe --cacert', false],
        ['/etc/kubernetes/pki/etcd/healthcheck-client.crt', 'livenessProbe --cert', false],
        ['/etc/kubernetes/pki/etcd/healthcheck-client.key', 'livenessProbe --key', true],
      ],
    );
  });

  it('the plan lets etcd read the key through its group, and verify reports it when it is root-only again', async () => {
    const manifests = stacked();
    manifests['etcd.yaml'] = etcdWithExecProbe();
    const node = fixtureNode(CASE, { manifests });
    node.paths['/etc/kubernetes/pki/etcd/healthcheck-client.key'] = { type: 'file', uid: 0, gid: 0, mode: 0o600, size: 100 };
    node.paths['/etc/kubernetes/pki/etcd/healthcheck-client.crt'] = { type: 'file', uid: 0, gid: 0, mode: 0o644, size: 100 };
    const p = buildPlan(node, defaultConfig(), { now: NOW });
    const key = p.files.find((f) => f.path === '/etc/kubernetes/pki/etcd/healthcheck-client.key');
    assert.ok(key, 'the plan changes the healthcheck key');
    // read only: root's, through etcd's group (docs/ownership.md, the read-only rule)
    assert.deepEqual([key.desired.user, key.desired.group, key.desired.mode], ['root', 'kubeadm-etcd', 0o640]);
    const report = await verifyNode(node, defaultConfig(), { now: NOW, proc: null, rootFlag: '' });
    assert.ok(report.findings.some((f) => f.subject === '/etc/kubernetes/pki/etcd/healthcheck-client.key'), 'verify names the probe key');
  });

  it('hooks: flags, separate values and variables name files; the program, /dev and URLs do not', () => {
    const refs = (argv: string[]) => commandPathRefs({ source: 'preStop', argv }).map((r) => [r.flag, r.path]);
    assert.deepEqual(refs(['/usr/local/bin/drain', '--config', '/etc/kubernetes/drain.conf', '--url=https://127.0.0.1/x']), [['preStop --config', '/etc/kubernetes/drain.conf']]);
    assert.deepEqual(refs(['sh', '-c', "ETCDCTL_KEY=/etc/k/key.pem etcdctl get x > /dev/null; cat '/etc/k/a b'"]), [
      ['preStop ETCDCTL_KEY', '/etc/k/key.pem'],
      ['preStop', '/etc/k/a b'],
    ]);
  });
});

describe('item 4: a path the component must write inside the image blocks the plan', () => {
  it('--audit-log-path on no hostPath volume is a problem, not a warning', () => {
    const manifests = stacked();
    manifests['kube-apiserver.yaml'] = edit(manifests['kube-apiserver.yaml'], '    - kube-apiserver\n', '    - kube-apiserver\n    - --audit-log-path=/var/log/kubernetes/audit.log\n');
    const p = planOf(manifests);
    assert.ok(isBlocked(p));
    const problem = p.problems.find((x) => x.code === 'write-path-in-image');
    assert.ok(problem, JSON.stringify(p.problems));
    assert.match(problem.message, /\/var\/log\/kubernetes\/audit\.log/);
    assert.match(problem.fix ?? '', /hostPath volume/);
  });

  it('a kube-apiserver with no serving certificate must write /var/run/kubernetes: in the image, it blocks', () => {
    const manifests = stacked();
    let kas = manifests['kube-apiserver.yaml']!;
    kas = edit(kas, '    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt\n', '');
    kas = edit(kas, '    - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key\n', '');
    manifests['kube-apiserver.yaml'] = kas;
    const problem = planOf(manifests).problems.find((x) => x.code === 'write-path-in-image');
    assert.ok(problem);
    assert.match(problem.message, /\/var\/run\/kubernetes/);
  });
});

describe('item 5: every manifest left alone is explained', () => {
  it('a renamed kubeadm pod (labels and file kept) is refused with the reason', () => {
    const manifests = stacked();
    manifests['kube-scheduler.yaml'] = edit(manifests['kube-scheduler.yaml'], '  name: kube-scheduler\n', '  name: kube-calender-er\n');
    const p = planOf(manifests);
    assert.ok(isBlocked(p));
    const problem = p.problems.find((x) => x.code === 'component-renamed');
    assert.ok(problem);
    assert.equal(problem.path, '/etc/kubernetes/manifests/kube-scheduler.yaml');
    assert.match(problem.message, /kube-calender-er/);
    assert.match(problem.fix ?? '', /metadata\.name: kube-scheduler/);
  });

  it('kubeadm\'s pod in another file (etcd_kube-system.yaml) is refused too', () => {
    const manifests = stacked();
    manifests['etcd_kube-system.yaml'] = manifests['etcd.yaml']!;
    delete manifests['etcd.yaml'];
    const p = planOf(manifests);
    assert.deepEqual(p.problems.filter((x) => x.code === 'component-renamed').map((x) => x.path), ['/etc/kubernetes/manifests/etcd_kube-system.yaml']);
  });

  it('a kubectl dump of the mirror pod is refused', () => {
    const manifests = stacked();
    manifests['kube-scheduler.yaml'] = edit(manifests['kube-scheduler.yaml'], '  name: kube-scheduler\n', '  name: kube-scheduler-node1\n  uid: 6f1c3c9e-0000-4000-8000-000000000001\n  resourceVersion: "512"\n');
    assert.deepEqual(codes(planOf(manifests).problems).filter((c) => c === 'manifest-is-a-dump'), ['manifest-is-a-dump']);
  });

  it('each ignored manifest has its reason; one named like a component is also a warning (text and JSON)', () => {
    const manifests = stacked();
    manifests['my-scheduler.yaml'] = edit(edit(manifests['kube-scheduler.yaml'], '  name: kube-scheduler\n', '  name: my-scheduler\n'), '    - --leader-elect=true', '    - --leader-elect=false');
    manifests['kube-scheduler.yaml'] = edit(manifests['kube-scheduler.yaml'], '    - kube-scheduler\n', '    - /usr/local/bin/my-wrapper\n    - kube-scheduler\n');
    const p = planOf(manifests);
    assert.deepEqual(p.ignoredManifests.map((m) => m.file), ['kube-scheduler.yaml', 'my-scheduler.yaml']);
    assert.match(p.ignoredManifests[0].reason, /named like kubeadm's kube-scheduler but runs \/usr\/local\/bin\/my-wrapper/);
    assert.match(p.ignoredManifests[1].reason, /a second kube-scheduler \(pod "my-scheduler"\)/);
    assert.deepEqual(p.warnings.filter((w) => w.code === 'kubeadm-manifest-left-alone').map((w) => w.path), ['/etc/kubernetes/manifests/kube-scheduler.yaml']);
    assert.ok(!p.components.some((c) => c.component === 'kube-scheduler'));
  });
});

describe('item 6: shared reader groups are named after what they share', () => {
  it('sa.key → kubeadm-sa-key-readers; a cloud config both read → kubeadm-kas-kcm-readers', () => {
    const manifests = stacked();
    manifests['kube-apiserver.yaml'] = edit(manifests['kube-apiserver.yaml'], '    - kube-apiserver\n', '    - kube-apiserver\n    - --cloud-config=/etc/kubernetes/pki/cloud.conf\n');
    manifests['kube-controller-manager.yaml'] = edit(manifests['kube-controller-manager.yaml'], '    - kube-controller-manager\n', '    - kube-controller-manager\n    - --cloud-config=/etc/kubernetes/pki/cloud.conf\n');
    const node = fixtureNode(CASE, { manifests });
    node.paths['/etc/kubernetes/pki/cloud.conf'] = { type: 'file', uid: 0, gid: 0, mode: 0o600, size: 100 };
    const p = buildPlan(node, defaultConfig(), { now: NOW });
    const owner = (path: string) => {
      const f = p.files.find((x) => x.path === path);
      return f ? `${f.desired.user}:${f.desired.group} ${f.desired.mode.toString(8)}` : 'unchanged';
    };
    assert.equal(owner('/etc/kubernetes/pki/sa.key'), 'root:kubeadm-sa-key-readers 640');
    assert.equal(owner('/etc/kubernetes/pki/cloud.conf'), 'root:kubeadm-kas-kcm-readers 640');
    const groups = p.accounts.filter((a) => a.action === 'create-group').map((a) => a.name);
    assert.ok(groups.includes('kubeadm-sa-key-readers') && groups.includes('kubeadm-kas-kcm-readers'), groups.join(', '));
  });
});
