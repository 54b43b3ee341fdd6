// What the tool never hands to a component (issue 10 classes 1, 2, 3, 5, 9; docs/ownership.md "The
// threat model"): each input is a hostile or mistaken edit of the plain stacked sandbox, run through the
// real CLI with --root. A refusal is exit 2 with one stderr line naming the path, a blocking problem with
// the expected code, the sandbox byte-identical, nothing beside it changed, and the machine's own account
// files untouched. The expected codes and paths were derived by hand from each edit, not from the planner.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile, chmod, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { addSystemDirs, runCli, show, type CliResult } from '../../scripts/lib/cli-run.js';
import { NEEDS_ROOT } from '../support/cli-root.js';
import { buildSandbox, type Sandbox } from '../../scripts/lib/sandbox.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const FIXTURE = 'v1.31-ubuntu-stacked-kube-vip';
const MANIFESTS = '/etc/kubernetes/manifests';
const ETCD = `${MANIFESTS}/etcd.yaml`;
const KAS = `${MANIFESTS}/kube-apiserver.yaml`;
const KCM = `${MANIFESTS}/kube-controller-manager.yaml`;
const run = promisify(execFile);

let work = '';
let pristine = '';
let seq = 0;

interface Case extends Sandbox {
  /** The directory holding the root and an "outside" directory beside it: snapshotted whole. */
  box: string;
}

