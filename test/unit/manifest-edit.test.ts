import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { applySecurity, removeSecurity, type DesiredSecurity } from '../../src/plan/manifest-edit.js';
import { InputError } from '../../src/errors.js';

// Tests run from dist/test/unit; the fixtures stay in the source tree.
const FIXTURES = path.resolve(fileURLToPath(import.meta.url), '../../../../test/fixtures/manifests');
const COMPONENT_FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'];
const ROOTLESS = 'v1.31-rootless-control-plane';
const SECCOMP_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';

function fixture(caseName: string, file: string): string {
  return fs.readFileSync(path.join(FIXTURES, caseName, file), 'utf8');
}

function fixtureCases(): string[] {
  return fs
    .readdirSync(FIXTURES)
    .filter((c) => fs.statSync(path.join(FIXTURES, c)).isDirectory())
    .sort();
}

/** Cases whose manifests already carry pod seccompProfile RuntimeDefault: kubeadm >= 1.22 (INDEX.md, kubeadm-manifests.md §2). */
const HAS_SECCOMP_FIELD = new Set([
  'v1.22-ubuntu-stacked-seccomp-root',
  'v1.28.0-defaulted-fields',
  'v1.29-audit-encryption',
  'v1.30-port443-webhooks-haproxy-keepalived',
  'v1.31-rootless-control-plane',
  'v1.31-ubuntu-stacked-kube-vip',
  'v1.32-rhel-stacked',
]);
/** Kubernetes < 1.19 has no seccompProfile field: annotation style. */
const ANNOTATION_STYLE = new Set(['v1.16-centos-stacked', 'v1.17-kms-encryption-apiserver-only']);

/** Sample identities in the style of kubeadm's RootlessControlPlane table (kubeadm-rootless.md §4). */
function sampleDesired(caseName: string, file: string): DesiredSecurity {
  const seccomp = ANNOTATION_STYLE.has(caseName) ? 'annotation' : 'field';
  // The rootless fixture gets its own IDs (etcd 100, kas 101, kcm 102, ks 103, sa-key-readers 104).
  const rootless = caseName === ROOTLESS;
  switch (file) {
    case 'kube-apiserver.yaml':
      return { runAsUser: rootless ? 101 : 2001, runAsGroup: rootless ? 101 : 2001, supplementalGroups: [rootless ? 104 : 2100], seccomp, capabilitiesAdd: ['NET_BIND_SERVICE'], allowPrivilegeEscalation: null };
    case 'kube-controller-manager.yaml':
      return { runAsUser: rootless ? 102 : 2002, runAsGroup: rootless ? 102 : 2002, supplementalGroups: [rootless ? 104 : 2100], seccomp, capabilitiesAdd: [], allowPrivilegeEscalation: false };
    case 'kube-scheduler.yaml':
      return { runAsUser: rootless ? 103 : 2003, runAsGroup: rootless ? 103 : 2003, supplementalGroups: [], seccomp, capabilitiesAdd: [], allowPrivilegeEscalation: false };
    case 'etcd.yaml':
      return { runAsUser: rootless ? 100 : 2004, runAsGroup: rootless ? 100 : 2004, supplementalGroups: [], seccomp, capabilitiesAdd: [], allowPrivilegeEscalation: false };
    default:
      throw new Error(`not a kubeadm component: ${file}`);
  }
}

/** True when every line of `sub` appears in `full` in the same order. */
function isLineSubsequence(sub: string, full: string): boolean {
  const want = sub.split('\n');
  let i = 0;
  for (const line of full.split('\n')) if (i < want.length && line === want[i]) i++;
  return i === want.length;
}

/** Every (case, component file) pair of the corpus; non-kubeadm pods (kube-vip, haproxy, keepalived) are left out. */
function componentManifests(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of fixtureCases()) {
    for (const f of COMPONENT_FILES) if (fs.existsSync(path.join(FIXTURES, c, f))) out.push([c, f]);
  }
  return out;
}

