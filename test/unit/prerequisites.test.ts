// KUBEADM_NONROOT_REQUIRE_E2E=1 (CI) turns every skip into a failure. Proven two ways: (1) no test file
// skips except through test/support/prerequisites.ts; (2) test files run as an unprivileged user with
// the variable set FAIL (and pass, skipping, without it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { skipOrFail } from '../support/prerequisites.js';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // dist/test/unit
const DIST_TEST = path.resolve(HERE, '..');
const SRC_TEST = path.resolve(HERE, '../../../test');

const PREREQUISITES = path.join(SRC_TEST, 'support/prerequisites.ts');

/** The module a relative import names, as a .ts path (the sources import their .js names). */
function importedModule(from: string, specifier: string): string | null {
  return specifier.startsWith('.') ? path.resolve(path.dirname(from), specifier.replace(/\.js$/, '.ts')) : null;
}

/**
 * The skips of one test file that do not provably come from test/support/prerequisites.ts: every
 * `.skip(…)` call (t.skip, test.skip, it.skip, describe.skip), and every `skip` option whose value is
 * not skipOrFail(…) imported from prerequisites.ts — directly, `a || b` of such values, or a const
 * initialised so (in the file, or exported so by a module it imports, followed there).
 */
function skipViolations(file: string, text: string): string[] {
  const out: string[] = [];
  const sources = new Map<string, ts.SourceFile>();
  const parsed = (f: string, t?: string): ts.SourceFile => {
    if (!sources.has(f)) sources.set(f, ts.createSourceFile(f, t ?? readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, true));
    return sources.get(f)!;
  };
  /** Where `name` comes from in `sf`: a top-level const's initialiser, or an import (module and exported name). */
  const binding = (sf: ts.SourceFile, name: string): { init: ts.Expression } | { module: string; exported: string } | null => {
    // Consts at any depth (a describe callback's own), each name declared once in these files.
    let init: ts.Expression | null = null;
    const findConst = (n: ts.Node): void => {
      if (ts.isVariableDeclarationList(n) && n.flags & ts.NodeFlags.Const) {
        for (const d of n.declarations) if (ts.isIdentifier(d.name) && d.name.text === name && d.initializer) init ??= d.initializer;
      }
      ts.forEachChild(n, findConst);
    };
    findConst(sf);
    if (init) return { init };
    for (const st of sf.statements) {
      if (ts.isFunctionDeclaration(st) && st.name?.text === name) return null;
      if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier) && st.importClause?.namedBindings && ts.isNamedImports(st.importClause.namedBindings)) {
        for (const el of st.importClause.namedBindings.elements) {
          if (el.name.text !== name) continue;
          const module = importedModule(sf.fileName, st.moduleSpecifier.text);
          return module ? { module, exported: (el.propertyName ?? el.name).text } : null;
        }
      }
    }
    return null;
  };
  const isSkipOrFail = (sf: ts.SourceFile, callee: ts.Expression): boolean => {
    if (!ts.isIdentifier(callee)) return false;
    const b = binding(sf, callee.text);
    return b !== null && 'module' in b && b.module === PREREQUISITES && b.exported === 'skipOrFail';
  };
  const fromPrerequisites = (sf: ts.SourceFile, e: ts.Expression, depth = 0): boolean => {
    if (depth > 8) return false;
    if (ts.isParenthesizedExpression(e)) return fromPrerequisites(sf, e.expression, depth);
    if (ts.isCallExpression(e)) return isSkipOrFail(sf, e.expression);
    if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.BarBarToken) return fromPrerequisites(sf, e.left, depth) && fromPrerequisites(sf, e.right, depth);
    if (!ts.isIdentifier(e)) return false;
    const b = binding(sf, e.text);
    if (!b) return false;
    if ('init' in b) return fromPrerequisites(sf, b.init, depth + 1);
    if (!existsSync(b.module)) return false;
    const target = parsed(b.module);
    const exported = binding(target, b.exported);
    return exported !== null && 'init' in exported && fromPrerequisites(target, exported.init, depth + 1);
  };
  const sf = parsed(file, text);
  const where = (n: ts.Node) => `${path.relative(SRC_TEST, file)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}: ${n.getText().split('\n')[0]}`;
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === 'skip') out.push(where(n));
    if (ts.isPropertyAssignment(n) && n.name.getText() === 'skip' && !fromPrerequisites(sf, n.initializer)) out.push(where(n));
    if (ts.isShorthandPropertyAssignment(n) && n.name.text === 'skip' && !fromPrerequisites(sf, n.name)) out.push(where(n));
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('KUBEADM_NONROOT_REQUIRE_E2E=1', () => {
  it('every skip under test/ comes from skipOrFail or skipUnlessPossible, judged on the syntax tree', () => {
    const bad = tsFiles(SRC_TEST).filter((f) => !f.endsWith('/support/prerequisites.ts')).flatMap((f) => skipViolations(f, readFileSync(f, 'utf8')));
    assert.deepEqual(bad, []);
  });

  it('the skip lint catches a skip that does not come from prerequisites.ts', () => {
    const file = path.join(SRC_TEST, 'integration/example.test.ts');
    const sample = (body: string) => `import { test } from 'node:test';\nimport { skipOrFail } from '../support/prerequisites.js';\nimport { NEEDS_ROOT } from '../support/cli-root.js';\n${body}`;
    const caught = (body: string) => skipViolations(file, sample(body)).length > 0;
    // The shape sea.test.ts had: a string reason that never reaches skipOrFail.
    assert.ok(caught(`const S = NEEDS_ROOT || (process.arch !== 'x64' ? 'arm64' : skipOrFail(false));\ntest('x', { skip: S }, () => {});`));
    assert.ok(caught(`test('x', { skip: process.getuid() !== 0 }, () => {});`));
    assert.ok(caught(`test('x', (t) => { t.skip('no'); });`));
    assert.ok(caught(`test.skip('x', () => {});`));
    assert.ok(caught(`const skip = 'no';\ntest('x', { skip }, () => {});`));
    assert.ok(caught(`const skipOrFail = (r: string) => r;\ntest('x', { skip: skipOrFail('no') }, () => {});`), 'a local function of the same name is not prerequisites');
    assert.ok(!caught(`const S = NEEDS_ROOT || skipOrFail(!process.env.X && 'no X');\ntest('x', { skip: S }, () => {});\ntest('y', { skip: skipOrFail(false) }, () => {});`));
  });

  const files = ['unit/census.test.js', 'integration/no-run-dir.test.js'].map((f) => path.join(DIST_TEST, f));
  const CANNOT_DROP = skipOrFail((process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv')) && 'needs root and setpriv to run a child as nobody');
  for (const file of files) {
    it(`${path.basename(file)} run as an unprivileged user: skips without it, fails with it`, { skip: CANNOT_DROP }, async () => {
      const run = (required: boolean) =>
        new Promise<{ code: number; out: string }>((resolve) => {
          const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: '/tmp' };
          if (required) env.KUBEADM_NONROOT_REQUIRE_E2E = '1';
          execFile('/usr/bin/setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '--test', '--test-reporter=tap', file], { env, cwd: '/tmp' }, (e, stdout, stderr) =>
            resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
          );
        });
      const relaxed = await run(false);
      assert.equal(relaxed.code, 0, relaxed.out);
      assert.match(relaxed.out, /# SKIP /);
      const strict = await run(true);
      assert.notEqual(strict.code, 0, strict.out);
      assert.match(strict.out, /KUBEADM_NONROOT_REQUIRE_E2E=1 but these tests cannot run: /);
    });
  }
});
