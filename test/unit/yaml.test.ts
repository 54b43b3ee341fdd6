// What the tool guarantees about YAML, with expectations written out by hand from YAML 1.1 as Go's
// decoder applies it (test/integration/yaml-differential.test.ts checks the same against kubectl):
// manifests read as the kubelet reads them, written values read back the same in YAML 1.1 and 1.2,
// and the editor never splices where the text is not the value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml12 } from 'yaml';
import { InputError } from '../../src/errors.js';
import { parsePod } from '../../src/model/pod.js';
import { parseConfig } from '../../src/plan/config.js';
import { applySecurity, type DesiredSecurity } from '../../src/plan/manifest-edit.js';
import { SECCOMP_ANNOTATION } from '../../src/plan/seccomp.js';
import { renderData } from '../../src/render/data.js';
import { parseYaml, stringifyYaml } from '../../src/yaml/go-yaml.js';

const POD = (spec: string, top = ''): string =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n${top}spec:\n${spec}  containers:\n  - name: etcd\n    image: registry.k8s.io/etcd:3.5.16-0\n    command:\n    - etcd\n    volumeMounts:\n    - name: data\n      mountPath: /var/lib/etcd\n      readOnly: on\n  volumes:\n  - name: data\n    hostPath:\n      path: /var/lib/etcd\n`;

describe('manifests are read as the kubelet reads them (YAML 1.1)', () => {
  it('runAsUser: 01750 is the octal 1000, hostNetwork: yes and readOnly: on are true', () => {
    const pod = parsePod(POD('  hostNetwork: yes\n  securityContext:\n    runAsUser: 01750\n    runAsGroup: 0o17\n'), 'etcd.yaml');
    assert.equal(pod.podSecurityContext.runAsUser, 1000);
    assert.equal(pod.podSecurityContext.runAsGroup, 15);
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.mounts[0]!.readOnly, true);
  });

  it('y, Y, n, off are booleans; quoted forms, timestamps and base-60 look-alikes stay strings', () => {
    const v = parseYaml('a: y\nb: Y\nc: n\nd: off\ne: "0750"\nf: 2001-12-14\ng: 190:20:30\nh: 1_000\ni: 0750\n').toJS() as Record<string, unknown>;
    assert.deepEqual(v, { a: true, b: true, c: false, d: false, e: '0750', f: '2001-12-14', g: '190:20:30', h: 1000, i: 488 });
  });

  it('<< merges apply, explicit keys win', () => {
    const pod = parsePod(POD('  securityContext:\n    <<: &ids {runAsUser: 1001, runAsGroup: 1001}\n    runAsGroup: 1002\n'), 'etcd.yaml');
    assert.deepEqual(pod.podSecurityContext, { runAsUser: 1001, runAsGroup: 1002 });
  });

  it('the config file reads the same way: uid: 0750 is 488', () => {
    const config = parseConfig('accounts:\n  etcd:\n    uid: 0750\n', 'config.yaml');
    assert.equal(config.accounts.etcd?.uid, 488);
  });
});

describe('what the tool writes reads back the same in YAML 1.1 and 1.2', () => {
  const AMBIGUOUS = ['yes', 'no', 'on', 'off', 'y', 'n', 'Y', 'N', 'On', 'true', 'null', '~', '', '0750', '01750', '0o17', '0x1F', '1e3', '1_000', '.5', '+1'];

  it('strings that either version reads as another type are quoted', () => {
    const value = { strings: AMBIGUOUS, numbers: [0, 488, 1000, -1, 1.5], flags: [true, false, null], [AMBIGUOUS[0]!]: 'key' };
    const text = stringifyYaml(value);
    assert.deepEqual(parseYaml12(text), value, 'YAML 1.2 (the yaml library, core schema)');
    assert.deepEqual(parseYaml12(text, { version: '1.1' }), value, 'YAML 1.1 (the yaml library, its own 1.1 schema)');
    assert.deepEqual(parseYaml(text).toJS(), value, 'the tool');
    assert.match(text, /^ {2}- "on"$/m);
    assert.match(text, /^ {2}- "0750"$/m);
  });

  it('-o yaml output is written the same way', () => {
    assert.equal(renderData({ user: 'on', uid: 488, mode: '0750' }, 'yaml'), 'user: "on"\nuid: 488\nmode: "0750"\n');
  });

  it('a value the editor splices into a manifest is quoted when it must be', () => {
    const text = POD('', `  annotations:\n    ${SECCOMP_ANNOTATION}: localhost/0750\n`);
    const desired: DesiredSecurity = { runAsUser: 2004, runAsGroup: 2004, supplementalGroups: [], seccomp: 'field', capabilitiesAdd: [], allowPrivilegeEscalation: false };
    const out = applySecurity(text, desired).text;
    assert.match(out, /localhostProfile: "0750"/);
    const sc = (parseYaml12(out) as { spec: { securityContext: Record<string, unknown> } }).spec.securityContext;
    assert.deepEqual(sc.seccompProfile, { localhostProfile: '0750', type: 'Localhost' });
    assert.deepEqual((parseYaml(out).toJS() as { spec: { securityContext: Record<string, unknown> } }).spec.securityContext.seccompProfile, sc.seccompProfile);
  });
});

describe('the editor does not splice where the text is not the value', () => {
  const desired: DesiredSecurity = { runAsUser: 2004, runAsGroup: 2004, supplementalGroups: [], seccomp: 'field', capabilitiesAdd: [], allowPrivilegeEscalation: false };

  it('refuses a securityContext built with a << merge: exit 2 territory, not a silent override', () => {
    const text = POD('  securityContext:\n    <<: &ids {runAsUser: 1001, seLinuxOptions: {type: spc_t}}\n');
    assert.throws(() => applySecurity(text, desired, 'etcd.yaml'), (e: unknown) => e instanceof InputError && /merge key \(<<\)/.test(e.message) && /etcd\.yaml/.test(e.message));
  });

  it('refuses to edit an anchored mapping that aliases elsewhere would share', () => {
    const text = POD('  securityContext: &sc\n    runAsUser: 1001\n');
    assert.throws(() => applySecurity(text, desired, 'etcd.yaml'), (e: unknown) => e instanceof InputError && /anchor/.test(e.message));
  });

  it('leaves 1.1 scalars it does not edit byte for byte', () => {
    const text = POD('  hostNetwork: yes\n');
    const out = applySecurity(text, desired).text;
    assert.match(out, /^ {2}hostNetwork: yes$/m);
    assert.match(out, /^ {6}readOnly: on$/m);
    assert.equal((parseYaml(out).toJS() as { spec: { securityContext: { runAsUser: number } } }).spec.securityContext.runAsUser, 2004);
  });
});