describe('applySecurity on every kubeadm component manifest of the fixture corpus', () => {
  const all = componentManifests();

  test('the corpus loop covers every case, 42 component manifests at least', () => {
    assert.ok(fixtureCases().length >= 12);
    assert.ok(all.length >= 42, `only ${all.length} manifests found under ${FIXTURES}`);
  });

  for (const [caseName, file] of all) {
    const name = `${caseName}/${file}`;
    const desired = sampleDesired(caseName, file);
    const hadField = HAS_SECCOMP_FIELD.has(caseName);

    test(`${name}: the result sets exactly the desired pod and container securityContext`, () => {
      const before = fixture(caseName, file);
      const { text } = applySecurity(before, desired);
      const pod = parse(text);
      const podSc: Record<string, unknown> = {
        runAsGroup: desired.runAsGroup,
        runAsNonRoot: true,
        runAsUser: desired.runAsUser,
      };
      if (desired.seccomp === 'field') podSc['seccompProfile'] = { type: 'RuntimeDefault' };
      if (desired.supplementalGroups.length > 0) podSc['supplementalGroups'] = desired.supplementalGroups;
      assert.deepEqual(pod.spec.securityContext, podSc);
      const caps: Record<string, unknown> = { drop: ['ALL'] };
      if (desired.capabilitiesAdd.length > 0) caps['add'] = desired.capabilitiesAdd;
      const containerSc: Record<string, unknown> = { capabilities: caps };
      if (desired.allowPrivilegeEscalation === false) containerSc['allowPrivilegeEscalation'] = false;
      assert.deepEqual(pod.spec.containers[0].securityContext, containerSc);
      const annotations = (pod.metadata.annotations ?? {}) as Record<string, string>;
      assert.equal(annotations[SECCOMP_ANNOTATION], desired.seccomp === 'annotation' ? 'runtime/default' : undefined);
      // The rest of the pod is untouched: compare everything but the edited parts with the input.
      const orig = parse(before);
      delete pod.spec.securityContext;
      delete orig.spec.securityContext;
      delete pod.spec.containers[0].securityContext;
      delete orig.spec.containers[0].securityContext;
      if (desired.seccomp === 'annotation') {
        delete pod.metadata.annotations[SECCOMP_ANNOTATION];
        if (Object.keys(pod.metadata.annotations).length === 0) delete pod.metadata.annotations;
      }
      assert.deepEqual(pod, orig);
    });

    test(`${name}: the edit only inserts lines`, () => {
      const before = fixture(caseName, file);
      const { text } = applySecurity(before, desired);
      assert.ok(isLineSubsequence(before, text), 'every input line survives, in order');
      assert.ok(text.length > before.length);
    });

    test(`${name}: applying twice changes nothing the second time`, () => {
      const once = applySecurity(fixture(caseName, file), desired).text;
      const twice = applySecurity(once, desired);
      assert.equal(twice.text, once);
      assert.deepEqual(twice.changes, []);
    });

    if (caseName !== ROOTLESS) {
      test(`${name}: removeSecurity after applySecurity gives back the original bytes`, () => {
        const before = fixture(caseName, file);
        const applied = applySecurity(before, desired).text;
        const reverted = removeSecurity(applied, { keepSeccompField: hadField, removeSeccompAnnotation: desired.seccomp === 'annotation' });
        assert.equal(reverted.text, before);
      });
    }
  }
});

