// The sandbox's layout (scripts/lib/sandbox-layout.ts) is not shaped by the code under test: it never
// reads the tool's access analysis, and its small rules for manifests without an INDEX table lay out,
// on every fixture case, exactly what the hand-checked INDEX tables (test/fixtures/manifests/INDEX.md)
// say each component reads and writes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readIndexTables } from '../../scripts/lib/index-tables.js';
import { REPO_ROOT } from '../../scripts/lib/paths.js';
import { readPod } from '../../scripts/lib/pod-reading.js';
import { fixturesDir } from '../../scripts/lib/sandbox.js';
import { componentOf, pathsFromFlags, pathsFromIndex, type LaidOutPath } from '../../scripts/lib/sandbox-layout.js';

const key = (p: LaidOutPath) => `${p.flag} ${p.hostPath} ${p.access} ${p.target}${p.secret ? ' secret' : ''}`;

describe('sandbox layout', () => {
  it('imports nothing from src/: the tool under test does not decide which files a sandbox holds', () => {
    for (const file of ['sandbox.ts', 'sandbox-layout.ts', 'pod-reading.ts', 'index-tables.ts']) {
      const text = readFileSync(path.join(REPO_ROOT, 'scripts', 'lib', file), 'utf8');
      assert.deepEqual(text.match(/from '(\.\.\/)+src\/[^']*'/g) ?? [], [], `scripts/lib/${file}`);
    }
  });

  const tables = readIndexTables();
  for (const [fixture, files] of tables) {
    it(`${fixture}: the flag rules lay out what its INDEX table says`, () => {
      for (const [file, rows] of files) {
        const pod = readPod(readFileSync(path.join(fixturesDir(), fixture, file), 'utf8'));
        const component = componentOf(file, pod);
        if (component === null) {
          assert.deepEqual(rows, [], `${file}: not a kubeadm component, no rows`);
          continue;
        }
        assert.ok(rows.length > 0, `${file}: the INDEX has its flags`);
        assert.deepEqual(pathsFromFlags(component, pod).map(key).sort(), pathsFromIndex(component, pod, rows).map(key).sort(), file);
      }
    });
  }

  it('applies the write and secret rules as written out by hand', () => {
    const rows = tables.get('v1.29-audit-encryption')!.get('kube-apiserver.yaml')!;
    const pod = readPod(readFileSync(path.join(fixturesDir(), 'v1.29-audit-encryption', 'kube-apiserver.yaml'), 'utf8'));
    const laid = new Map(pathsFromIndex('kube-apiserver', pod, rows).map((p) => [p.flag, key(p)]));
    assert.equal(laid.get('--audit-log-path'), '--audit-log-path /var/log/kubernetes/audit write dir');
    assert.equal(laid.get('--encryption-provider-config'), '--encryption-provider-config /etc/kubernetes/enc/encryption-config.yaml read file secret');
    assert.equal(laid.get('--audit-policy-file'), '--audit-policy-file /etc/kubernetes/audit-policy.yaml read file');
    assert.equal(laid.get('--service-account-key-file'), '--service-account-key-file /etc/kubernetes/pki/sa.pub read file');
    assert.equal(laid.get('--etcd-keyfile'), '--etcd-keyfile /etc/kubernetes/pki/apiserver-etcd-client.key read file secret');
  });
});
