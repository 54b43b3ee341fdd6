import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unifiedDiff } from '../../src/plan/diff.js';
import { applySecurity, removeSecurity } from '../../src/plan/manifest-edit.js';
import { skipUnlessPossible } from '../support/prerequisites.js';

const FIXTURES = path.resolve(fileURLToPath(import.meta.url), '../../../../test/fixtures/manifests');

describe('unifiedDiff: hand-written expectations', () => {
  test('equal texts give the empty string', () => {
    assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y'), '');
    assert.equal(unifiedDiff('', '', 'x', 'y'), '');
  });

  test('one changed line in the middle, with 3 lines of context clipped at the file start', () => {
    const a = 'l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\n';
    const b = 'l1\nl2\nl3\nL4\nl5\nl6\nl7\nl8\n';
    assert.equal(unifiedDiff(a, b, 'a/f', 'b/f'), '--- a/f\n+++ b/f\n@@ -1,7 +1,7 @@\n l1\n l2\n l3\n-l4\n+L4\n l5\n l6\n l7\n');
  });

  test('a pure insertion: the old range names the line before it, counts of 1 are left out', () => {
    assert.equal(unifiedDiff('a\nb\n', 'a\nx\nb\n', 'o', 'n', 0), '--- o\n+++ n\n@@ -1,0 +2 @@\n+x\n');
    assert.equal(unifiedDiff('', 'x\n', 'o', 'n'), '--- o\n+++ n\n@@ -0,0 +1 @@\n+x\n');
    assert.equal(unifiedDiff('x\ny\n', '', 'o', 'n'), '--- o\n+++ n\n@@ -1,2 +0,0 @@\n-x\n-y\n');
  });

  test('a missing final newline is its own change and is marked', () => {
    assert.equal(unifiedDiff('a\nb', 'a\nb\n', 'o', 'n'), '--- o\n+++ n\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n');
    assert.equal(unifiedDiff('a\nb', 'x\nb', 'o', 'n'), '--- o\n+++ n\n@@ -1,2 +1,2 @@\n-a\n+x\n b\n\\ No newline at end of file\n');
  });

  test('changes 2*context lines apart share a hunk; one more line apart splits it', () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `l${i + 1}`);
    const a = lines(12).join('\n') + '\n';
    // changes at lines 2 and 5: 2 unchanged lines between them, context 1 → two hunks; context 2 wouldn't need more
    const b2 = a.replace('l2\n', 'X\n').replace('l5\n', 'Y\n');
    assert.equal(unifiedDiff(a, b2, 'o', 'n', 1), '--- o\n+++ n\n@@ -1,6 +1,6 @@\n l1\n-l2\n+X\n l3\n l4\n-l5\n+Y\n l6\n');
    const b3 = a.replace('l2\n', 'X\n').replace('l6\n', 'Y\n');
    assert.equal(unifiedDiff(a, b3, 'o', 'n', 1), '--- o\n+++ n\n@@ -1,3 +1,3 @@\n l1\n-l2\n+X\n l3\n@@ -5,3 +5,3 @@\n l5\n-l6\n+Y\n l7\n');
  });

  test('a repeated line that was added is shown after the existing copy (as GNU diff slides it down)', () => {
    assert.equal(unifiedDiff('a\nb\nc\n', 'a\nb\nb\nc\n', 'o', 'n', 0), '--- o\n+++ n\n@@ -2,0 +3 @@\n+b\n');
  });

});