describe('applySecurity: hand-written expectations on fixtures', () => {
  test('v1.22 kube-scheduler: new pod keys sit next to the kept seccompProfile, container block after resources', () => {
    const before = fixture('v1.22-ubuntu-stacked-seccomp-root', 'kube-scheduler.yaml');
    const result = applySecurity(before, sampleDesired('v1.22-ubuntu-stacked-seccomp-root', 'kube-scheduler.yaml'));
    const expectedPodBlock = [
      '  priorityClassName: system-node-critical',
      '  securityContext:',
      '    runAsGroup: 2003',
      '    runAsNonRoot: true',
      '    runAsUser: 2003',
      '    seccompProfile:',
      '      type: RuntimeDefault',
      '  volumes:',
      '',
    ].join('\n');
    const expectedContainerBlock = [
      '        cpu: 100m',
      '    securityContext:',
      '      allowPrivilegeEscalation: false',
      '      capabilities:',
      '        drop:',
      '        - ALL',
      '    startupProbe:',
      '',
    ].join('\n');
    assert.ok(result.text.includes(expectedPodBlock), result.text);
    assert.ok(result.text.includes(expectedContainerBlock), result.text);
    const expected = before
      .replace('        cpu: 100m\n', '        cpu: 100m\n    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop:\n        - ALL\n')
      .replace('  securityContext:\n    seccompProfile:\n', '  securityContext:\n    runAsGroup: 2003\n    runAsNonRoot: true\n    runAsUser: 2003\n    seccompProfile:\n');
    assert.equal(result.text, expected);
    assert.deepEqual(result.changes, [
      'pod securityContext.runAsGroup: 2003',
      'pod securityContext.runAsNonRoot: true',
      'pod securityContext.runAsUser: 2003',
      'container securityContext.allowPrivilegeEscalation: false',
      'container securityContext.capabilities.drop: [ALL]',
    ]);
  });

  test('v1.16 kube-apiserver (annotation style): annotations map created first under metadata, pod block before volumes', () => {
    const before = fixture('v1.16-centos-stacked', 'kube-apiserver.yaml');
    const result = applySecurity(before, sampleDesired('v1.16-centos-stacked', 'kube-apiserver.yaml'));
    const expected = before
      .replace('metadata:\n  creationTimestamp: null\n', `metadata:\n  annotations:\n    ${SECCOMP_ANNOTATION}: runtime/default\n  creationTimestamp: null\n`)
      .replace('        cpu: 250m\n', '        cpu: 250m\n    securityContext:\n      capabilities:\n        add:\n        - NET_BIND_SERVICE\n        drop:\n        - ALL\n')
      .replace(
        '  priorityClassName: system-cluster-critical\n',
        '  priorityClassName: system-cluster-critical\n  securityContext:\n    runAsGroup: 2001\n    runAsNonRoot: true\n    runAsUser: 2001\n    supplementalGroups:\n    - 2100\n',
      );
    assert.notEqual(expected, before);
    assert.equal(result.text, expected);
    assert.deepEqual(result.changes, [
      'pod securityContext.runAsGroup: 2001',
      'pod securityContext.runAsNonRoot: true',
      'pod securityContext.runAsUser: 2001',
      'pod securityContext.supplementalGroups: [2100]',
      `annotation ${SECCOMP_ANNOTATION}: runtime/default`,
      'container securityContext.capabilities.add: [NET_BIND_SERVICE]',
      'container securityContext.capabilities.drop: [ALL]',
    ]);
  });

  test('v1.17 hand-edited kube-apiserver: the trailing space on a mountPath and the unsorted first flag survive', () => {
    const before = fixture('v1.17-kms-encryption-apiserver-only', 'kube-apiserver.yaml');
    const { text } = applySecurity(before, sampleDesired('v1.17-kms-encryption-apiserver-only', 'kube-apiserver.yaml'));
    assert.ok(text.includes('    - mountPath: /var/run/k8s-kms-plugin/ \n'));
    assert.ok(text.includes('    - kube-apiserver\n    - --encryption-provider-config=/etc/kubernetes/apiserver-encryption.conf\n'));
  });

  test('v1.19 kind kube-apiserver: the leading comment line stays first', () => {
    const before = fixture('v1.19-kind-oidc-apiserver-only', 'kube-apiserver.yaml');
    const { text } = applySecurity(before, sampleDesired('v1.19-kind-oidc-apiserver-only', 'kube-apiserver.yaml'));
    assert.ok(text.startsWith('# a sample kube-apiserver.yaml manifest when external oidc is configured\napiVersion: v1\n'));
  });

  test('rootless fixture kube-apiserver: exactly one line added, runAsNonRoot between runAsGroup and runAsUser', () => {
    const before = fixture(ROOTLESS, 'kube-apiserver.yaml');
    const result = applySecurity(before, sampleDesired(ROOTLESS, 'kube-apiserver.yaml'));
    assert.deepEqual(result.changes, ['pod securityContext.runAsNonRoot: true']);
    assert.equal(result.text, before.replace('    runAsGroup: 101\n    runAsUser: 101\n', '    runAsGroup: 101\n    runAsNonRoot: true\n    runAsUser: 101\n'));
    assert.equal(result.text.split('\n').length, before.split('\n').length + 1);
  });

  test('rootless fixture, every component: the only change is runAsNonRoot', () => {
    for (const file of COMPONENT_FILES) {
      const result = applySecurity(fixture(ROOTLESS, file), sampleDesired(ROOTLESS, file));
      assert.deepEqual(result.changes, ['pod securityContext.runAsNonRoot: true'], file);
    }
  });

  test('rootless fixture with other IDs: runAsUser and runAsGroup are replaced in place', () => {
    const before = fixture(ROOTLESS, 'kube-scheduler.yaml');
    const result = applySecurity(before, { ...sampleDesired(ROOTLESS, 'kube-scheduler.yaml'), runAsUser: 3000, runAsGroup: 3001 });
    assert.equal(result.text, before.replace('    runAsGroup: 103\n    runAsUser: 103\n', '    runAsGroup: 3001\n    runAsNonRoot: true\n    runAsUser: 3000\n'));
    assert.deepEqual(result.changes, ['pod securityContext.runAsGroup: 3001', 'pod securityContext.runAsNonRoot: true', 'pod securityContext.runAsUser: 3000']);
  });
});

