// src/yaml/lite.ts against the yaml library: on every text it accepts, its outline (values AND the
// offsets the manifest editor splices at) must equal the one built from yaml's Document; on text outside
// its subset it must decline (null) so the library decides. Checked on every fixture, on the manifests
// apply writes, on config files, on hand-written edge cases (values checked against the YAML 1.2 core
// schema by hand), and on thousands of seeded random mutations of those texts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseLite } from '../../src/yaml/lite.js';
import { outlineWithYaml } from '../../src/yaml/from-yaml.js';
import { toJS } from '../../src/yaml/outline.js';
import { applySecurity } from '../../src/plan/manifest-edit.js';
import { FIXTURES_DIR } from '../support/paths.js';
import { encryptionConfig } from '../support/sandbox.js';

const KUBECONFIG = [
  'apiVersion: v1',
  'clusters:',
  '- cluster:',
  '    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=',
  '    server: https://10.0.0.10:6443',
  '  name: kubernetes',
  'contexts:',
  '- context:',
  '    cluster: kubernetes',
  '    user: system:kube-scheduler',
  '  name: system:kube-scheduler@kubernetes',
  'current-context: system:kube-scheduler@kubernetes',
  'kind: Config',
  'preferences: {}',
  'users:',
  '- name: system:kube-scheduler',
  '  user:',
  '    client-certificate: /etc/kubernetes/pki/scheduler.crt',
  '    client-key: /etc/kubernetes/pki/scheduler.key',
  '',
].join('\n');

const ENCRYPTION = encryptionConfig();

function fixtureTexts(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of fs.readdirSync(FIXTURES_DIR).sort()) {
    const dir = path.join(FIXTURES_DIR, c);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir).sort()) out.push([`${c}/${f}`, fs.readFileSync(path.join(dir, f), 'utf8')]);
  }
  return out;
}

const DESIRED = { runAsUser: 2000, runAsGroup: 2000, supplementalGroups: [2004], seccomp: 'field', capabilitiesAdd: ['NET_BIND_SERVICE'], allowPrivilegeEscalation: false } as const;

/** Lite agrees with the library, or declines. Returns whether lite accepted the text. */
function agrees(text: string, what: string): boolean {
  const lite = parseLite(text);
  if (lite === null) return false;
  const full = outlineWithYaml(text);
  assert.ok(full.ok, `${what}: lite accepted text the yaml library rejects (${full.ok ? '' : full.error}):\n${text}`);
  assert.deepEqual(lite, full.root, `${what}: outlines differ:\n${text}`);
  return true;
}

