// A sandbox node where every prerequisite of the user-namespace mode holds, for the userns tests: the
// files kubeadm v1.36.3 laid out (test/fixtures/kubeadm/v1.36.3/default), the kubelet's config (gate
// UserNamespacesHostNetworkSupport on) and kubeadm-flags.env as kubeadm writes them
// (cmd/kubeadm/app/phases/kubelet/flags.go), kube-apiserver's --feature-gates with both gates, a fake
// procfs (--proc: kernel release, unprivileged port start) and a saved Node object (--node-status) whose
// default runtime handler advertises user namespaces. Each test then takes one thing away.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildKubeadmCaseSandbox, readKubeadmCase } from '../../scripts/lib/kubeadm-cases.js';

const run = promisify(execFile);
export const APISERVER_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
export const BOTH_GATES = 'UserNamespacesSupport=true,UserNamespacesHostNetworkSupport=true';
/** statfs f_type of the filesystems with idmapped mounts on current kernels: ext4, xfs, btrfs, tmpfs (an overlay mount is not: only its layers can be idmapped). */
const IDMAP_CAPABLE = new Set(['ef53', '58465342', '9123683e', '1021994']);

export interface UsernsNode {
  root: string;
  proc: string;
  nodeStatus: string;
  path(p: string): string;
  /** --proc and --node-status for plan and apply. */
  args: string[];
}

export function nodeObject(userNamespaces: boolean): object {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: 'cp-1' }, status: { runtimeHandlers: [{ name: '', features: { recursiveReadOnlyMounts: true, userNamespaces } }, { name: 'runc', features: { recursiveReadOnlyMounts: true, userNamespaces } }] } };
}

export class UsernsNodes {
  private work = '';
  private pristine = '';
  private seq = 0;

  async setUp(): Promise<void> {
    this.work = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-userns-'));
    const sb = await buildKubeadmCaseSandbox(readKubeadmCase('v1.36.3', 'default'));
    this.pristine = path.join(this.work, 'pristine');
    await run('cp', ['-a', '--', sb.root, this.pristine]);
    await sb.cleanup();
    await mkdir(path.join(this.pristine, 'var/lib/kubelet'), { recursive: true });
    await writeFile(path.join(this.pristine, 'var/lib/kubelet/config.yaml'), 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nfeatureGates:\n  UserNamespacesHostNetworkSupport: true\nstaticPodPath: /etc/kubernetes/manifests\n');
    await writeFile(path.join(this.pristine, 'var/lib/kubelet/kubeadm-flags.env'), 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10"\n');
    const apiserver = path.join(this.pristine, APISERVER_MANIFEST);
    await writeFile(apiserver, (await readFile(apiserver, 'utf8')).replace('    - --secure-port=6443\n', `    - --secure-port=6443\n    - --feature-gates=${BOTH_GATES}\n`));
  }

  async tearDown(): Promise<void> {
    if (this.work) await rm(this.work, { recursive: true, force: true });
  }

  /** Why the idmapped-mount check cannot pass here (the test directory's filesystem), or null. */
  async idmapUnsupported(): Promise<string | null> {
    const fsType = (await run('stat', ['-f', '-c', '%t', this.work])).stdout.trim();
    return IDMAP_CAPABLE.has(fsType) ? null : `the test directory's filesystem (statfs type 0x${fsType}) has no idmapped mounts`;
  }

  /** A fresh node with every prerequisite in place. */
  async node(): Promise<UsernsNode> {
    const dir = path.join(this.work, `n${++this.seq}`);
    await mkdir(dir);
    const root = path.join(dir, 'root');
    await run('cp', ['-a', '--', this.pristine, root]);
    const proc = path.join(dir, 'proc');
    await mkdir(path.join(proc, 'sys/kernel'), { recursive: true });
    await mkdir(path.join(proc, 'sys/net/ipv4'), { recursive: true });
    await writeFile(path.join(proc, 'sys/kernel/osrelease'), '6.8.0-45-generic\n');
    await writeFile(path.join(proc, 'sys/net/ipv4/ip_unprivileged_port_start'), '1024\n');
    const nodeStatus = path.join(dir, 'node.json');
    await writeFile(nodeStatus, JSON.stringify(nodeObject(true)));
    return { root, proc, nodeStatus, path: (p) => path.join(root, p), args: ['--proc', proc, '--node-status', nodeStatus] };
  }
}
