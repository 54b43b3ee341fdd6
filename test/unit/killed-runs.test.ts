// What a killed script run leaves behind is cleared by the next run, once the killed process is gone
// (never what a live run is writing). The kubeadm fixtures generator (scripts/kubeadm-fixtures.ts
// writeCase) replaces a case through `<case>.tmp-<pid>` and `<case>.old-<pid>` beside it: never read as
// cases, removed by the next write of the case. The Node.js fetch (scripts/lib/node-dist.ts) unpacks
// into `fetch-<pid>-*` in its cache: removed by the next fetch.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { caseFiles, type CaseOutput, writeCase } from '../../scripts/kubeadm-fixtures.js';
import { listKubeadmCases, readCaseDir } from '../../scripts/lib/kubeadm-cases.js';
import { NODE_LTS, nodeBinaryOf } from '../../scripts/lib/node-dist.js';
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

describe('the Node.js fetch: a killed run', () => {
  it("the next fetch removes a dead fetch's directory, keeps a live one's", () => {
    const cache = join(scratch, 'node-cache');
    const release = NODE_LTS[0];
    mkdirSync(cache);
    // The binary is cached already: nothing is fetched, only the leftovers are judged.
    writeFileSync(join(cache, `node-v${release.version}-linux-x64`), '');
    const dead = deadPid();
    const live = spawn('sleep', ['30']);
    try {
      for (const left of [`fetch-${dead}-AbCdEf`, `fetch-${live.pid}-GhIjKl`]) mkdirSync(join(cache, left));
      assert.equal(nodeBinaryOf(release, 'x64', cache), join(cache, `node-v${release.version}-linux-x64`));
      assert.deepEqual(readdirSync(cache).sort(), [`fetch-${live.pid}-GhIjKl`, `node-v${release.version}-linux-x64`]);
    } finally {
      live.kill();
    }
  });
});
