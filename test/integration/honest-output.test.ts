// What the CLI says and how it ends, one meaning per exit code (docs/exit-codes.md): refusals before
// any change (not root, a typo'd --root), a blocked plan's reason on stderr also with -o json, verify
// on a never-migrated node in one line, --no-wait saying what was not checked, the rollback preview
// naming the owner/mode it restores, --keep-accounts journaling only what it undid, exit 4 for the
// unforeseen with the journal's state.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { addSystemDirs, BIN, runCli, show } from '../../scripts/lib/cli-run.js';
import { NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';
import { execFile } from 'node:child_process';

const FIXTURE = 'v1.31-ubuntu-stacked-kube-vip';
const BACKUPS = 'var/lib/kubeadm-nonroot/backups';

async function journal(root: string): Promise<Array<{ t: string; step?: string; reason?: string }>> {
  const ids = (await readdir(path.join(root, BACKUPS))).sort();
  return (await readFile(path.join(root, BACKUPS, ids[ids.length - 1]!, 'journal.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('honest output and exit codes', { skip: NEEDS_ROOT, concurrency: 2 }, () => {
  it('apply, revert and rollback refuse to run without root: exit 2, nothing changed; plan runs', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await addSystemDirs(sb.root);
      const before = await snapshotTree(sb.root);
      // setpriv to nobody: the kernel, not a flag, makes this process unprivileged.
      const asNobody = (args: string[]) =>
        new Promise<{ code: number | null; signal: null; stdout: string; stderr: string }>((resolve) => {
          execFile('/usr/bin/setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } }, (e, stdout, stderr) =>
            resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, signal: null, stdout, stderr }),
          );
        });
      for (const cmd of [['apply', '--yes', '--no-wait'], ['revert', '--yes', '--no-wait'], ['rollback', '--yes', '--no-wait']]) {
        const r = await asNobody([cmd[0]!, '--root', sb.root, ...cmd.slice(1)]);
        assert.equal(r.code, 2, show(r));
        assert.match(r.stderr, new RegExp(`^kubeadm-nonroot: ${cmd[0]} must run as root \\(running as uid 65534\\)`));
      }
      assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.root), { ignore: () => false }), []);
    } finally {
      await sb.cleanup();
    }
  });

  it('backups with a typo in --root: exit 2 naming it, not "No backups."', async () => {
    const r = await runCli(['backups', '--root', '/nonexistent/kubeadm-nonroot-typo']);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /^kubeadm-nonroot: --root \/nonexistent\/kubeadm-nonroot-typo: no such directory/);
    assert.equal(r.stdout, '');
  });

  it('plan -o json on a blocked plan: JSON on stdout, the one-line reason on stderr, exit 2', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await rm(sb.path('/etc/kubernetes/pki/sa.key'));
      const r = await runCli(['plan', '--root', sb.root, '-o', 'json']);
      assert.equal(r.code, 2, show(r));
      assert.equal((JSON.parse(r.stdout) as { problems: unknown[] }).problems.length, 1);
      assert.match(r.stderr, /^kubeadm-nonroot: 1 blocking problem\(s\), nothing changed; first: .*\/etc\/kubernetes\/pki\/sa\.key/);
    } finally {
      await sb.cleanup();
    }
  });

  it('verify on a never-migrated node: one line (exit 1), every finding still in -o json', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      const r = await runCli(['verify', '--root', sb.root]);
      assert.equal(r.code, 1, show(r));
      assert.equal(r.stdout.trim().split('\n').length, 1, r.stdout);
      assert.match(r.stdout, /this node has not been migrated .*25 difference\(s\).*kubeadm-nonroot plan --root /);
      const j = await runCli(['verify', '--root', sb.root, '-o', 'json']);
      const report = JSON.parse(j.stdout) as { state: string; findings: unknown[] };
      assert.equal(report.state, 'not-migrated');
      assert.equal(report.findings.length, 25);
    } finally {
      await sb.cleanup();
    }
  });

  it('apply --no-wait says the components were not health-checked and how to check; rollback previews the owner/mode it restores; --keep-accounts journals only what it undid', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await addSystemDirs(sb.root);
      const a = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(a.code, 0, show(a));
      assert.match(a.stdout, new RegExp(`The components were NOT health-checked \\(--no-wait\\): .* kubeadm-nonroot verify --root ${sb.root}`));
      const aj = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait', '-o', 'json']);
      assert.equal(aj.code, 0, show(aj));
      const rb = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait', '--keep-accounts']);
      assert.equal(rb.code, 0, show(rb));
      // The state it goes back to, not the forward step ("owner kubeadm-kas…").
      assert.match(rb.stdout, /↶ \/etc\/kubernetes\/pki\/apiserver\.key back to 0:0 0600/);
      assert.match(rb.stdout, /↶ \/etc\/kubernetes\/manifests\/etcd\.yaml back to its saved original .*0:0 0600/);
      assert.doesNotMatch(rb.stdout, /↶ .*owner kubeadm-/);
      assert.match(rb.stdout, /Kept \(--keep-accounts\):\n {2}= save \/etc\/passwd/);
      const records = await journal(sb.root);
      const intents = new Map(records.filter((r) => r.t === 'intent').map((r) => [r.step!, r]));
      const undone = records.filter((r) => r.t === 'undone').map((r) => r.step!);
      const accountSteps = [...intents.keys()].filter((s) => /:(account|user|group|save)/.test(s) || !/:(file|tree|mkdir|manifest|record)/.test(s)); // record: the migration record, undone like the files
      assert.ok(accountSteps.length >= 9, `account steps: ${accountSteps.join(', ')}`);
      assert.deepEqual(undone.filter((s) => accountSteps.includes(s)), [], 'no account undo is journaled as done');
      assert.equal(undone.length, intents.size - accountSteps.length);
      assert.match(records.find((r) => r.t === 'rollback-begin')!.reason!, /--keep-accounts/);
    } finally {
      await sb.cleanup();
    }
  });

  it('an unforeseen error is exit 4: says it is a bug, how to report it, and the journal state', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await addSystemDirs(sb.root);
      // A run directory whose journal is a directory: nothing the tool foresees.
      await mkdir(sb.path(`/${BACKUPS}/20260101T000000.000Z/journal.jsonl`), { recursive: true });
      await writeFile(sb.path(`/${BACKUPS}/20260101T000000.000Z/plan.json`), '{}');
      const r = await runCli(['backups', '--root', sb.root]);
      assert.equal(r.code, 4, show(r));
      assert.match(r.stderr, /This is a bug in kubeadm-nonroot \S+\. Please report it/);
      assert.match(r.stderr, /^Journal: /m);
    } finally {
      await sb.cleanup();
    }
  });

  it('the summary of exit codes in --help names all five', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /0 done, 1 failed and rolled back .* 2 refused .* 3 rollback incomplete .* 4 internal error/);
  });
});