/** GNU diff with --label prints the names as given, with no timestamps. Exit status 1 means "differ". */
function gnuDiff(dir: string, a: string, b: string, context: number): string {
  const fa = path.join(dir, 'a');
  const fb = path.join(dir, 'b');
  fs.writeFileSync(fa, a);
  fs.writeFileSync(fb, b);
  const r = spawnSync('diff', ['-U', String(context), '--label', 'old', '--label', 'new', fa, fb], { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, `diff failed: ${r.stderr} ${r.error ?? ''}`);
  return r.stdout;
}

describe('unifiedDiff matches GNU diff -u', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeadm-nonroot-diff-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const small: Array<[string, string, string]> = [
    ['insert at the start', 'b\nc\nd\n', 'a\nb\nc\nd\n'],
    ['delete at the end', 'a\nb\nc\nd\ne\n', 'a\nb\nc\n'],
    ['both without final newline', 'a\nb\nc', 'a\nB\nc'],
    ['final newline removed', 'a\nb\nc\n', 'a\nb\nc'],
    ['last line changed and newline added', 'a\nb', 'a\nc\n'],
    ['from empty', '', 'a\nb\n'],
    ['to empty', 'a\nb\n', ''],
    ['several hunks', Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n') + '\n', Array.from({ length: 40 }, (_, i) => (i % 9 === 4 ? `LINE ${i}` : `line ${i}`)).join('\n') + '\n'],
    ['runs that can merge', 'x\na\nb\na\nb\ny\n', 'x\na\nb\ny\n'],
    ['blank lines and repeated keys', 'a:\n\n  x: 1\n\nb:\n  x: 1\n', 'a:\n\n  x: 1\n  y: 2\n\nb:\n  x: 1\n  y: 2\n'],
  ];
  for (const [name, a, b] of small) {
    for (const context of [0, 1, 3]) {
      test(`${name}, context ${context}`, () => {
        assert.equal(unifiedDiff(a, b, 'old', 'new', context), gnuDiff(dir, a, b, context));
      });
    }
  }

  // GNU diff reads only `context` lines of the identical ends (its "horizon", io.c find_identical_ends),
  // so it may place an added copy of a repeated line elsewhere than the diff package does. Not a user
  // need: both are minimal diffs that GNU patch applies exactly (the manifest edits above match GNU's).
  test('an added copy in a run of equal lines: as many changed lines as GNU diff, and GNU patch applies it', (t) => {
    if (skipUnlessPossible(t, spawnSync('patch', ['--version']).status === 0 ? [] : ['GNU patch is not installed (Debian: apt-get install patch)'])) return;
    const a = 'a\nb\nc\na\na\na\n';
    const b = 'b\nc\na\na\na\na\n';
    const changed = (d: string) => d.split('\n').filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l)).length;
    for (const context of [0, 1, 3]) {
      const d = unifiedDiff(a, b, 'old', 'new', context);
      assert.equal(changed(d), changed(gnuDiff(dir, a, b, context)), `context ${context}`);
      fs.writeFileSync(path.join(dir, 'target'), a);
      const r = spawnSync('patch', ['--quiet', '--force', '--fuzz=0', path.join(dir, 'target')], { input: d, encoding: 'utf8' });
      assert.equal(r.status, 0, `patch: ${r.stdout}${r.stderr}`);
      assert.equal(fs.readFileSync(path.join(dir, 'target'), 'utf8'), b, `context ${context}`);
    }
  });

  // Real cases: the edits the tool makes to the fixture manifests, in both directions.
  const realCases: Array<[string, string]> = [
    ['v1.16-centos-stacked', 'kube-apiserver.yaml'],
    ['v1.17-kms-encryption-apiserver-only', 'kube-apiserver.yaml'],
    ['v1.22-ubuntu-stacked-seccomp-root', 'kube-scheduler.yaml'],
    ['v1.28.0-defaulted-fields', 'etcd.yaml'],
    ['v1.31-rootless-control-plane', 'kube-controller-manager.yaml'],
  ];
  for (const [caseName, file] of realCases) {
    test(`manifest edit of ${caseName}/${file}`, () => {
      const original = fs.readFileSync(path.join(FIXTURES, caseName, file), 'utf8');
      const seccomp = caseName.startsWith('v1.16') || caseName.startsWith('v1.17') ? 'annotation' : 'field';
      const edited = applySecurity(original, { runAsUser: 2001, runAsGroup: 2002, supplementalGroups: [2100], seccomp, capabilitiesAdd: [], allowPrivilegeEscalation: false }).text;
      const stripped = removeSecurity(original, { keepSeccompField: false, removeSeccompAnnotation: true }).text;
      for (const [x, y] of [[original, edited], [edited, original], [original, stripped]] as const) {
        for (const context of [0, 3]) assert.equal(unifiedDiff(x, y, 'old', 'new', context), gnuDiff(dir, x, y, context));
      }
    });
  }
});

