// verify on sandboxes: migrated, partially migrated (only etcd selected), and regressed by hand.
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, show } from '../../scripts/lib/cli-run.js';
import { NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';

const made: Sandbox[] = [];
after(async () => Promise.all(made.map((s) => s.cleanup())));

interface Report { ok: boolean; runtimeChecked: boolean; findings: Array<{ kind: string; subject: string; cause: string; fix: string }> }
async function verify(root: string, extra: string[] = []): Promise<{ code: number | null; report: Report }> {
  const r = await runCli(['verify', '--root', root, '-o', 'json', ...extra]);
  assert.notEqual(r.code, 2, show(r));
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

describe('verify', { skip: NEEDS_ROOT }, () => {
  it('a fresh kubeadm node: drift (exit 1), every finding blamed on "not migrated yet"', async () => {
    const s = await buildSandbox({ fixture: 'v1.31-ubuntu-stacked-kube-vip' });
    made.push(s);
    const { code, report } = await verify(s.root);
    assert.equal(code, 1);
    assert.equal(report.runtimeChecked, false, 'no --proc on a sandbox root');
    assert.ok(report.findings.length >= 4 + 9 + 12, `${report.findings.length} findings`);
    assert.ok(report.findings.every((f) => /not been migrated/.test(f.cause)), JSON.stringify(report.findings.filter((f) => !/not been migrated/.test(f.cause))));
  });

  it('partially migrated (only etcd): findings name exactly the other components', async () => {
    const s = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    made.push(s);
    const cfg = join(s.root, '..', `${s.root.split('/').pop()}-etcd-only.yaml`);
    await writeFile(cfg, 'components: [etcd]\n');
    const r = await runCli(['apply', '--root', s.root, '-c', cfg, '--yes', '--no-wait']);
    assert.equal(r.code, 0, show(r));
    assert.equal((await verify(s.root, ['-c', cfg])).code, 0, 'holds for what was selected');
    assert.equal((await verify(s.root)).code, 0, 'without -c: the config the node was migrated with (its record)');
    // Asked about all four components, verify names the three not migrated.
    const all = join(s.root, '..', `${s.root.split('/').pop()}-all.yaml`);
    await writeFile(all, 'components: [etcd, kube-apiserver, kube-controller-manager, kube-scheduler]\n');
    const { code, report } = await verify(s.root, ['-c', all]);
    assert.equal(code, 1);
    const subjects = report.findings.map((f) => f.subject);
    assert.ok(!subjects.some((x) => x.includes('/etcd')), `etcd is migrated: ${subjects.join(', ')}`);
    assert.ok(subjects.includes('/etc/kubernetes/manifests/kube-apiserver.yaml'));
    assert.ok(subjects.includes('/etc/kubernetes/pki/sa.key'));
    // kube-apiserver was never migrated (its user does not exist): not a manifest kubeadm regenerated.
    const kas = report.findings.find((f) => f.subject === '/etc/kubernetes/manifests/kube-apiserver.yaml')!;
    assert.match(kas.cause, /not been migrated/, JSON.stringify(kas));
  });

  it('regressed: a loosened secret is reported as exposed, with the fix', async () => {
    const s = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    made.push(s);
    assert.equal((await runCli(['apply', '--root', s.root, '--yes', '--no-wait'])).code, 0);
    assert.deepEqual((await verify(s.root)).report.findings, []);
    await chmod(s.path('/etc/kubernetes/pki/sa.key'), 0o644);
    const { code, report } = await verify(s.root);
    assert.equal(code, 1);
    assert.deepEqual(report.findings.map((f) => [f.kind, f.subject]), [['secret-exposed', '/etc/kubernetes/pki/sa.key']]);
    assert.match(report.findings[0]!.fix, /^kubeadm-nonroot apply --root /);
  });
});
