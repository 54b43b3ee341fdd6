// Every container of a pod is analysed and set: init containers, sidecars and ephemeral containers run
// in the pod with its identity (unless they override it) and open host files through their own mounts.
// The expectations are read off the manifest below by hand; kubeadm's own single-container manifests
// stay byte-identical (test/integration/kubeadm-generated.test.ts and manifest-edit.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { analyzeAccess } from '../../src/model/access.js';
import { parsePod } from '../../src/model/pod.js';
import { applySecurity, removeSecurity } from '../../src/plan/manifest-edit.js';
import { containerOverrides } from '../../src/plan/plan.js';

const PATH = '/etc/kubernetes/manifests/kube-scheduler.yaml';
const MANIFEST = `apiVersion: v1
kind: Pod
metadata:
  name: kube-scheduler
  namespace: kube-system
spec:
  initContainers:
  - name: prepare
    image: busybox
    command: ["kube-scheduler", "--kubeconfig=/init/scheduler.conf"]
    securityContext:
      privileged: true
      runAsUser: 0
    volumeMounts:
    - mountPath: /init
      name: init
  containers:
  - name: kube-scheduler
    image: registry.k8s.io/kube-scheduler:v1.31.0
    command: ["kube-scheduler", "--kubeconfig=/etc/kubernetes/scheduler.conf"]
    volumeMounts:
    - mountPath: /etc/kubernetes/scheduler.conf
      name: kubeconfig
      readOnly: true
  - name: sidecar
    image: busybox
    command: ["kube-scheduler", "--config=/etc/sidecar/config.yaml"]
    volumeMounts:
    - mountPath: /etc/sidecar
      name: sidecar
  volumes:
  - hostPath:
      path: /etc/kubernetes/scheduler.conf
      type: FileOrCreate
    name: kubeconfig
  - hostPath:
      path: /srv/init
      type: Directory
    name: init
  - hostPath:
      path: /srv/sidecar
      type: Directory
    name: sidecar
`;
const desired = { runAsUser: 2001, runAsGroup: 2001, supplementalGroups: [], seccomp: 'field' as const, capabilitiesAdd: [], allowPrivilegeEscalation: false as const };

describe('every container of the pod', () => {
  it('parsePod lists initContainers, containers (sidecars too) and ephemeralContainers, with their own flags and mounts', () => {
    const pod = parsePod(`${MANIFEST}  ephemeralContainers:\n  - name: debug\n    image: busybox\n`, PATH);
    assert.deepEqual(pod.allContainers.map((c) => `${c.list}[${c.index}] ${c.name}`), ['initContainers[0] prepare', 'containers[0] kube-scheduler', 'containers[1] sidecar', 'ephemeralContainers[0] debug']);
    assert.deepEqual(pod.allContainers[0]!.mounts.map((m) => m.mountPath), ['/init']);
    assert.equal(pod.containerName, 'kube-scheduler', 'the component is still containers[0]');
  });

  it('analyses the init container and the sidecar through their own mounts', () => {
    const hostPaths = analyzeAccess(parsePod(MANIFEST, PATH), 'kube-scheduler').accesses.map((a) => `${a.hostPath} ${a.access} ${a.flag}`);
    assert.deepEqual(hostPaths, ['/etc/kubernetes/scheduler.conf read --kubeconfig', '/srv/init/scheduler.conf read --kubeconfig', '/srv/sidecar/config.yaml read --config']);
  });

  it('a privileged root initContainer is a blocking problem (verify cannot say "holds")', () => {
    const pod = parsePod(MANIFEST, PATH);
    const codes = containerOverrides({ component: 'kube-scheduler', path: PATH, pod }, { uid: 2001, gid: 2001 }).map((p) => `${p.code} ${/initContainers\[0\]/.test(p.message)}`);
    assert.deepEqual(codes, ['container-identity-override true', 'container-privileged true']);
  });

  it('sets (and revert removes) the container securityContext of every container', () => {
    const out = applySecurity(MANIFEST, desired, PATH);
    const spec = (parse(out.text) as { spec: Record<string, Array<{ securityContext?: Record<string, unknown> }>> }).spec;
    for (const c of [...spec.initContainers!, ...spec.containers!]) {
      assert.deepEqual((c.securityContext!.capabilities as { drop: string[] }).drop, ['ALL']);
      assert.equal(c.securityContext!.allowPrivilegeEscalation, false);
    }
    assert.ok(out.changes.includes('initContainers[0] securityContext.capabilities.drop: [ALL]'), out.changes.join('\n'));
    const back = removeSecurity(out.text, { keepSeccompField: false, removeSeccompAnnotation: true }, PATH);
    const after = (parse(back.text) as { spec: Record<string, Array<{ securityContext?: Record<string, unknown> }>> }).spec;
    assert.equal(after.containers![1]!.securityContext, undefined);
    assert.deepEqual(after.initContainers![0]!.securityContext, { privileged: true, runAsUser: 0 });
  });
});
