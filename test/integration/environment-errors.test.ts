// An error of the machine, not of the tool — a root this user may not read, a --proc that is not a
// procfs, a program that is not installed — is a refusal (exit 2) that says how to fix it, found
// before any change; never exit 4 "This is a bug", never a failure after every change.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { missingPrograms } from '../../src/inputs.js';
import { addSystemDirs, BIN, runCli, show } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const FIXTURE = 'v1.31-ubuntu-stacked-kube-vip';

describe('environmental errors are refusals with the fix', { skip: NEEDS_ROOT }, () => {
  it('plan as an unprivileged user on a root it may not read: exit 2 naming the path and the fix, not a bug', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await chmod(sb.root, 0o700);
      const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile('/usr/bin/setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, BIN, 'plan', '--root', sb.root], { env: { PATH: process.env.PATH, LC_ALL: 'C' } }, (e, _out, stderr) =>
          resolve({ code: e ? Number((e as { code?: number }).code) : 0, stderr }),
        ),
      );
      assert.equal(r.code, 2, r.stderr);
      assert.doesNotMatch(r.stderr, /This is a bug/);
      assert.match(r.stderr, new RegExp(`${sb.root}/\\S+: cannot read it as uid 65534 \\(EACCES\\); run as root \\(sudo\\), or give this user read access to --root`));
    } finally {
      await sb.cleanup();
    }
  });

  it('apply with a --proc that has no stat: exit 2 before any change, the tree untouched', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    const proc = await mkdtemp(path.join(tmpdir(), 'no-procfs-'));
    try {
      await addSystemDirs(sb.root);
      const before = await snapshotTree(sb.root);
      const r = await runCli(['apply', '--root', sb.root, '--yes', '--timeout', '5s', '--proc', proc]);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, new RegExp(`--proc ${proc}: no readable ${proc}/stat .*point --proc at a procfs mount such as /proc, or use --no-wait`));
      assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.root), { ignore: isToolState }), []);
      assert.deepEqual([...(await snapshotTree(sb.root)).keys()].filter(isToolState), [], 'not even a journal was started');
    } finally {
      await rm(proc, { recursive: true, force: true });
      await sb.cleanup();
    }
  });
});

describe('the programs a run needs are checked before it starts', () => {
  it('missingPrograms names what no directory of the search path holds as an executable', () => {
    assert.deepEqual(missingPrograms(['sh', 'kubeadm-nonroot-no-such-program'], '/usr/bin:/bin'), ['kubeadm-nonroot-no-such-program']);
    assert.deepEqual(missingPrograms(['chown', 'find'], '/nonexistent'), ['chown', 'find']);
  });
});
