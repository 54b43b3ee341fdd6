// Root's own kubeconfigs are never granted (docs/ownership.md, the threat model): a manifest that names
// /etc/kubernetes/admin.conf must not hand it to the component, or the component adds an `exec:`
// credential plugin and root's next kubectl runs the component's program as root. The attack is
// checked by running the kubeconfig's plugin path with the real kubectl (client-go runs the exec
// plugin before it dials the server, k8s.io/client-go/plugin/pkg/client/auth/exec):
// - positive control: a root-written copy of admin.conf with the plugin makes kubectl run it;
// - the tool refuses the manifest (exit 2, host-credential, nothing changed), admin.conf stays root's
//   0600, the component's identity cannot add the plugin (the kernel refuses), and kubectl with the
//   real admin.conf runs no plugin.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { addSystemDirs, runCli, show } from '../../scripts/lib/cli-run.js';
import { isToolState, NEEDS_ROOT, withoutLockDirTimes } from '../support/cli-root.js';
import { KUBECTL, KUBECTL_MISSING } from '../support/kubectl.js';
import { buildSandbox } from '../../scripts/lib/sandbox.js';
import { missingPrerequisites, SETPRIV, setprivArgs } from '../support/setpriv.js';
import { skipUnlessPossible } from '../support/prerequisites.js';
import { diffSnapshots, snapshotTree } from '../support/tree.js';

const ADMIN_CONF = '/etc/kubernetes/admin.conf';
const KCM_MANIFEST = '/etc/kubernetes/manifests/kube-controller-manager.yaml';
/** The uid and gid the migration would give kube-controller-manager were admin.conf handed to it: any non-root identity shows the kernel's answer. */
const COMPONENT = { uid: 2003, gid: 2003, groups: [] as number[] };

function run(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: 'ignore', cwd: '/' });
    c.on('error', reject);
    c.on('close', (code) => resolve(code));
  });
}

/** kubectl against `kubeconfig` (the server is unreachable: only whether the plugin ran matters). */
const kubectl = (kubeconfig: string) => run(KUBECTL ?? 'kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=3s', 'get', '--raw', '/version']);

const exists = (p: string) => access(p).then(() => true, () => false);

/** admin.conf with an exec credential plugin that leaves `marker` behind when it runs. */
function withPlugin(text: string, plugin: string): string {
  const conf = parse(text) as { users: Array<{ name: string; user: Record<string, unknown> }> };
  conf.users[0]!.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } };
  return stringify(conf);
}

describe('root kubeconfigs are never granted: the exec-plugin attack', { skip: NEEDS_ROOT }, () => {
  it('a manifest naming admin.conf is refused, and kubectl with admin.conf runs no plugin the component planted', async (t) => {
    if (skipUnlessPossible(t, [...missingPrerequisites(), ...(KUBECTL_MISSING ? [KUBECTL_MISSING] : [])])) return;
    const sb = await buildSandbox({ fixture: 'v1.32-rhel-stacked' });
    try {
      await addSystemDirs(sb.root);
      await mkdir(sb.path('/tmp'), { recursive: true });
      const marker = sb.path('/tmp/plugin-ran');
      const plugin = sb.path('/tmp/evil-credential-plugin');
      await writeFile(plugin, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`);
      await chmod(plugin, 0o755);
      const adminText = await readFile(sb.path(ADMIN_CONF), 'utf8');

      // Positive control: the mechanism is real — kubectl runs a plugin named in its kubeconfig.
      const planted = sb.path('/tmp/admin-with-plugin.conf');
      await writeFile(planted, withPlugin(adminText, plugin), { mode: 0o600 });
      await kubectl(planted);
      assert.ok(await exists(marker), 'kubectl ran the exec plugin of a kubeconfig that names one');
      await run('rm', ['-f', marker, planted]);

      // The manifest names admin.conf (a hostile or mistaken edit): kube-controller-manager would read it.
      const manifest = parse(await readFile(sb.path(KCM_MANIFEST), 'utf8')) as {
        spec: { containers: Array<{ command: string[]; volumeMounts: unknown[] }>; volumes: unknown[] };
      };
      manifest.spec.containers[0]!.command.push(`--authentication-kubeconfig=${ADMIN_CONF}`);
      manifest.spec.containers[0]!.volumeMounts.push({ name: 'admin-conf', mountPath: ADMIN_CONF, readOnly: true });
      manifest.spec.volumes.push({ name: 'admin-conf', hostPath: { path: ADMIN_CONF, type: 'FileOrCreate' } });
      await writeFile(sb.path(KCM_MANIFEST), stringify(manifest), { mode: 0o600 });

      const tree = new Map([...(await snapshotTree(sb.root))].filter(([rel]) => !isToolState(rel)));
      const plan = await runCli(['plan', '--root', sb.root, '-o', 'json']);
      assert.equal(plan.code, 2, show(plan));
      const problems = (JSON.parse(plan.stdout) as { problems: Array<{ code: string; path?: string }> }).problems;
      assert.ok(problems.some((p) => p.code === 'host-credential' && p.path === ADMIN_CONF), `admin.conf is refused as a host credential: ${JSON.stringify(problems)}`);
      const apply = await runCli(['apply', '--root', sb.root, '--yes', '--no-wait']);
      assert.equal(apply.code, 2, show(apply));
      const after = new Map([...(await snapshotTree(sb.root))].filter(([rel]) => !isToolState(rel)));
      assert.deepEqual(withoutLockDirTimes(diffSnapshots(tree, after, { ignoreMtime: false, ignoreCtime: false })), [], 'nothing changed');
      const admin = after.get('etc/kubernetes/admin.conf');
      assert.deepEqual([admin?.uid, admin?.gid, admin?.mode], [0, 0, 0o600], 'admin.conf stays root:root 0600');

      // The component's identity cannot plant the plugin: the kernel refuses the write.
      const code = await run(SETPRIV, [...setprivArgs({ ...COMPONENT, bounding: [], noNewPrivs: true }), '--', '/bin/sh', '-c', `printf '%s' "$0" > '${sb.path(ADMIN_CONF)}'`, withPlugin(adminText, plugin)]);
      assert.notEqual(code, 0, 'the write must fail');
      assert.equal(await readFile(sb.path(ADMIN_CONF), 'utf8'), adminText, 'admin.conf is unchanged');

      // Root's next kubectl with admin.conf runs no plugin.
      await kubectl(sb.path(ADMIN_CONF));
      assert.equal(await exists(marker), false, 'no plugin ran as root');
    } finally {
      await sb.cleanup();
    }
  });
});