describe('lite YAML parser', () => {
  test('reads every fixture manifest exactly as the yaml library does', () => {
    const texts = fixtureTexts().filter(([n]) => n.endsWith('.yaml'));
    assert.ok(texts.length >= 40);
    for (const [name, text] of texts) assert.ok(agrees(text, name), `${name}: expected inside the subset`);
  });

  test('reads the manifests apply writes, and kubeconfig and encryption config files', () => {
    for (const [name, text] of fixtureTexts().filter(([n]) => /\/(etcd|kube-[a-z-]+)\.yaml$/.test(n) && !n.includes('kube-vip'))) {
      const edited = applySecurity(text, { ...DESIRED, capabilitiesAdd: [...DESIRED.capabilitiesAdd], supplementalGroups: [...DESIRED.supplementalGroups] }, name).text;
      assert.ok(agrees(edited, `edited ${name}`), `edited ${name}: expected inside the subset`);
    }
    assert.ok(agrees(KUBECONFIG, 'kubeconfig'));
    assert.ok(agrees(ENCRYPTION, 'encryption config'));
  });

  test('types plain scalars as the YAML 1.2 core schema does (checked by hand)', () => {
    const value = (v: string): unknown => {
      const m = parseLite(`a: ${v}\n`);
      assert.ok(m, `a: ${v} should be inside the subset`);
      return (toJS(m) as Record<string, unknown>).a;
    };
    assert.equal(value('2000001000'), 2000001000);
    assert.equal(value('-1'), -1);
    assert.equal(value('0'), 0);
    assert.equal(value('true'), true);
    assert.equal(value('False'), false);
    assert.equal(value('yes'), 'yes'); // YAML 1.1 only; 1.2 core: a string
    assert.equal(value('~'), null);
    assert.equal(value('NULL'), null);
    assert.equal(value('250m'), '250m');
    assert.equal(value('10.0.0.1:6443'), '10.0.0.1:6443');
    assert.equal(value('127.0.0.1'), '127.0.0.1');
    assert.equal(value('--etcd-servers=https://127.0.0.1:2379'), '--etcd-servers=https://127.0.0.1:2379');
    assert.equal(value('"6443"'), '6443');
    assert.equal(value(':2112'), ':2112'); // kube-vip's metrics address
    assert.equal(value('/run/kms/  '), '/run/kms/'); // a trailing space is not part of the value
    assert.equal(value("'it''s'"), "it's");
    assert.equal(value('""'), '');
    assert.deepEqual(value('{}'), {});
    assert.deepEqual(value('[]'), []);
    assert.deepEqual(toJS(parseLite('a:\nb: 1\n')), { a: null, b: 1 });
    assert.deepEqual(toJS(parseLite('# header\n---\na:\n- x\n- y: 1\n  z:\n  - 2\n')), { a: ['x', { y: 1, z: [2] }] });
  });

  test('declines what is outside its subset, and the library still reads it', () => {
    const outside: Record<string, string> = {
      'a comment after content': 'a: 1\n# note\nb: 2\n',
      'an inline comment': 'a: 1 # note\n',
      'a blank line inside': 'a: 1\n\nb: 2\n',
      'an anchor and alias': 'a: &x 1\nb: *x\n',
      'a tag': 'a: !!str 1\n',
      'a block scalar': 'a: |\n  text\n',
      'a flow mapping': 'a: {b: 1}\n',
      'a flow sequence': 'a: [1, 2]\n',
      'a float': 'a: 1.5\n',
      'an exponent': 'a: 1e3\n',
      'a hex int': 'a: 0x1F\n',
      'an octal int': 'a: 0o17\n',
      'a leading zero': 'a: 0123\n',
      'a plus sign': 'a: +1\n',
      'a huge int': 'a: 123456789012345678901\n',
      'infinity': 'a: .inf\n',
      'a quoted key': '"a": 1\n',
      'a key with a space': 'a b: 1\n',
      'a boolean key': 'true: 1\n',
      'a numeric key': '1: a\n',
      'a null key': '~: a\n',
      'a __proto__ key': '__proto__: 1\n',
      'an escape in double quotes': 'a: "x\\ty"\n',
      'a multi-line plain scalar': 'a: one\n  two\n',
      'a nested compact sequence': 'a:\n- - 1\n',
      'CRLF line ends': 'a: 1\r\nb: 2\r\n',
      'a tab': 'a:\t1\n',
      'a second document': 'a: 1\n---\nb: 2\n',
      'a document end': 'a: 1\n...\n',
      'an indented top level': '  a: 1\n',
      'a top-level sequence': '- a\n',
      'a top-level scalar': 'hello\n',
      'a colon in a plain value': 'a: b: c\n',
      'a sequence at key level without a key': 'a: 1\n- b\n',
    };
    for (const [what, text] of Object.entries(outside)) {
      assert.equal(parseLite(text), null, `${what} should be declined`);
    }
    assert.equal(parseLite(''), null);
    assert.equal(parseLite('# only a comment\n'), null);
  });

  test('agrees with the library or declines on 6,000 seeded random mutations', () => {
    // Mutations that hit the parser's edges: indentation shifts, dropped and duplicated lines, values
    // swapped for tricky tokens, comments and blank lines, `- ` added or removed.
    const TOKENS = ['', '1', '01', '-1', '1.0', 'true', 'no', 'null', '~', '{}', '[]', '{a: 1}', '[a]', '"q"', "'q'", '"a\\"b"', "'a''b'", 'a: b', 'a:', '- x', '-', '&a x', '*a', '!t x', '|', '>', '#c', 'x #c', 'x#c', ':x', '?x', '%x', '@x', 'k:v', '"unterminated', "'unterminated", '0x10', '.5', '__proto__'];
    const seeds = [...fixtureTexts().filter(([n]) => n.endsWith('.yaml')).map(([, t]) => t), KUBECONFIG, ENCRYPTION];
    let state = 0x2568; // KEP-2568, any fixed seed works
    const rand = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    let accepted = 0;
    for (let round = 0; round < 6000; round++) {
      const lines = seeds[rand(seeds.length)]!.split('\n');
      for (let m = 1 + rand(3); m > 0; m--) {
        const i = rand(lines.length);
        const line = lines[i]!;
        switch (rand(9)) {
          case 0: lines[i] = ' ' + line; break;
          case 1: lines[i] = line.replace(/^ {1,2}/, ''); break;
          case 2: lines.splice(i, 1); break;
          case 3: lines.splice(i, 0, line); break;
          case 4: lines[i] = line.replace(/(:\s|-\s)(.*)$/, `$1${TOKENS[rand(TOKENS.length)]}`); break;
          case 5: lines.splice(i, 0, rand(2) ? '' : '# note'); break;
          case 6: lines[i] = line.replace(/^(\s*)- /, '$1'); break;
          case 7: lines[i] = line + ' '.repeat(1 + rand(2)); break;
          default: lines[i] = line.replace(/^(\s*)/, `$1${rand(2) ? '- ' : ''}`); break;
        }
      }
      if (agrees(lines.join('\n'), `mutation ${round}`)) accepted++;
    }
    // Both outcomes must be exercised for the comparison to mean anything.
    assert.ok(accepted > 600 && accepted < 5400, `accepted ${accepted} of 6000`);
  });
});
