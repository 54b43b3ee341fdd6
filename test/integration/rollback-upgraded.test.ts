// Rollback never goes back in time (src/apply/manifest-restore.ts). Apply on kubeadm v1.36.3's own
// output, then do what `kubeadm upgrade apply v1.37.2 --patches DIR` does to the node: write kubeadm
// v1.37.2's manifests with the migration's fields merged in (test/fixtures/kubeadm/v1.37.2/<case>/
// kubeadm-patched, written by the real kubeadm with the tool's patches), root 0600. Rollback must leave
// kubeadm v1.37.2's own manifests (…/v1.37.2/<case>/manifests: the oracle, written by kubeadm), never
// v1.36.3's; a field it cannot account for makes it refuse (exit 2) with the node untouched.
import assert from 'node:assert/strict';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { runCli, show, startNode } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT } from '../support/cli-root.js';
import { buildKubeadmCaseSandbox, readKubeadmCase, type KubeadmCase } from '../../scripts/lib/kubeadm-cases.js';
import type { Sandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '../support/apply-child.js');
const BACKUPS = 'var/lib/kubeadm-nonroot/backups';
const FROM = readKubeadmCase('v1.36.3', 'default');
const TO = readKubeadmCase('v1.37.2', 'default');
const cleanups: Array<() => Promise<void>> = [];
after(async () => Promise.all(cleanups.map((c) => c())));

async function sandbox(c: KubeadmCase = FROM): Promise<Sandbox> {
  const s = await buildKubeadmCaseSandbox(c);
  cleanups.push(() => s.cleanup());
  return s;
}
async function cli(args: string[], expect: number) {
  const r = await runCli(args);
  assert.equal(r.code, expect, show(r));
  return r;
}
/** What kubeadm does to the static-pod directory: every manifest rewritten, root 0600 (a new inode). */
async function writeManifests(s: Sandbox, manifests: Record<string, string>): Promise<void> {
  for (const [file, text] of Object.entries(manifests)) {
    await rm(join(s.manifestsDir, file));
    await writeFile(join(s.manifestsDir, file), text, { mode: 0o600 });
  }
}
async function assertManifests(s: Sandbox, want: Record<string, string>, what: string): Promise<void> {
  for (const [file, text] of Object.entries(want)) assert.equal(await readFile(join(s.manifestsDir, file), 'utf8'), text, `${what}: ${file}`);
}
const isManifest = (rel: string) => rel.startsWith('etc/kubernetes/manifests/');
const hasUser = async (s: Sandbox, name: string) => (await readFile(s.path('/etc/passwd'), 'utf8')).split('\n').some((l) => l.startsWith(`${name}:`));
async function journalPath(root: string): Promise<string> {
  const ids = (await readdir(join(root, BACKUPS))).sort();
  return join(root, BACKUPS, ids[ids.length - 1]!, 'journal.jsonl');
}

