// --root and --proc must name directories: anything else is one InputError line (exit 2), never a raw
// ENOENT/ENOTDIR from deep inside discovery.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { requireDir } from '../../src/inputs.js';
import { InputError } from '../../src/errors.js';

test('requireDir accepts a directory and answers everything else in one line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kubeadm-nonroot-inputs-'));
  try {
    const file = path.join(dir, 'file');
    writeFileSync(file, '');
    assert.doesNotThrow(() => requireDir(dir, '--root'));
    for (const bad of [path.join(dir, 'missing'), file, path.join(file, 'below-a-file')]) {
      assert.throws(() => requireDir(bad, '--root'), (e: unknown) => e instanceof InputError && e.message === `--root ${bad}: no such directory`, bad);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