describe('applySecurity: byte preservation on hand-written YAML', () => {
  const desired: DesiredSecurity = { runAsUser: 500, runAsGroup: 501, supplementalGroups: [], seccomp: 'field', capabilitiesAdd: [], allowPrivilegeEscalation: false };

  test('comments, a leading ---, odd comment spacing, quoting and no final newline are kept', () => {
    const before = [
      '---',
      '# my scheduler, edited by hand',
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      "  name: 'kube-scheduler'   # quoted",
      'spec:',
      '  containers:',
      '  - command:',
      '    - kube-scheduler',
      '    # - --v=4',
      '    image: "registry.k8s.io/kube-scheduler:v1.30.0"',
      '    name: kube-scheduler',
      '',
      '    # mounts below',
      '    volumeMounts: []',
      '  hostNetwork: true',
      '  priorityClassName: system-node-critical   ',
      '  # volumes come last',
      '  volumes: []',
      'status: {}',
    ].join('\n');
    const result = applySecurity(before, desired);
    const expected = [
      '---',
      '# my scheduler, edited by hand',
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      "  name: 'kube-scheduler'   # quoted",
      'spec:',
      '  containers:',
      '  - command:',
      '    - kube-scheduler',
      '    # - --v=4',
      '    image: "registry.k8s.io/kube-scheduler:v1.30.0"',
      '    name: kube-scheduler',
      '    securityContext:',
      '      allowPrivilegeEscalation: false',
      '      capabilities:',
      '        drop:',
      '        - ALL',
      '',
      '    # mounts below',
      '    volumeMounts: []',
      '  hostNetwork: true',
      '  priorityClassName: system-node-critical   ',
      '  securityContext:',
      '    runAsGroup: 501',
      '    runAsNonRoot: true',
      '    runAsUser: 500',
      '    seccompProfile:',
      '      type: RuntimeDefault',
      '  # volumes come last',
      '  volumes: []',
      'status: {}',
    ].join('\n');
    assert.equal(result.text, expected);
    assert.equal(applySecurity(result.text, desired).text, result.text);
    assert.equal(removeSecurity(result.text, { keepSeccompField: false, removeSeccompAnnotation: false }).text, before);
  });

  test('a mapping that ends the file without a final newline gets the new key without one', () => {
    const before = 'kind: Pod\nspec:\n  containers:\n  - name: x\n  securityContext:\n    runAsUser: 500';
    const result = applySecurity(before, desired);
    assert.equal(
      result.text,
      'kind: Pod\nspec:\n  containers:\n  - name: x\n    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop:\n        - ALL\n' +
        '  securityContext:\n    runAsGroup: 501\n    runAsNonRoot: true\n    runAsUser: 500\n    seccompProfile:\n      type: RuntimeDefault',
    );
    const reverted = removeSecurity(result.text, { keepSeccompField: false, removeSeccompAnnotation: false });
    assert.equal(reverted.text, 'kind: Pod\nspec:\n  containers:\n  - name: x');
  });

  test('an existing container securityContext is merged, not replaced (other keys stay, unsorted keys get appended)', () => {
    const before = 'kind: Pod\nspec:\n  containers:\n  - name: x\n    securityContext:\n      readOnlyRootFilesystem: true\n      capabilities:\n        drop: [NET_RAW]   # flow\n';
    const result = applySecurity(before, desired);
    assert.equal(
      result.text.split('spec:\n')[1]!.split('  securityContext:\n    runAsGroup')[0],
      '  containers:\n  - name: x\n    securityContext:\n      readOnlyRootFilesystem: true\n      capabilities:\n        drop:\n        - ALL\n      allowPrivilegeEscalation: false\n',
    );
    assert.ok(result.changes.includes('container securityContext.capabilities.drop: [ALL]'));
    const reverted = removeSecurity(result.text, { keepSeccompField: false, removeSeccompAnnotation: false });
    assert.equal(reverted.text, 'kind: Pod\nspec:\n  containers:\n  - name: x\n    securityContext:\n      readOnlyRootFilesystem: true\n');
  });

  test('flow-style and empty securityContext values are rebuilt as blocks, keeping their content', () => {
    const before = 'kind: Pod\nspec:\n  containers:\n  - securityContext: {readOnlyRootFilesystem: true}\n    name: x\n  securityContext:\n  volumes: []\n';
    const result = applySecurity(before, desired);
    assert.equal(
      result.text,
      'kind: Pod\nspec:\n  containers:\n  - securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop:\n        - ALL\n      readOnlyRootFilesystem: true\n    name: x\n' +
        '  securityContext:\n    runAsGroup: 501\n    runAsNonRoot: true\n    runAsUser: 500\n    seccompProfile:\n      type: RuntimeDefault\n  volumes: []\n',
    );
  });

  test('unsorted container keys: securityContext is appended after the last key', () => {
    const before = 'kind: Pod\nspec:\n  containers:\n  - volumeMounts: []\n    name: x\n  hostNetwork: true\n';
    const result = applySecurity(before, desired);
    assert.ok(result.text.includes('    name: x\n    securityContext:\n      allowPrivilegeEscalation: false\n'), result.text);
  });

  test('a new first key of a sequence item continues the "- " line and the old first key moves down', () => {
    const before = 'kind: Pod\nspec:\n  containers:\n  - tty: true\n    workingDir: /\n';
    const result = applySecurity(before, desired);
    assert.ok(
      result.text.includes('  containers:\n  - securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop:\n        - ALL\n    tty: true\n    workingDir: /\n'),
      result.text,
    );
    assert.equal(removeSecurity(result.text, { keepSeccompField: false, removeSeccompAnnotation: false }).text, before);
  });

  test('a missing metadata map is created in sorted position for the annotation', () => {
    const before = 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n';
    const result = applySecurity(before, { ...desired, seccomp: 'annotation' });
    assert.ok(result.text.startsWith(`apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    ${SECCOMP_ANNOTATION}: runtime/default\nspec:\n`), result.text);
  });

  test('4-space indentation and indented sequences are followed in new blocks', () => {
    const before = 'kind: Pod\nspec:\n    containers:\n        - name: x\n    hostNetwork: true\n';
    const result = applySecurity(before, { ...desired, supplementalGroups: [7] });
    assert.equal(
      result.text,
      'kind: Pod\nspec:\n    containers:\n        - name: x\n          securityContext:\n              allowPrivilegeEscalation: false\n              capabilities:\n                  drop:\n                      - ALL\n' +
        '    hostNetwork: true\n    securityContext:\n        runAsGroup: 501\n        runAsNonRoot: true\n        runAsUser: 500\n        seccompProfile:\n            type: RuntimeDefault\n        supplementalGroups:\n            - 7\n',
    );
  });

  test('wrong existing values are replaced in place, keeping the inline comment', () => {
    const before = 'kind: Pod\nspec:\n  containers:\n  - name: x\n    securityContext:\n      allowPrivilegeEscalation: true # was\n      capabilities:\n        add:\n        - SYS_ADMIN\n        drop:\n        - ALL\n  securityContext:\n    runAsNonRoot: false\n    runAsUser: "0"   # root\n    seccompProfile:\n      type: Unconfined\n    supplementalGroups:\n    - 0\n';
    const result = applySecurity(before, desired);
    assert.equal(
      result.text,
      'kind: Pod\nspec:\n  containers:\n  - name: x\n    securityContext:\n      allowPrivilegeEscalation: false # was\n      capabilities:\n        drop:\n        - ALL\n  securityContext:\n    runAsGroup: 501\n    runAsNonRoot: true\n    runAsUser: 500   # root\n    seccompProfile:\n      type: Unconfined\n',
    );
    assert.deepEqual(result.changes, [
      'pod securityContext.runAsGroup: 501',
      'pod securityContext.runAsNonRoot: true',
      'pod securityContext.runAsUser: 500',
      'pod securityContext.supplementalGroups: removed (was [0])',
      'container securityContext.allowPrivilegeEscalation: false',
      'container securityContext.capabilities.add: removed (was [SYS_ADMIN])',
    ]);
  });

  test('CRLF files get CRLF in the inserted lines', () => {
    const before = 'kind: Pod\r\nspec:\r\n  containers:\r\n  - name: x\r\n  hostNetwork: true\r\n';
    const result = applySecurity(before, desired);
    assert.ok(!/[^\r]\n/.test(result.text), JSON.stringify(result.text));
    assert.equal(removeSecurity(result.text, { keepSeccompField: false, removeSeccompAnnotation: false }).text, before);
  });
});

