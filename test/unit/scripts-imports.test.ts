// A rule of the house: scripts/ never imports test/ (tests may import scripts). What both use lives in
// scripts/lib/; test/support/ holds what only tests use. Judged on every module specifier TypeScript's
// own pre-processor finds (static imports, `export … from`, dynamic import(), import = require()).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..'); // from dist/test/unit
const SCRIPTS = path.join(REPO, 'scripts');
const TEST = path.join(REPO, 'test');

/** The imports of `file` (its text `text`) that resolve to a path under test/, as "file:line: specifier". */
function testImports(file: string, text: string): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .filter(({ fileName }) => fileName.startsWith('.') || path.isAbsolute(fileName))
    .filter(({ fileName }) => {
      const target = path.resolve(path.dirname(file), fileName);
      return target === TEST || target.startsWith(`${TEST}${path.sep}`);
    })
    .map(({ fileName, pos }) => `${path.relative(REPO, file)}:${text.slice(0, pos).split('\n').length}: ${fileName}`);
}

function sourcesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourcesBelow(path.join(dir, e.name)) : /\.(ts|mts|cts|js|mjs|cjs)$/.test(e.name) ? [path.join(dir, e.name)] : [],
  );
}

describe('scripts/ never imports test/', () => {
  it('no file under scripts/ imports a module under test/', () => {
    const files = sourcesBelow(SCRIPTS);
    assert.ok(files.length > 10, `expected the scripts' sources under ${SCRIPTS}, found ${files.length}`);
    const bad = files.flatMap((f) => testImports(f, readFileSync(f, 'utf8')));
    assert.deepEqual(bad, [], 'move what a script needs from test/ into scripts/lib/ (with git mv) and import it from there');
  });

  it('the check catches every form of import of test/, and nothing else', () => {
    const file = path.join(SCRIPTS, 'example.ts');
    const caught = (text: string) => testImports(file, text).length;
    assert.equal(caught(`import { buildSandbox } from '../test/support/sandbox.js';`), 1);
    assert.equal(caught(`import type { Comp } from '../test/node/support.js';`), 1);
    assert.equal(caught(`export { show } from '../test/support/cli.js';`), 1);
    assert.equal(caught(`export * from '../test/support/cli.js';`), 1);
    assert.equal(caught(`const m = await import('../test/support/pki.js');`), 1);
    assert.equal(caught(`import '../test/support/side-effect.js';`), 1);
    assert.equal(caught(`import x = require('../test/support/accounts.js');`), 1);
    assert.equal(testImports(path.join(SCRIPTS, 'lib', 'x.ts'), `import { a } from '../../test/support/a.js';`).length, 1, 'from scripts/lib');
    assert.equal(caught(`import { test } from 'node:test';\nimport { buildSandbox } from './lib/sandbox.js';\nimport { x } from '../src/test-things.js';\nimport { y } from '../testdata/y.js';`), 0);
  });
});