describe('rollback after a kubeadm upgrade', { skip: NEEDS_ROOT }, () => {
  it('after `kubeadm upgrade --patches` to v1.37.2: exit 0, v1.37.2 stays (images and flags), the security fields go; a renewed key keeps its new bytes', async () => {
    const s = await sandbox();
    const original = await snapshotTree(s.root);
    await cli(['apply', '--root', s.root, '--yes', '--no-wait'], 0);
    await writeManifests(s, TO.kubeadmPatched);
    // kubeadm certs renew rewrites a key in place (same inode, owner and mode as the migration left them).
    const key = s.path('/etc/kubernetes/pki/apiserver.key');
    await writeFile(key, 'renewed by kubeadm\n');
    const r = await cli(['rollback', '--root', s.root, '--yes', '--no-wait'], 0);
    await assertManifests(s, TO.manifests, 'kubeadm v1.37.2\'s own manifest');
    for (const file of Object.keys(TO.manifests)) assert.ok(!(await readFile(join(s.manifestsDir, file), 'utf8')).includes('v1.36.3'), file);
    assert.ok(!(await hasUser(s, 'kubeadm-etcd')), 'the accounts are gone');
    assert.equal(await readFile(key, 'utf8'), 'renewed by kubeadm\n', 'owner and mode restored on the current key, never its old bytes');
    // Everything else is exactly as before the apply: owners and modes (the key's too), accounts.
    const d = diffSnapshots(original, await snapshotTree(s.root), { ignore: (rel) => isToolState(rel) || isManifest(rel) });
    assert.deepEqual(d, ['etc/kubernetes/pki/apiserver.key: content changed'], show(r));
    for (const file of Object.keys(TO.manifests)) assert.equal((await snapshotTree(s.manifestsDir)).get(file)?.mode, 0o600, file);
  });

  it('a managed field hand-edited since: rollback and rollback --keep-accounts refuse (exit 2, naming the file and revert), nothing changes; put back, --keep-accounts rolls back', async () => {
    const s = await sandbox();
    await cli(['apply', '--root', s.root, '--yes', '--no-wait'], 0);
    await writeManifests(s, TO.kubeadmPatched);
    const etcd = join(s.manifestsDir, 'etcd.yaml');
    const written = await readFile(etcd, 'utf8');
    await writeFile(etcd, written.replace(/runAsUser: (\d+)/, 'runAsUser: 2000'));
    const before = await snapshotTree(s.root);
    // The lock (ROOT/run/kubeadm-nonroot.lock, its directory made and removed: this root has no /run)
    // moves the times of the root directory itself; nothing else may change, not even an mtime.
    for (const extra of [[], ['--keep-accounts']]) {
      const r = await cli(['rollback', '--root', s.root, '--yes', '--no-wait', ...extra], 2);
      assert.match(r.stderr, new RegExp(`${etcd.replace(/[.]/g, '\\.')}: .*spec\\.securityContext\\.runAsUser is 2000, neither what the migration wrote`), show(r));
      assert.match(r.stderr, new RegExp(`kubeadm-nonroot revert --root ${s.root}`), show(r));
      assert.deepEqual(diffSnapshots(before, await snapshotTree(s.root), { ignoreMtime: false }).filter((l) => !/^(\.|run): mtime changed$/.test(l)), [], `${extra.join(' ')}: the node (journal included) is byte-identical`);
    }
    await writeFile(etcd, written);
    await cli(['rollback', '--root', s.root, '--yes', '--no-wait', '--keep-accounts'], 0);
    await assertManifests(s, TO.manifests, 'after --keep-accounts');
    assert.ok(await hasUser(s, 'kubeadm-etcd'), '--keep-accounts kept the accounts');
  });

  it('a journal written before the edits were recorded: the saved bytes only over exactly what the plan wrote, else refused naming revert', async () => {
    const s = await sandbox();
    await cli(['apply', '--root', s.root, '--yes', '--no-wait'], 0);
    const jp = await journalPath(s.root);
    const old = (await readFile(jp, 'utf8')).split('\n').filter(Boolean).map((l) => {
      const r = JSON.parse(l) as { undo?: Record<string, unknown> };
      if (r.undo) {
        delete r.undo.writtenSha256;
        delete r.undo.edits;
      }
      return JSON.stringify(r) + '\n';
    });
    await writeFile(jp, old.join(''));
    await writeManifests(s, TO.kubeadmPatched);
    const r = await cli(['rollback', '--root', s.root, '--yes', '--no-wait'], 2);
    assert.match(r.stderr, /does not record which fields the run set.*kubeadm-nonroot revert/s, show(r));
    await writeManifests(s, FROM.kubeadmPatched); // what this apply wrote (plan.json in the backup dir says so)
    await cli(['rollback', '--root', s.root, '--yes', '--no-wait'], 0);
    await assertManifests(s, FROM.manifests, 'the saved originals');
  });

  it('crash: an apply killed after journaling the etcd manifest, then an upgrade: both its rollback and its resumed apply keep v1.37.2', async () => {
    const s = await sandbox();
    // Where to kill: right after the intent of the etcd manifest (its original saved, not yet replaced).
    await cli(['apply', '--root', s.root, '--yes', '--no-wait'], 0);
    const records = (await readFile(await journalPath(s.root), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { t: string; step?: string });
    const n = records.findIndex((x) => x.t === 'intent' && /manifest\/etcd$/.test(x.step ?? '')) + 1;
    assert.ok(n > 0);
    await cli(['rollback', '--root', s.root, '--yes', '--no-wait'], 0);
    const killed = await startNode(CHILD, [s.root, 'apply', String(n)]).done;
    assert.equal(killed.signal, 'SIGKILL', show(killed));
    await writeManifests(s, TO.manifests); // kubeadm upgrade apply v1.37.2 (no patches: nothing was migrated yet)
    const copy = join(tmpdir(), `rollback-upgraded-${process.pid}`);
    await cp(s.root, copy, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    cleanups.push(() => rm(copy, { recursive: true, force: true }));

    // (a) roll the unfinished run back.
    await cli(['rollback', '--root', s.root, '--yes', '--no-wait'], 0);
    await assertManifests(s, TO.manifests, 'rollback of the unfinished run');

    // (b) continue it (the etcd original it saved is v1.36.3's; the manifest is v1.37.2's now), then roll back.
    const c = { ...s, root: copy, manifestsDir: join(copy, 'etc/kubernetes/manifests'), path: (p: string) => join(copy, p) };
    await cli(['apply', '--root', copy, '--yes', '--no-wait'], 0);
    await assertManifests(c, TO.kubeadmPatched, 'the resumed apply');
    await cli(['rollback', '--root', copy, '--yes', '--no-wait'], 0);
    await assertManifests(c, TO.manifests, 'rollback of the resumed apply');
  });
});