/** A fresh copy of the pristine sandbox in its own box, with a file beside the root that must stay. */
async function sandbox(): Promise<Case> {
  const box = path.join(work, `c${++seq}`);
  const root = path.join(box, 'root');
  await mkdir(path.join(box, 'outside'), { recursive: true });
  await writeFile(path.join(box, 'outside', 'shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o600 });
  await run('cp', ['-a', '--', pristine, root]);
  return { box, root, manifestsDir: path.join(root, MANIFESTS), path: (p) => path.join(root, p), cleanup: () => rm(box, { recursive: true, force: true }) };
}

async function edit(sb: Sandbox, nodePath: string, change: (text: string) => string): Promise<void> {
  const p = sb.path(nodePath);
  const before = await readFile(p, 'utf8');
  const after = change(before);
  assert.notEqual(after, before, `the edit of ${nodePath} must change it`);
  await writeFile(p, after);
}

/** Add a flag as the first argument after the command. */
const addFlag = (flag: string) => (t: string) => t.replace(/^ {4}- --/m, `    - ${flag}\n    - --`);
/** Add a hostPath volume and its mount. */
const addMount = (name: string, mountPath: string, hostPath: string, type: string) => (t: string) =>
  t.replace(/^ {4}volumeMounts:\n/m, `    volumeMounts:\n    - mountPath: ${mountPath}\n      name: ${name}\n`).replace(/^ {2}volumes:\n/m, `  volumes:\n  - hostPath:\n      path: ${hostPath}\n      type: ${type}\n    name: ${name}\n`);
/** Point the hostPath of etcd's data volume elsewhere (spelled as given). */
const etcdData = (hostPath: string) => (t: string) => t.replace('      path: /var/lib/etcd\n', `      path: ${hostPath}\n`);

const HOST_FILES = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'];
async function hostDigest(): Promise<string> {
  const h = createHash('sha256');
  for (const f of HOST_FILES) h.update(await readFile(f).catch(() => Buffer.from('missing')));
  return h.digest('hex');
}

/**
 * apply refuses: exit 2, one stderr line naming `names`, the plan (-o json) has a problem `code` at
 * `problemPath`, and nothing changed in the box (root and outside) or in the machine's account files.
 */
async function refused(sb: Case, code: string, problemPath: string, config?: string): Promise<CliResult> {
  const names = problemPath;
  const extra: string[] = [];
  if (config !== undefined) {
    extra.push('-c', path.join(sb.box, 'config.yaml'));
    await writeFile(extra[1]!, config);
  }
  const before = await snapshotTree(sb.box);
  const host = await hostDigest();
  const r = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait', '-o', 'json', ...extra]);
  assert.equal(r.code, 2, show(r));
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one stderr line\n${show(r)}`);
  assert.ok(lines[0]!.includes(names), `stderr names ${names}: ${lines[0]}`);
  if (code !== '') {
    const plan = JSON.parse(r.stdout) as { problems: Array<{ code: string; path?: string; fix?: string }> };
    const found = plan.problems.find((p) => p.code === code && p.path === problemPath);
    assert.ok(found, `problem ${code} at ${problemPath}; got ${JSON.stringify(plan.problems.map((p) => [p.code, p.path]))}`);
    assert.ok(found.fix, 'the problem says how to fix it');
  }
  assert.deepEqual(diffSnapshots(before, await snapshotTree(sb.box)), [], 'nothing changed in or beside the root');
  assert.equal(await hostDigest(), host, "the machine's account files are untouched");
  return r;
}

/** apply, to completion. */
function applied(sb: Sandbox): Promise<CliResult> {
  return runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
}

before(async () => {
  if (NEEDS_ROOT) return;
  work = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-handover-'));
  pristine = path.join(work, 'pristine');
  await buildSandbox({ fixture: FIXTURE, dir: pristine });
  await addSystemDirs(pristine);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('class 1: only a directory dedicated to the component is handed over', { skip: NEEDS_ROOT, concurrency: 2 }, () => {
  it('etcd data dir = the manifests dir: refused (etcd could write a static pod that runs as root)', async () => {
    const sb = await sandbox();
    await edit(sb, ETCD, etcdData(MANIFESTS));
    await refused(sb, 'not-dedicated', MANIFESTS);
  });

  it('etcd data dir = /usr/bin holding a setuid program: refused', async () => {
    const sb = await sandbox();
    await mkdir(sb.path('/usr/bin'), { recursive: true });
    await writeFile(sb.path('/usr/bin/passwd'), '#!/bin/sh\n');
    await chmod(sb.path('/usr/bin/passwd'), 0o4755);
    await edit(sb, ETCD, etcdData('/usr/bin'));
    await refused(sb, 'not-dedicated', '/usr/bin');
  });

  it('etcd data dir outside any system tree but holding a setuid file: refused (the census sees it)', async () => {
    const sb = await sandbox();
    await chmod(sb.path('/var/lib/etcd/member'), 0o700);
    await writeFile(sb.path('/var/lib/etcd/member/helper'), '#!/bin/sh\n');
    await chmod(sb.path('/var/lib/etcd/member/helper'), 0o2755);
    const r = await refused(sb, 'not-dedicated', '/var/lib/etcd');
    assert.match(r.stdout, /setuid\/setgid/);
  });

  it('only kube-controller-manager migrated, with --cert-dir=/etc/kubernetes/pki (every CA key to one component): refused', async () => {
    const sb = await sandbox();
    await edit(sb, KCM, addFlag('--cert-dir=/etc/kubernetes/pki'));
    await refused(sb, 'not-dedicated', '/etc/kubernetes/pki', 'components: [kube-controller-manager]\n');
  });

  it('an audit log in the tool\'s own state dir: refused', async () => {
    const sb = await sandbox();
    await edit(sb, KAS, (t) => addMount('audit', '/var/log/audit-k8s', '/var/lib/kubeadm-nonroot', 'DirectoryOrCreate')(addFlag('--audit-log-path=/var/log/audit-k8s/audit.log')(t)));
    await refused(sb, 'not-dedicated', '/var/lib/kubeadm-nonroot');
  });

  it('a --log-file in /etc/ssh (the host keys): refused', async () => {
    const sb = await sandbox();
    await mkdir(sb.path('/etc/ssh'));
    await writeFile(sb.path('/etc/ssh/ssh_host_ed25519_key'), '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n', { mode: 0o600 });
    await edit(sb, `${MANIFESTS}/kube-scheduler.yaml`, (t) => addMount('sshdir', '/var/log/ks', '/etc/ssh', 'Directory')(addFlag('--log-file=/var/log/ks/ks.log')(t)));
    await refused(sb, 'host-credential', '/etc/ssh');
  });

  it('a dedicated data dir elsewhere (/srv/etcd) is still handed over', async () => {
    const sb = await sandbox();
    await run('cp', ['-a', '--', sb.path('/var/lib/etcd'), sb.path('/srv-etcd')]);
    await edit(sb, ETCD, etcdData('/srv-etcd'));
    const r = await applied(sb);
    assert.equal(r.code, 0, show(r));
  });
});

describe('class 2: host credentials named by a flag are never handed over', { skip: NEEDS_ROOT, concurrency: 2 }, () => {
  for (const [flag, file] of [['--token-auth-file', '/etc/shadow'], ['--audit-policy-file', '/etc/shadow'], ['--basic-auth-file', '/etc/sudoers']] as const) {
    it(`kube-apiserver ${flag}=${file}: refused`, async () => {
      const sb = await sandbox();
      if (file === '/etc/sudoers') await writeFile(sb.path(file), 'root ALL=(ALL:ALL) ALL\n', { mode: 0o440 });
      await edit(sb, KAS, (t) => addMount('cred', `/creds${file}`, file, 'File')(addFlag(`${flag}=/creds${file}`)(t)));
      await refused(sb, 'host-credential', file);
    });
  }

  it('/etc/shadow mounted as the single-file audit log: refused', async () => {
    const sb = await sandbox();
    await edit(sb, KAS, (t) => addMount('audit-file', '/var/log/audit.log', '/etc/shadow', 'FileOrCreate')(addFlag('--audit-log-path=/var/log/audit.log')(t)));
    await refused(sb, 'host-credential', '/etc/shadow');
  });
});

describe('class 3: secrets judged by content, whatever the flag', { skip: NEEDS_ROOT, concurrency: 2 }, () => {
  it('super-admin.conf (client key inside) named by the CA flags of kube-apiserver and kube-controller-manager: never world- or group-readable beyond a reader group', async () => {
    const sb = await sandbox();
    const conf = '/etc/kubernetes/pki/super-admin.conf';
    await run('cp', ['-p', '--', sb.path('/etc/kubernetes/super-admin.conf'), sb.path(conf)]);
    assert.match(await readFile(sb.path(conf), 'utf8'), /client-key-data:/, 'the sandbox super-admin.conf carries a client key');
    await edit(sb, KAS, (t) => t.replace('--client-ca-file=/etc/kubernetes/pki/ca.crt', `--client-ca-file=${conf}`));
    await edit(sb, KCM, (t) => t.replace('--root-ca-file=/etc/kubernetes/pki/ca.crt', `--root-ca-file=${conf}`));
    const r = await applied(sb);
    assert.equal(r.code, 0, show(r));
    const st = await stat(sb.path(conf));
    assert.equal(st.mode & 0o007, 0, `not world-readable: ${(st.mode & 0o777).toString(8)}`);
    const group = new RegExp(`^([^:]+):[^:]*:${st.gid}:`, 'm').exec(await readFile(sb.path('/etc/group'), 'utf8'))?.[1];
    assert.ok(st.gid === 0 || /^kubeadm-.*readers$/.test(group ?? ''), `group-readable only through a dedicated reader group, got ${group ?? st.gid}`);
  });

  it('a certificate file with its private key appended (--tls-cert-file, read by kube-apiserver alone) is made root:<kas group> 0640, never left 0644', async () => {
    const sb = await sandbox();
    const file = '/etc/kubernetes/pki/apiserver.crt';
    const bundle = Buffer.concat([await readFile(sb.path(file)), await readFile(sb.path('/etc/kubernetes/pki/apiserver.key'))]);
    await writeFile(sb.path(file), bundle);
    assert.equal((await stat(sb.path(file))).mode & 0o777, 0o644, 'starts world-readable, as a certificate');
    const r = await applied(sb);
    assert.equal(r.code, 0, show(r));
    const st = await stat(sb.path(file));
    // read only: root's, kube-apiserver reads it through its group, nobody else (docs/ownership.md)
    assert.deepEqual([st.uid, st.mode & 0o777], [0, 0o640], 'root-owned, group read only');
  });
});

describe('class 5: no ID that is root in disguise', { skip: NEEDS_ROOT, concurrency: 2 }, () => {
  it('SYS_GID_MIN 0 and no root line in /etc/group: GID 0 is never allocated', async () => {
    const sb = await sandbox();
    await edit(sb, '/etc/login.defs', (t) => `${t}SYS_GID_MIN 0\n`);
    await edit(sb, '/etc/group', (t) => t.replace(/^root:x:0:\n/m, ''));
    const r = await runCli(['plan', '--root', sb.root, '-o', 'json']);
    assert.equal(r.code, 0, show(r));
    const plan = JSON.parse(r.stdout) as { accounts: Array<{ name: string; gid: number }>; components: Array<{ identity: { uid: number; gid: number } | null }> };
    assert.ok(plan.accounts.every((a) => a.gid !== 0), JSON.stringify(plan.accounts));
    assert.ok(plan.components.every((c) => c.identity === null || (c.identity.gid !== 0 && c.identity.uid !== 0)));
  });

  it('an existing kubeadm-etcd that is a member of disk: refused', async () => {
    const sb = await sandbox();
    await edit(sb, '/etc/passwd', (t) => `${t}kubeadm-etcd:x:990:990:kubeadm-nonroot etcd:/nonexistent:/bin/false\n`);
    await edit(sb, '/etc/group', (t) => `${t.replace(/^disk:x:6:(.*)$/m, (_l, m: string) => `disk:x:6:${m ? `${m},` : ''}kubeadm-etcd`)}kubeadm-etcd:x:990:kubeadm-etcd\n`);
    await refused(sb, 'account-privileged-group', '/etc/passwd');
  });

  it('a config naming shadow as etcd\'s group (it exists, so it would be reused): refused', async () => {
    const sb = await sandbox();
    await refused(sb, 'account-privileged-group', '/etc/group', 'accounts:\n  etcd:\n    group: shadow\n');
  });
});

describe('class 9: validation early and clear', { skip: NEEDS_ROOT, concurrency: 2 }, () => {
  for (const spelled of ['/var/lib/.', '/var/lib//', '/var//lib/']) {
    it(`etcd data hostPath spelled "${spelled}" plans as /var/lib and is refused before any change`, async () => {
      const sb = await sandbox();
      await edit(sb, ETCD, etcdData(spelled));
      await refused(sb, 'not-dedicated', '/var/lib');
    });
  }

  it('a symlinked etcd.yaml: exit 2 naming the file and the fix', async () => {
    const sb = await sandbox();
    await rename(sb.path(ETCD), sb.path('/etc/kubernetes/etcd.yaml.real'));
    await symlink('../etcd.yaml.real', sb.path(ETCD));
    const r = await refused(sb, '', ETCD);
    assert.match(r.stderr, /symbolic link.*replace the link/);
  });

  it('a JSON kube-scheduler.yaml: exit 2 naming the file', async () => {
    const sb = await sandbox();
    const { parse } = await import('yaml');
    await edit(sb, `${MANIFESTS}/kube-scheduler.yaml`, (t) => JSON.stringify(parse(t), null, 2));
    await refused(sb, '', `${MANIFESTS}/kube-scheduler.yaml`);
  });

  it('a malformed root line in /etc/passwd: exit 2 naming the file and the line', async () => {
    const sb = await sandbox();
    await edit(sb, '/etc/passwd', (t) => t.replace(/^root:x:0:0:root:\/root:\/bin\/bash$/m, 'root:x:0:0:root:/root'));
    const r = await refused(sb, 'account-line-unreadable', '/etc/passwd');
    assert.match(r.stderr, /line 1 of \/etc\/passwd/);
  });

  it('a malformed root line in /etc/group: exit 2 naming the file and the line', async () => {
    const sb = await sandbox();
    await edit(sb, '/etc/group', (t) => t.replace(/^root:x:0:$/m, 'root:x:zero:'));
    const r = await refused(sb, 'account-line-unreadable', '/etc/group');
    assert.match(r.stderr, /line 1 of \/etc\/group/);
  });
});
