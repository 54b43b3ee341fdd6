// The control plane of a KubeNode (scripts/kube-node.ts) as the real-node flow tests and the node
// benchmark see it: the tool run inside the node, kubectl with kubeadm's admin.conf, the mirror pods.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeNode } from '../kube-node.js';
import { REPO_ROOT } from './paths.js';

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Comp = (typeof COMPONENTS)[number];

/** kubeadm-nonroot inside the node, with NO --root: the real-node mode an operator uses. */
export function tool(kn: KubeNode, args: string[], timeoutMs = 900_000) {
  return kn.node.exec([process.execPath, join(REPO_ROOT, 'bin', 'kubeadm-nonroot'), ...args], { env: { NO_COLOR: '1', LC_ALL: 'C' }, timeoutMs });
}

/** kubectl (the machine's client) against the node's API with kubeadm's admin.conf. */
export async function kubectl(kn: KubeNode, args: string[], input?: string): Promise<string> {
  return kn.node.run(['kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', ...args], { input, timeoutMs: 60_000 });
}

export interface PodInfo { name: string; phase: string; ready: boolean; securityContext: Record<string, unknown>; containerSC: Record<string, unknown>; hash?: string }

export async function mirrorPods(kn: KubeNode): Promise<Map<Comp, PodInfo>> {
  const out = JSON.parse(await kubectl(kn, ['get', 'pods', '-n', 'kube-system', '-l', 'tier=control-plane', '-o', 'json'])) as { items: any[] };
  const m = new Map<Comp, PodInfo>();
  for (const p of out.items) {
    const comp = p.metadata.labels?.component as Comp;
    m.set(comp, {
      name: p.metadata.name,
      phase: p.status.phase,
      ready: (p.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
      securityContext: p.spec.securityContext ?? {},
      containerSC: p.spec.containers[0].securityContext ?? {},
      hash: p.metadata.annotations?.['kubernetes.io/config.hash'],
    });
  }
  return m;
}

/** Waits until the four control-plane mirror pods are Running and Ready; returns them. */
export async function waitMirrorPodsReady(kn: KubeNode, timeoutMs = 300_000, pred: (p: Map<Comp, PodInfo>) => boolean = () => true): Promise<Map<Comp, PodInfo>> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const pods = await mirrorPods(kn);
      last = [...pods].map(([c, p]) => `${c}:${p.phase}/${p.ready ? 'ready' : 'not-ready'}`).join(' ');
      if (COMPONENTS.every((c) => pods.get(c)?.phase === 'Running' && pods.get(c)?.ready) && pred(pods)) return pods;
    } catch (e) {
      last = (e as Error).message.split('\n').slice(-2).join(' ');
    }
    if (Date.now() > deadline) throw new Error(`control-plane mirror pods not all Running/Ready after ${timeoutMs / 1000} s: ${last}`);
    await sleep(2000);
  }
}
