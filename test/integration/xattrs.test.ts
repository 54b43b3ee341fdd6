// Extended attributes of the files the tool rewrites: a user.* attribute, a POSIX ACL (setfacl) and an
// SELinux label (security.selinux, set as a plain attribute: this kernel runs without SELinux, and
// lets root set it) on the sandbox's account files and manifests. The oracle is getfattr's own dump of
// each file before the run, compared as text after apply (manifests: the tool rewrote them; the account
// databases were rewritten by shadow-utils, which keeps none of them), after rollback (every one of
// them: the tool restores the account files) and after revert (manifests).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { addSystemDirs, runCli, show } from '../../scripts/lib/cli-run.js';
import { NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';
import { isToolState } from '../support/cli-root.js';

const run = promisify(execFile);
const FIXTURE = 'v1.31-ubuntu-stacked-kube-vip';
const ACCOUNT_FILES = ['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow'];

/** getfattr's dump of every attribute of `file` (values base64), without its "# file:" line. */
async function dump(file: string): Promise<string> {
  const r = await run('getfattr', ['-h', '-d', '-m', '-', '-e', 'base64', file]);
  return r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).sort().join('\n');
}

async function mark(file: string, label: string): Promise<void> {
  await run('setfattr', ['-h', '-n', 'user.kubeadm-nonroot-test', '-v', path.basename(file), file]);
  await run('setfacl', ['-m', 'u:4321:r', file]);
  await run('setfattr', ['-h', '-n', 'security.selinux', '-v', `system_u:object_r:${label}:s0`, file]);
}

describe('extended attributes of rewritten files', { skip: NEEDS_ROOT }, () => {
  it('user.*, an ACL and the SELinux label survive apply (manifests), rollback (manifests and account files) and revert (manifests)', async () => {
    const sb = await buildSandbox({ fixture: FIXTURE });
    try {
      await addSystemDirs(sb.root);
      const manifests = (await readdir(sb.manifestsDir)).map((f) => path.join(sb.manifestsDir, f));
      const accounts = ACCOUNT_FILES.map((f) => path.join(sb.root, f));
      for (const f of manifests) await mark(f, 'kubernetes_file_t');
      for (const f of accounts) await mark(f, 'shadow_t');
      const before = new Map<string, string>();
      for (const f of [...manifests, ...accounts]) before.set(f, await dump(f));
      for (const [f, d] of before) {
        for (const name of ['user.kubeadm-nonroot-test', 'system.posix_acl_access', 'security.selinux']) assert.match(d, new RegExp(`^${name.replace(/\./g, '\\.')}=`, 'm'), `${f} is marked with ${name}`);
      }
      const keptOn = async (files: string[]) => {
        const lost: string[] = [];
        for (const f of files) if ((await dump(f)) !== before.get(f)) lost.push(`${f}:\n${await dump(f)}\nwas\n${before.get(f)}`);
        return lost;
      };
      const original = await snapshotTree(sb.root);

      const applied = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(applied.code, 0, show(applied));
      assert.deepEqual(await keptOn(manifests), [], 'apply keeps the manifests’ attributes');

      const back = await runCli(['rollback', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(back.code, 0, show(back));
      assert.deepEqual(await keptOn([...manifests, ...accounts]), [], 'rollback gives every file its attributes back');
      assert.deepEqual(diffSnapshots(original, await snapshotTree(sb.root), { ignore: (rel) => isToolState(rel) || /^etc\/(passwd|group|shadow|gshadow)-$/.test(rel) }), []);

      const again = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(again.code, 0, show(again));
      const reverted = await runCli(['revert', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(reverted.code, 0, show(reverted));
      assert.deepEqual(await keptOn(manifests), [], 'revert keeps the manifests’ attributes');
    } finally {
      await sb.cleanup();
    }
  });
});
