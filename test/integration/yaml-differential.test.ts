// The tool reads YAML exactly as the kubelet does. The oracle is real Go: kubectl decodes a file with
// sigs.k8s.io/yaml, the same YAMLToJSON the kubelet runs on a static-pod manifest, and
// `kubectl patch --local -f F --type merge -p '{}' -o json` prints what it read, unchanged. Every case
// must read the same to the tool (src/yaml/go-yaml.ts), compared as JSON:
//   1. tricky scalars, one per key of a document (octal, yes/on/y, quoted numbers, floats, nulls, ...);
//   2. documents with merges, anchors, non-string keys, block scalars, CRLF;
//   3. every manifest of test/fixtures and of ../shared/corpus (42 real nodes): kubectl's reading, or
//      its refusal, is the tool's;
//   4. what the tool WRITES reads back to kubectl as the value it meant.
// Without kubectl the test is skipped, and fails under KUBEADM_NONROOT_REQUIRE_E2E=1.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { parseYamlDocuments, stringifyYaml } from '../../src/yaml/go-yaml.js';
import { KUBECTL_MISSING as KUBECTL_UNAVAILABLE, kubectlRead as goRead } from '../support/kubectl.js';
import { FIXTURES_DIR, REPO_ROOT } from '../../scripts/lib/paths.js';
import { readPod } from '../../scripts/lib/pod-reading.js';
import { skipUnlessPossible } from '../support/setpriv.js';

