// KUBEADM_NONROOT_REQUIRE_E2E=1 (CI) turns every skip into a failure. Proven two ways: (1) no test file
// skips except through test/support/prerequisites.ts; (2) test files run as an unprivileged user with
// the variable set FAIL (and pass, skipping, without it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skipOrFail } from '../support/prerequisites.js';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // dist/test/unit
const DIST_TEST = path.resolve(HERE, '..');
const SRC_TEST = path.resolve(HERE, '../../../test');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('KUBEADM_NONROOT_REQUIRE_E2E=1', () => {
  it('every skip under test/ goes through skipOrFail or skipUnlessPossible', () => {
    const bad: string[] = [];
    for (const f of tsFiles(SRC_TEST)) {
      if (f.endsWith('/support/prerequisites.ts') || f.endsWith('/unit/prerequisites.test.ts')) continue;
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        // A direct t.skip(…)/test.skip(…), or a skip: option computed in place rather than by a helper.
        const option = /\bskip:\s*([\w.]+\(?)/.exec(line)?.[1];
        const viaHelper = option === undefined || /^(NEEDS_ROOT|SKIP|SKIP_ARM64|NO_ENVSUBST|CANNOT_DROP|skipOrFail\()$/.test(option);
        if (/\b(t|test|it|describe)\.skip\(/.test(line) || !viaHelper) bad.push(`${path.relative(SRC_TEST, f)}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(bad, []);
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
