// The generated completion script, exercised by a real bash the way readline calls it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { BIN } from '../support/paths.js';

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
