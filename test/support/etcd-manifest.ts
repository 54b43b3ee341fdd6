// An etcd.yaml in the shape kubeadm v1.25–v1.31 writes (cmd/kubeadm/app/phases/etcd/local.go;
// kubeadm-manifests.md §1 and the ~1.24–1.25 row of §2), for the end-to-end test that runs a REAL etcd
// from it (test/e2e/etcd.test.ts). Differences from a kubeadm node, each because the test runs many
// nodes' worth of etcd on one machine's loopback:
//   - every URL is on 127.0.0.1 and the three ports are chosen free at test time (freePort), so the
//     advertise address and the loopback are the same and listen-client-urls lists it once (etcd
//     refuses to bind the same address twice);
//   - the image tag is only a label: the static-pod runner (runner.ts) runs the etcd binary on PATH
//     (Debian's etcd 3.4), so every flag here is one etcd 3.4 accepts. kubeadm v1.32+ etcd flags
//     (--feature-gates=InitialCorruptCheck=true, probes on /livez and /readyz) are 3.5/3.6-only.
// Paths are kubeadm's defaults: certificatesDir /etc/kubernetes/pki, dataDir /var/lib/etcd.
import { createServer } from 'node:net';
import { NODE_NAME } from '../../scripts/lib/pki.js';

export interface EtcdPorts {
  client: number;
  peer: number;
  metrics: number;
}

export interface EtcdManifestOptions {
  ports: EtcdPorts;
  /** Member name (--name, --initial-cluster); kubeadm uses the node name. */
  name?: string;
  dataDir?: string;
  /** The etcd certificates dir (kubeadm: <certificatesDir>/etcd). */
  certsDir?: string;
  image?: string;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/** Three distinct free loopback ports for one etcd. */
export async function freeEtcdPorts(): Promise<EtcdPorts> {
  const seen = new Set<number>();
  const pick = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!seen.has(p)) {
        seen.add(p);
        return p;
      }
    }
  };
  return { client: await pick(), peer: await pick(), metrics: await pick() };
}

/** The etcd static-pod manifest, flags sorted by name as kubeadm writes them (staticpod.getExtraParameters). */
export function renderEtcdManifest(o: EtcdManifestOptions): string {
  const name = o.name ?? NODE_NAME;
  const dataDir = o.dataDir ?? '/var/lib/etcd';
  const certs = o.certsDir ?? '/etc/kubernetes/pki/etcd';
  const image = o.image ?? 'registry.k8s.io/etcd:3.5.9-0';
  const client = `https://127.0.0.1:${o.ports.client}`;
  const peer = `https://127.0.0.1:${o.ports.peer}`;
  const metrics = o.ports.metrics;
  return `apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: ${client}
  creationTimestamp: null
  labels:
    component: etcd
    tier: control-plane
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=${client}
    - --cert-file=${certs}/server.crt
    - --client-cert-auth=true
    - --data-dir=${dataDir}
    - --experimental-initial-corrupt-check=true
    - --experimental-watch-progress-notify-interval=5s
    - --initial-advertise-peer-urls=${peer}
    - --initial-cluster=${name}=${peer}
    - --key-file=${certs}/server.key
    - --listen-client-urls=${client}
    - --listen-metrics-urls=http://127.0.0.1:${metrics}
    - --listen-peer-urls=${peer}
    - --name=${name}
    - --peer-cert-file=${certs}/peer.crt
    - --peer-client-cert-auth=true
    - --peer-key-file=${certs}/peer.key
    - --peer-trusted-ca-file=${certs}/ca.crt
    - --snapshot-count=10000
    - --trusted-ca-file=${certs}/ca.crt
    image: ${image}
    imagePullPolicy: IfNotPresent
    livenessProbe:
      failureThreshold: 8
      httpGet:
        host: 127.0.0.1
        path: /health?exclude=NOSPACE&serializable=true
        port: ${metrics}
        scheme: HTTP
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 15
    name: etcd
    resources:
      requests:
        cpu: 100m
        memory: 100Mi
    startupProbe:
      failureThreshold: 24
      httpGet:
        host: 127.0.0.1
        path: /health?serializable=false
        port: ${metrics}
        scheme: HTTP
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 15
    volumeMounts:
    - mountPath: ${dataDir}
      name: etcd-data
    - mountPath: ${certs}
      name: etcd-certs
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - hostPath:
      path: ${certs}
      type: DirectoryOrCreate
    name: etcd-certs
  - hostPath:
      path: ${dataDir}
      type: DirectoryOrCreate
    name: etcd-data
status: {}
`;
}