describe('applySecurity: seccomp field vs annotation (kubeadm-manifests.md §3)', () => {
  const base: DesiredSecurity = { runAsUser: 500, runAsGroup: 500, supplementalGroups: [], seccomp: 'field', capabilitiesAdd: [], allowPrivilegeEscalation: false };
  const withAnnotation = (value: string) =>
    `kind: Pod\nmetadata:\n  annotations:\n    ${SECCOMP_ANNOTATION}: ${value}\n  name: p\nspec:\n  containers:\n  - name: x\n`;

  const translations: Array<[string, Record<string, string>]> = [
    ['runtime/default', { type: 'RuntimeDefault' }],
    ['docker/default', { type: 'RuntimeDefault' }],
    ['unconfined', { type: 'Unconfined' }],
    ['localhost/profiles/audit.json', { localhostProfile: 'profiles/audit.json', type: 'Localhost' }],
  ];
  for (const [annotation, field] of translations) {
    test(`field style translates an existing ${annotation} annotation and keeps the annotation`, () => {
      const result = applySecurity(withAnnotation(annotation), base);
      const pod = parse(result.text);
      assert.deepEqual(pod.spec.securityContext.seccompProfile, field);
      assert.equal(pod.metadata.annotations[SECCOMP_ANNOTATION], annotation);
    });
  }

  test('field style: an unknown annotation value is refused with an InputError naming the annotation', () => {
    assert.throws(() => applySecurity(withAnnotation('bogus'), base), (e: unknown) => e instanceof InputError && e.message.includes(SECCOMP_ANNOTATION));
  });

  test('annotation style with an existing field adds the matching annotation and keeps the field', () => {
    const before = 'kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: x\n  securityContext:\n    seccompProfile:\n      type: Unconfined\n';
    const result = applySecurity(before, { ...base, seccomp: 'annotation' });
    assert.ok(result.text.startsWith(`kind: Pod\nmetadata:\n  annotations:\n    ${SECCOMP_ANNOTATION}: unconfined\n  name: p\n`), result.text);
    assert.deepEqual(parse(result.text).spec.securityContext.seccompProfile, { type: 'Unconfined' });
  });

  test('an existing annotation is kept as is in annotation style', () => {
    const before = withAnnotation('docker/default');
    const result = applySecurity(before, { ...base, seccomp: 'annotation' });
    assert.ok(result.text.startsWith(before.split('spec:')[0]!));
    assert.ok(!result.changes.some((c) => c.startsWith('annotation')));
  });
});

