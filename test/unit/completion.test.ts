// The generated completion script, exercised by a real bash the way readline calls it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BIN, staleBundle } from '../../scripts/lib/cli-run.js';

const script = (shell: string) => execFileSync(process.execPath, [BIN, 'completion', shell], { encoding: 'utf8' });

function complete(words: string[]): string[] {
  const bash = `${script('bash')}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _kubeadm_nonroot; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', bash], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

describe('shell completion', () => {
  it('completes command names', () => {
    assert.deepEqual(complete(['kubeadm-nonroot', 're']), ['revert']);
    assert.deepEqual(complete(['kubeadm-nonroot', 'p']), ['patches', 'plan']);
  });
  it("completes a command's own options after global options with values", () => {
    assert.deepEqual(complete(['kubeadm-nonroot', '--root', '/x', 'rollback', '--k']), ['--keep-accounts']);
    assert.deepEqual(complete(['kubeadm-nonroot', 'plan', '--kub']), ['--kubernetes-version']);
  });
  it('completes output formats', () => {
    assert.deepEqual(complete(['kubeadm-nonroot', 'verify', '-o', '']), ['json', 'text', 'yaml']);
  });
  it('zsh script loads bash completion through bashcompinit', () => {
    const z = script('zsh');
    assert.match(z, /^#compdef kubeadm-nonroot\n/);
    assert.match(z, /bashcompinit/);
    assert.match(z, /complete -F _kubeadm_nonroot kubeadm-nonroot/);
  });
  it('refuses an unknown shell with exit 2', () => {
    assert.throws(() => execFileSync(process.execPath, [BIN, 'completion', 'fish'], { stdio: 'pipe' }), (e: { status: number }) => e.status === 2);
  });
});

describe('the CLI under test is never a stale bundle', () => {
  it('a bundle older than any file of src/ or dist/src/ is refused, naming it and "npm run build"', () => {
    const repo = mkdtempSync(path.join(tmpdir(), 'stale-bundle-'));
    try {
      for (const f of ['dist/cli/kubeadm-nonroot.cjs', 'dist/src/cli/main.js', 'src/cli/main.ts']) {
        mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
        writeFileSync(path.join(repo, f), '');
      }
      const at = (f: string, s: number) => utimesSync(path.join(repo, f), s, s);
      at('src/cli/main.ts', 1000);
      at('dist/src/cli/main.js', 1000);
      at('dist/cli/kubeadm-nonroot.cjs', 2000);
      assert.equal(staleBundle(repo), null);
      at('dist/src/cli/main.js', 3000); // tsc ran, the bundle did not
      assert.match(staleBundle(repo) ?? '', /kubeadm-nonroot\.cjs is older than .*dist\/src\/cli\/main\.js.*run "npm run build --silent"/);
      at('dist/src/cli/main.js', 1000);
      at('src/cli/main.ts', 3000); // an edit not built at all
      assert.match(staleBundle(repo) ?? '', /older than .*\/src\/cli\/main\.ts/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