describe('unifiedDiff: properties on generated inputs', () => {
  /** Apply a unified diff to `a`, checking each hunk header against its body; throws on any inconsistency. */
  function patch(a: string, diff: string): string {
    const src = a === '' ? [] : a.split(/(?<=\n)/);
    const lines = diff.split('\n');
    assert.equal(lines[0], '--- old');
    assert.equal(lines[1], '+++ new');
    const out: string[] = [];
    let next = 0; // next unread line of src (0-based)
    let i = 2;
    while (i < lines.length - 1) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[i]!);
      assert.ok(m, `bad hunk header: ${lines[i]}`);
      const oldCount = m[2] === undefined ? 1 : Number(m[2]);
      const newCount = m[4] === undefined ? 1 : Number(m[4]);
      const oldStart = oldCount === 0 ? Number(m[1]) : Number(m[1]) - 1;
      assert.ok(oldStart >= next, 'hunks out of order');
      out.push(...src.slice(next, oldStart));
      next = oldStart;
      let seenOld = 0;
      let seenNew = 0;
      i++;
      while (i < lines.length - 1 && !lines[i]!.startsWith('@@')) {
        const l = lines[i]!;
        const noEol = lines[i + 1] === '\\ No newline at end of file';
        const text = l.slice(1) + (noEol ? '' : '\n');
        if (l[0] === ' ' || l[0] === '-') {
          assert.equal(src[next], text, `context/deleted line mismatch at old line ${next + 1}`);
          next++;
          seenOld++;
        }
        if (l[0] === ' ' || l[0] === '+') {
          out.push(text);
          seenNew++;
        }
        assert.ok(' -+'.includes(l[0]!), `bad line: ${l}`);
        i += noEol ? 2 : 1;
      }
      assert.equal(seenOld, oldCount, 'old count in header');
      assert.equal(seenNew, newCount, 'new count in header');
    }
    return out.join('') + src.slice(next).join('');
  }

  function lcsLength(a: string[], b: string[]): number {
    const row = new Array<number>(b.length + 1).fill(0);
    for (let i = 1; i <= a.length; i++) {
      let diag = 0;
      for (let j = 1; j <= b.length; j++) {
        const up = row[j]!;
        row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(up, row[j - 1]!);
        diag = up;
      }
    }
    return row[b.length]!;
  }

  test('for 400 seeded random pairs, the diff patches a into b and is minimal', () => {
    let seed = 20240611;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const gen = () => {
      const alphabet = 'abcdef'.slice(0, 1 + rnd(6));
      let s = Array.from({ length: rnd(30) }, () => alphabet[rnd(alphabet.length)] + '\n').join('');
      if (s !== '' && rnd(4) === 0) s = s.slice(0, -1);
      return s;
    };
    for (let n = 0; n < 400; n++) {
      const a = gen();
      const b = gen();
      const context = rnd(4);
      const d = unifiedDiff(a, b, 'old', 'new', context);
      if (a === b) {
        assert.equal(d, '');
        continue;
      }
      assert.equal(patch(a, d), b, `case ${n}: ${JSON.stringify([a, b, context])}`);
      const la = a === '' ? [] : a.split(/(?<=\n)/);
      const lb = b === '' ? [] : b.split(/(?<=\n)/);
      const changed = d.split('\n').filter((l) => /^[-+]/.test(l) && !l.startsWith('--- ') && !l.startsWith('+++ ')).length;
      assert.equal(changed, la.length + lb.length - 2 * lcsLength(la, lb), `case ${n} not minimal`);
    }
  });
});