describe('applySecurity: refusals', () => {
  const desired: DesiredSecurity = { runAsUser: 500, runAsGroup: 500, supplementalGroups: [], seccomp: 'field', capabilitiesAdd: [], allowPrivilegeEscalation: false };

  test('invalid YAML is an InputError that carries the source path', () => {
    assert.throws(() => applySecurity('kind: Pod\nspec: [\n', desired, '/etc/kubernetes/manifests/x.yaml'), (e: unknown) => e instanceof InputError && e.message.startsWith('/etc/kubernetes/manifests/x.yaml: '));
  });

  test('an edit that would also change an alias elsewhere is refused: the result must read back as the edit', () => {
    // All edits are spliced together and the result parsed once: here runAsUser's anchor is also an env
    // value, which the splice would change too.
    const text = 'kind: Pod\nspec:\n  securityContext:\n    runAsUser: &u 0\n  containers:\n  - name: x\n    env:\n    - name: X\n      value: *u\n';
    assert.throws(() => applySecurity(text, desired, 'etcd.yaml'), (e: unknown) => e instanceof InputError && /read back/.test(e.message) && /etcd\.yaml/.test(e.message));
  });

  test('a manifest without spec.containers[0] is an InputError', () => {
    assert.throws(() => applySecurity('kind: Pod\nspec:\n  hostNetwork: true\n', desired), (e: unknown) => e instanceof InputError && e.message.includes('spec.containers'));
  });

  test('UID 0 and negative or fractional IDs are refused', () => {
    const text = 'kind: Pod\nspec:\n  containers:\n  - name: x\n';
    assert.throws(() => applySecurity(text, { ...desired, runAsUser: 0 }), InputError);
    assert.throws(() => applySecurity(text, { ...desired, runAsGroup: -1 }), InputError);
    assert.throws(() => applySecurity(text, { ...desired, supplementalGroups: [1.5] }), InputError);
  });
});

