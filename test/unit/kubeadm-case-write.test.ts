// The kubeadm fixtures generator (scripts/kubeadm-fixtures.ts writeCase) replaces a case through a
// sibling temporary directory; a run killed mid-way leaves `<case>.tmp-<pid>` or `<case>.old-<pid>`
// beside the cases. Those are never read as cases, and the next write of that case removes them once
// their process is gone (never those of a live run).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { caseFiles, type CaseOutput, writeCase } from '../../scripts/kubeadm-fixtures.js';
import { listKubeadmCases, readCaseDir } from '../../scripts/lib/kubeadm-cases.js';
import { REPO_ROOT } from '../../scripts/lib/paths.js';

const scratch = mkdtempSync(join(tmpdir(), 'kubeadm-case-write-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A pid that named a process a moment ago and names none now. */
const deadPid = (): number => Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());

const OUT: CaseOutput = {
  config: 'kind: InitConfiguration\n',
  manifests: { 'etcd.yaml': 'kind: Pod\n' },
  listing: 'file 0600 root root /etc/kubernetes/admin.conf\n',
  accounts: '',
  patches: {},
  kubeadmPatched: {},
};

describe('kubeadm fixture cases: a killed generator run', () => {
  it("writeCase removes a dead run's temporaries of the case, keeps a live run's, and writes exactly the new files", async () => {
    const release = join(scratch, 'write', 'v1.36.3');
    const dir = join(release, 'default');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'stale.txt'), 'from the old generator\n');
    const dead = deadPid();
    const live = spawn('sleep', ['30']);
    try {
      for (const left of [`default.tmp-${dead}`, `default.old-${dead}`, `default.tmp-${live.pid}`, `external-etcd.tmp-${dead}`]) mkdirSync(join(release, left));
      await writeCase(dir, OUT);
      assert.deepEqual(readdirSync(release).sort(), ['default', `default.tmp-${live.pid}`, `external-etcd.tmp-${dead}`]);
      assert.deepEqual(readCaseDir(dir), caseFiles(OUT));
    } finally {
      live.kill();
    }
  });

  it('listKubeadmCases reads only case directories, not the temporaries beside them', () => {
    const top = join(scratch, 'list');
    const committed = join(REPO_ROOT, 'test/fixtures/kubeadm/v1.36.3/default');
    assert.ok(existsSync(committed), `${committed}: the committed case this test copies`);
    for (const name of ['default', 'default.tmp-4242', 'default.old-4242']) cpSync(committed, join(top, 'v1.36.3', name), { recursive: true });
    assert.deepEqual(listKubeadmCases(top).map((c) => c.id), ['v1.36.3/default']);
  });
});