const CORPUS = path.join(REPO_ROOT, '..', 'shared', 'corpus');
const tmp = mkdtempSync(path.join(tmpdir(), 'kubeadm-nonroot-yaml-diff-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const KUBECTL_MISSING = KUBECTL_UNAVAILABLE ? [KUBECTL_UNAVAILABLE] : [];

type Read = { ok: true; objects: unknown[] } | { ok: false; error: string };

/** kubectl's reading of files or directories (one call): the objects it decoded, in order, or its error. */
async function kubectlRead(...targets: string[]): Promise<Read> {
  try {
    return { ok: true, objects: await goRead(targets) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** The tool's reading: each non-empty document as plain data, JSON-normalised (as kubectl prints it). */
function toolRead(text: string): Read {
  const docs = parseYamlDocuments(text);
  const bad = docs.find((d) => d.errors.length > 0);
  if (bad) return { ok: false, error: bad.errors[0]!.message };
  const objects = docs.map((d) => d.toJS() as unknown).filter((v) => v !== null && v !== undefined);
  return { ok: true, objects: objects.map((o) => JSON.parse(JSON.stringify(o)) as unknown) };
}

function write(name: string, text: string): string {
  const f = path.join(tmp, name);
  writeFileSync(f, text);
  return f;
}

function skip(t: TestContext): boolean {
  return skipUnlessPossible(t, KUBECTL_MISSING);
}

/**
 * Plain scalars whose type YAML 1.1 and 1.2 disagree on, or that Go's decoder reads its own way. Left
 * out on purpose: .inf/.nan (JSON cannot print them, kubectl fails) and integers beyond 2^53 (a JS
 * number cannot hold them; no manifest field is that large).
 */
const SCALARS = [
  // octal, hex, binary, underscores, signs
  '01750', '0750', '0644', '00', '0', '-01750', '+0750', '0789', '08', '0o750', '0O17', '0x1F', '0X1f', '-0x10', '0b101', '0B11',
  '1_000', '0_750', '1__0', '+12', '-0', '007',
  // booleans and their look-alikes
  'yes', 'Yes', 'YES', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF', 'y', 'Y', 'n', 'N',
  'true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'yEs', 'oN', 'tRue',
  // nulls
  '~', 'null', 'Null', 'NULL', 'nULL', "''", '""',
  // quoted: always strings
  '"01750"', "'yes'", '"on"', '"1e3"', "'0x1F'", '"true"', '"null"', '"1000"',
  // floats
  '1.5', '1.', '.5', '-.5', '+.5', '1e3', '1E3', '1e+3', '1.5e-3', '.5e3', '1_000.5', '6.02e23', '1e400', '.', '0.1_0',
  // timestamps and sexagesimal: strings to Go
  '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5', '190:20:30', '1:30', '12:30:00.5',
  // strings that look like something
  '0x', '0b', '0o', '1_', '_1', '1-2', 'v1.32.0', '10.96.0.0/12', '127.0.0.1', '=1', '0.0.0.0:8080', ':2112', '1.2.3',
  // binary
  '!!binary aGVsbG8=',
];

describe('YAML reading: the tool equals Go (kubectl, sigs.k8s.io/yaml)', () => {
  it('reads every tricky scalar as kubectl does', async (t) => {
    if (skip(t)) return;
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scalars\nv:\n${SCALARS.map((s, i) => `  c${i}: ${s}\n`).join('')}`;
    const go = await kubectlRead(write('scalars.yaml', text));
    assert.ok(go.ok, `kubectl: ${go.ok ? '' : go.error}`);
    const tool = toolRead(text);
    assert.ok(tool.ok, `tool: ${tool.ok ? '' : tool.error}`);
    const goV = (go.objects[0] as { v: Record<string, unknown> }).v;
    const toolV = (tool.objects[0] as { v: Record<string, unknown> }).v;
    const differ = SCALARS.flatMap((s, i) => (JSON.stringify(goV[`c${i}`]) === JSON.stringify(toolV[`c${i}`]) ? [] : [`${s}: kubectl ${JSON.stringify(goV[`c${i}`])}, tool ${JSON.stringify(toolV[`c${i}`])}`]));
    assert.deepEqual(differ, []);
    // Facts the whole issue turns on, written out so that a wrong oracle cannot hide them.
    assert.equal(goV[`c${SCALARS.indexOf('01750')}`], 1000);
    assert.equal(goV[`c${SCALARS.indexOf('on')}`], true);
    assert.equal(goV[`c${SCALARS.indexOf('y')}`], true);
  });

  const DOCUMENTS: Record<string, string> = {
    'merge keys, one and a list, explicit keys winning': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\nbase: &base\n  runAsUser: 1000\n  runAsGroup: 01750\nother: &other {fsGroup: 7, runAsUser: 1}\none:\n  <<: *base\n  runAsUser: 2000\nmany:\n  <<: [*other, *base]\n  extra: yes\n`,
    'anchors and aliases of scalars and lists': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nid: &id 0644\nlist: &l [on, off, 0x10]\ncopy: *id\ncopies: [*l, *l]\n`,
    'keys that are not strings': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k\nv:\n  yes: a\n  1: b\n  0750: c\n  1.5: d\n  off: f\n`,
    'block scalars, folded and literal, with indicators': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\nlit: |\n  line one\n    indented: yes\n  0750\nfold: >-\n  folded\n  text\nkeep: |+\n  kept\n\n`,
    // Not starting with `{`: Go would then decode the file as JSON (apimachinery's yaml.ToJSON).
    'flow collections and quoted keys': `kind: ConfigMap\n"apiVersion": "v1"\nmetadata: {name: f}\nv: {'on': on, "0750": 0750, list: [yes, 'no', "~", ~, 1e3]}\n`,
    'CRLF line endings and comments': 'apiVersion: v1\r\nkind: ConfigMap # a comment\r\nmetadata:\r\n  name: c\r\nv:\r\n  - 0750 # octal\r\n  - on\r\n',
    'a Pod with every 1.1 trap in its securityContext': `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: yes\n  securityContext:\n    runAsUser: 01750\n    runAsGroup: 0o17\n    runAsNonRoot: on\n  containers:\n  - name: c\n    image: i\n    volumeMounts:\n    - name: v\n      mountPath: /x\n      readOnly: on\n  volumes:\n  - name: v\n    hostPath:\n      path: /x\n`,
  };

  for (const [what, text] of Object.entries(DOCUMENTS)) {
    it(`reads ${what} as kubectl does`, async (t) => {
      if (skip(t)) return;
      const go = await kubectlRead(write('doc.yaml', text));
      assert.ok(go.ok, `kubectl: ${go.ok ? '' : go.error}`);
      assert.deepEqual(toolRead(text), go);
    });
  }

  // The oracle must be right before it judges: the tests' own pod reading (scripts/lib/pod-reading.ts,
  // what the runner and the access proof start pods from) reads a securityContext as kubectl does too.
  it("the tests' own pod reading reads a securityContext's integers as kubectl does", async (t) => {
    if (skip(t)) return;
    const ints = ['01750', '0o17', '0O17', '-0o1_7', '0x1F', '0X1F', '0b101', '0B101', '1_000', '"0o17"', '0o19'];
    const text = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  securityContext:\n${ints.map((v, i) => `    k${i}: ${v}\n`).join('')}  containers: []\n`;
    const go = await kubectlRead(write('ints.yaml', text));
    assert.ok(go.ok, `kubectl: ${go.ok ? '' : go.error}`);
    const kubectlContext = (go.objects[0] as { spec: { securityContext: Record<string, unknown> } }).spec.securityContext;
    assert.deepEqual(readPod(text).podSecurityContext, kubectlContext);
  });

  it('every manifest of test/fixtures and ../shared/corpus reads as kubectl reads it, or is refused by both', async (t) => {
    if (skip(t)) return;
    const dirs = [FIXTURES_DIR, CORPUS].flatMap((base) => {
      if (!existsSync(base)) return [];
      return readdirSync(base).map((d) => path.join(base, d)).filter((d) => statSync(d).isDirectory());
    });
    if (!existsSync(CORPUS) && skipUnlessPossible(t, [`${CORPUS} is missing (the shared real-world corpus beside the checkout)`])) return;
    const manifests = dirs.flatMap((dir) => readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((name) => path.join(dir, name)));
    // One kubectl for all of them when all decode (one object each); file by file otherwise.
    const all = await kubectlRead(...manifests);
    const together = all.ok && all.objects.length === manifests.length;
    let files = 0;
    for (const [i, file] of manifests.entries()) {
      const tool = toolRead(readFileSync(file, 'utf8'));
      const go = together ? { ok: true as const, objects: [all.objects[i]] } : await kubectlRead(file);
      const where = path.relative(path.dirname(path.dirname(path.dirname(file))), file);
      if (!go.ok) {
        // kubectl refuses it for a YAML reason only if the tool cannot read it either.
        if (/yaml|json|mapping|convert/i.test(go.error)) assert.equal(tool.ok, false, `${where}: kubectl cannot decode it (${go.error.trim()}), the tool can`);
        continue;
      }
      assert.ok(tool.ok, `${where}: kubectl reads it, the tool does not: ${tool.ok ? '' : tool.error}`);
      assert.deepEqual(tool.objects, go.objects, `${where}: read differently`);
      files++;
    }
    assert.ok(files >= 40, `compared ${files} manifests`);
  });
});

describe('YAML writing: what the tool writes reads back the same in YAML 1.1 (kubectl)', () => {
  it('strings that look like booleans, numbers or null stay strings; numbers stay numbers', async (t) => {
    if (skip(t)) return;
    const strings = ['yes', 'no', 'on', 'off', 'y', 'n', 'Y', 'N', 'true', 'null', '~', '', '0750', '01750', '0o17', '0x1F', '1e3', '1_000', '.5', '2001-12-14', '190:20:30', 'RuntimeDefault', 'ALL', 'NET_BIND_SERVICE'];
    const value = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w' }, strings, numbers: [0, 1000, 488, -1, 1.5], flags: [true, false, null] };
    const go = await kubectlRead(write('written.yaml', stringifyYaml(value)));
    assert.ok(go.ok, `kubectl: ${go.ok ? '' : go.error}`);
    assert.deepEqual(go.objects, [value]);
  });
});
