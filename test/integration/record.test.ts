// The migration record end to end, on sandbox nodes: docs/config.md's config applied once with -c, then
// docs/upgrade.md's commands run as printed, without -c (issue: the config was forgotten — verify exit 1
// "looks like a login account", plan re-planning onto new accounts, patches naming users that do not
// exist, apply and revert exit 2). The oracles are the node's files (/etc/passwd, the manifests) and the
// docs' own numbers, never the tool's plan.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { addSystemDirs, REPO, runCli, show } from '../../scripts/lib/cli-run.js';
import { NEEDS_ROOT } from '../support/cli-root.js';
import { buildKubeadmCaseSandbox, readKubeadmCase } from '../../scripts/lib/kubeadm-cases.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => Promise.all(cleanups.map((c) => c())));

/** The fenced blocks of a doc in the given language, as printed. */
async function fencedBlocks(doc: string, lang: string): Promise<string[]> {
  const text = await readFile(join(REPO, 'docs', doc), 'utf8');
  return [...text.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1]!);
}

/**
 * The kubeadm-nonroot command lines of a sh block, comments dropped, as argv. `kubeadm upgrade` lines
 * need a real kubeadm and cluster: the real-node flow (test/node/flow.test.ts) runs those.
 */
function toolCommands(block: string): string[][] {
  return block.split('\n').map((l) => l.replace(/\s#.*$/, '').trim()).filter((l) => l.startsWith('kubeadm-nonroot ')).map((l) => l.split(/\s+/).slice(1));
}

/** A printed command run on a sandbox: `--root` added, node paths of --output-dir put under the root. */
function onRoot(argv: string[], root: string): string[] {
  const out = argv.map((a, i) => (argv[i - 1] === '--output-dir' && a.startsWith('/') ? join(root, a) : a));
  return [...out, '--root', root];
}

const podSc = async (root: string, c: string) => parse(await readFile(join(root, 'etc/kubernetes/manifests', `${c}.yaml`), 'utf8')).spec.securityContext;
const passwdLine = async (root: string, name: string) => (await readFile(join(root, 'etc/passwd'), 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`));

describe('the migration record', { skip: NEEDS_ROOT }, () => {
  it("docs/config.md's config applied once; docs/upgrade.md's commands then work without -c: same IDs, nothing to do", { timeout: 300_000 }, async () => {
    const sb = await buildKubeadmCaseSandbox(readKubeadmCase('v1.36.3', 'default'));
    cleanups.push(() => sb.cleanup());
    await addSystemDirs(sb.root);
    const [configYaml] = await fencedBlocks('config.md', 'yaml');
    assert.ok(configYaml?.includes('uid: 2001'), 'docs/config.md has the pinned-IDs example');
    const configFile = join(sb.root, '..', `${sb.root.split('/').pop()}-config.yaml`);
    await writeFile(configFile, configYaml!);
    cleanups.push(async () => (await import('node:fs/promises')).rm(configFile, { force: true }));

    const applied = await runCli(['apply', '--root', sb.root, '-c', configFile, '--yes', '--no-wait'], { timeoutMs: 120_000 });
    assert.equal(applied.code, 0, show(applied));
    // The docs' numbers, on the node.
    assert.match((await passwdLine(sb.root, 'etcd'))!, /^etcd:x:2001:2001:/);
    assert.match((await passwdLine(sb.root, 'kubeadm-ks'))!, /^kubeadm-ks:x:2004:2004:/);
    const record = await stat(join(sb.root, 'var/lib/kubeadm-nonroot/record.json'));
    assert.deepEqual([record.uid, record.gid, record.mode & 0o7777], [0, 0, 0o600]);

    const [flow] = await fencedBlocks('upgrade.md', 'sh');
    const commands = toolCommands(flow!);
    assert.deepEqual(commands.map((c) => c[0]), ['verify', 'plan', 'patches', 'verify', 'apply'], 'the flow of docs/upgrade.md');
    for (const argv of commands) {
      const r = await runCli([...onRoot(argv, sb.root), ...(argv[0] === 'apply' ? ['--yes', '--no-wait'] : [])], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, `${argv.join(' ')}: ${show(r)}`);
      if (argv[0] === 'apply') assert.match(r.stdout, /Nothing to do/);
      if (argv[0] === 'plan') assert.doesNotMatch(r.stdout, /^\s+\+ (user|group) /m, 'plan creates no account');
      if (argv[0] === 'patches') {
        const dir = onRoot(argv, sb.root)[argv.indexOf('--output-dir') + 1]!;
        const uids = await Promise.all((await readdir(dir)).sort().map(async (f) => parse(await readFile(join(dir, f), 'utf8')).spec.securityContext.runAsUser));
        assert.deepEqual(uids, [2001, 2002, 2003, 2004], 'etcd, kube-apiserver, kube-controller-manager, kube-scheduler: the applied IDs');
      }
    }
    const plan = await runCli(['plan', '--root', sb.root, '-o', 'json']);
    assert.equal(plan.code, 0, show(plan));
    const p = JSON.parse(plan.stdout) as { accounts: Array<{ action: string }>; files: unknown[]; manifests: unknown[]; warnings: Array<{ code: string }> };
    assert.deepEqual([p.accounts.filter((a) => !a.action.startsWith('reuse-')).length, p.files.length, p.manifests.length], [0, 0, 0], 'nothing to do');

    // status, as data.
    const status = await runCli(['status', '--root', sb.root, '-o', 'json']);
    assert.equal(status.code, 0, show(status));
    const s = JSON.parse(status.stdout);
    assert.equal(s.migrated, true);
    assert.equal(s.status, 'migrated');
    assert.match(s.since, /^\d{4}-\d\d-\d\dT/);
    assert.equal(s.toolVersion, JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')).version);
    assert.equal(typeof s.by, 'string');
    assert.equal(s.configSource.kind, 'record');
    assert.deepEqual(s.config.accounts.etcd, { user: 'etcd', group: 'etcd', uid: 2001, gid: 2001 });
    assert.deepEqual(s.components.map((c: { component: string; health: string; uid: number }) => [c.component, c.health, c.uid]), [['etcd', 'ok', 2001], ['kube-apiserver', 'ok', 2002], ['kube-controller-manager', 'ok', 2003], ['kube-scheduler', 'ok', 2004]]);

    // A config that differs from the record is a change the plan shows.
    const changed = join(sb.root, '..', `${sb.root.split('/').pop()}-changed.yaml`);
    await writeFile(changed, configYaml!.replace('uid: 2004, gid: 2004', 'uid: 2104, gid: 2104'));
    cleanups.push(async () => (await import('node:fs/promises')).rm(changed, { force: true }));
    const differs = await runCli(['plan', '--root', sb.root, '-c', changed]);
    assert.match(differs.stdout, /config differs from the migration record: accounts\.kube-scheduler\.uid: 2004 → 2104/, show(differs));

    // revert without -c: the recorded accounts go, the manifests run as root, the record says reverted.
    const revert = await runCli(['revert', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 120_000 });
    assert.equal(revert.code, 0, show(revert));
    assert.equal(await passwdLine(sb.root, 'etcd'), undefined);
    assert.equal((await podSc(sb.root, 'etcd')).runAsUser, undefined);
    const after = JSON.parse((await runCli(['status', '--root', sb.root, '-o', 'json'])).stdout);
    assert.deepEqual([after.migrated, after.status], [false, 'reverted']);
  });

  it('patches refuses IDs that do not exist on the node: exit 2, one line naming the component and the fix, nothing written', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    cleanups.push(() => sb.cleanup());
    const out = join(sb.root, 'patches-out');
    await mkdir(out);
    const r = await runCli(['patches', '--root', sb.root, '--output-dir', out]);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stderr.trim().split('\n').length, 1, show(r));
    assert.match(r.stderr, /etcd: user kubeadm-etcd \(uid \d+\), group kubeadm-etcd \(gid \d+\) does not exist on this node.*kubeadm-nonroot apply/);
    assert.deepEqual(await readdir(out), []);
  });

  it('status on a node never migrated: exit 0, not migrated', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    cleanups.push(() => sb.cleanup());
    const r = await runCli(['status', '--root', sb.root, '-o', 'json']);
    assert.equal(r.code, 0, show(r));
    const s = JSON.parse(r.stdout);
    assert.deepEqual([s.migrated, s.status, s.since, s.configSource.kind], [false, 'never-migrated', null, 'defaults']);
  });

  it('a record others can write is refused: exit 2, naming the file, nothing changed', async () => {
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    cleanups.push(() => sb.cleanup());
    const applied = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait'], { timeoutMs: 120_000 });
    assert.equal(applied.code, 0, show(applied));
    const file = join(sb.root, 'var/lib/kubeadm-nonroot/record.json');
    await (await import('node:fs/promises')).chmod(file, 0o666);
    for (const cmd of [['plan'], ['verify'], ['status'], ['apply', '--yes', '--no-wait']]) {
      const r = await runCli([...cmd, '--root', sb.root]);
      assert.equal(r.code, 2, `${cmd[0]}: ${show(r)}`);
      assert.ok(r.stderr.includes(file) && /mode 0666/.test(r.stderr), show(r));
    }
  });
});
