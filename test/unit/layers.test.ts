// The layers, checked on the sources' imports (read by TypeScript's own preProcessFile, dynamic
// import() included): src/cli wires commander and renders, so it imports the command functions
// (src/commands), the renderers and its own files — never the steps those commands orchestrate;
// src/verify never imports src/apply; src/plan reads nothing of the node itself; nothing below src/cli
// imports it. The allowed imports are listed by hand, each exception with its reason.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/** Every .ts file under src/DIR (recursively), with the module specifiers it imports. */
function importsUnder(dir: string): Array<{ file: string; specifiers: string[] }> {
  return readdirSync(path.join(SRC, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => {
      const text = readFileSync(path.join(SRC, dir, f), 'utf8');
      return { file: path.join(dir, f), specifiers: ts.preProcessFile(text, true, true).importedFiles.map((i) => i.fileName) };
    });
}

/** What a src/cli file may import besides its own files, node:* and its libraries. */
const CLI_ALLOWED = [/^\.\.\/commands\//, /^\.\.\/render\//, /^\.\.\/errors\.js$/, /^\.\.\/version\.js$/];
/** Exceptions, by file and specifier. */
const CLI_EXCEPTIONS: Record<string, string[]> = {
  // The rollback command line printed after an apply (the runner prints the same in manual steps).
  'cli/apply.ts': ['../apply/rollback-hint.js', '../plan/types.js' /* the Plan type the renderer takes */],
  // The events the progress display renders (a type).
  'cli/progress.ts': ['../apply/run.js'],
  // The problems noteBlocked names (a type).
  'cli/output.ts': ['../plan/types.js'],
  // Exit 4 (a bug) reports where the latest run's journal stands.
  'cli/main.ts': ['../state/backups.js'],
};
const LIBRARIES = new Set(['commander', 'listr2']);

describe('layers', () => {
  it('src/cli imports only the command functions, the renderers and its own files (exceptions listed)', () => {
    const wrong = importsUnder('cli').flatMap(({ file, specifiers }) =>
      specifiers
        .filter((s) => !s.startsWith('./') && !s.startsWith('node:') && !LIBRARIES.has(s))
        .filter((s) => !CLI_ALLOWED.some((re) => re.test(s)) && !(CLI_EXCEPTIONS[file] ?? []).includes(s))
        .map((s) => `${file} imports ${s}`),
    );
    assert.deepEqual(wrong, []);
  });

  it('src/verify never imports src/apply or the commands', () => {
    const wrong = importsUnder('verify').flatMap(({ file, specifiers }) => specifiers.filter((s) => /^\.\.\/(apply|commands|cli)\//.test(s)).map((s) => `${file} imports ${s}`));
    assert.deepEqual(wrong, []);
  });

  it('src/plan reads nothing of the node: no discover, inputs, apply, commands or cli', () => {
    const wrong = importsUnder('plan').flatMap(({ file, specifiers }) => specifiers.filter((s) => /^\.\.\/(discover|apply|commands|cli)\/|^\.\.\/inputs\.js$/.test(s)).map((s) => `${file} imports ${s}`));
    assert.deepEqual(wrong, []);
  });

  it('nothing below src/cli imports it', () => {
    const below = importsUnder('.').filter(({ file }) => !file.startsWith(`cli${path.sep}`));
    const wrong = below.flatMap(({ file, specifiers }) => specifiers.filter((s) => /\/cli\//.test(s)).map((s) => `${file} imports ${s}`));
    assert.deepEqual(wrong, []);
  });
});