describe('removeSecurity', () => {
  test('keeps the seccompProfile when asked, and other pod keys such as fsGroup', () => {
    const before = fixture(ROOTLESS, 'kube-controller-manager.yaml');
    const result = removeSecurity(before.replace('    runAsGroup: 102\n', '    fsGroup: 9\n    runAsGroup: 102\n'), { keepSeccompField: true, removeSeccompAnnotation: false });
    const pod = parse(result.text);
    assert.deepEqual(pod.spec.securityContext, { fsGroup: 9, seccompProfile: { type: 'RuntimeDefault' } });
    assert.equal(pod.spec.containers[0].securityContext, undefined);
    assert.deepEqual(result.changes, [
      'pod securityContext.runAsGroup: removed (was 102)',
      'pod securityContext.runAsUser: removed (was 102)',
      'pod securityContext.supplementalGroups: removed (was [104])',
      'container securityContext.allowPrivilegeEscalation: removed (was false)',
      'container securityContext.capabilities: removed (was {drop: [ALL]})',
    ]);
  });

  test('removes the whole pod securityContext when the seccompProfile goes too', () => {
    const result = removeSecurity(fixture(ROOTLESS, 'kube-scheduler.yaml'), { keepSeccompField: false, removeSeccompAnnotation: false });
    assert.ok(result.text.includes('  priorityClassName: system-node-critical\n  volumes:\n'), result.text);
    assert.ok(!result.text.includes('securityContext'));
  });

  test('removes the seccomp annotation, and the annotations map when it becomes empty', () => {
    const before = `kind: Pod\nmetadata:\n  annotations:\n    ${SECCOMP_ANNOTATION}: runtime/default\n  name: p\nspec:\n  containers:\n  - name: x\n`;
    assert.equal(removeSecurity(before, { keepSeccompField: false, removeSeccompAnnotation: true }).text, 'kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: x\n');
    const other = before.replace('  name: p\n', '  name: p\n').replace('  annotations:\n', '  annotations:\n    a: b\n');
    assert.equal(removeSecurity(other, { keepSeccompField: false, removeSeccompAnnotation: true }).text, 'kind: Pod\nmetadata:\n  annotations:\n    a: b\n  name: p\nspec:\n  containers:\n  - name: x\n');
  });

  test('returns the same string and no changes when there is nothing to remove', () => {
    const before = fixture('v1.19-ubuntu-stacked', 'etcd.yaml');
    const result = removeSecurity(before, { keepSeccompField: false, removeSeccompAnnotation: true });
    assert.equal(result.text, before);
    assert.deepEqual(result.changes, []);
  });
});
