// Which static pods are kubeadm's control-plane components, and for every other manifest the exact
// reason it is left alone. kubeadm writes `<component>.yaml` with metadata.name =
// labels.component = <component>, and the container command starts with the component's binary
// (cmd/kubeadm/app/phases/controlplane/manifests.go, cmd/kubeadm/app/phases/etcd/local.go). What a
// pod RUNS is read from its command (or, with no command, its image name); the file name, the pod
// name and the `component` label then say whether it is kubeadm's instance of that component.
//
//   - runs C, file C.yaml, pod named C                → kubeadm's C: migrated (labels and tier are
//     not required: hand edits drop them, and they change nothing that runs).
//   - runs C, and EITHER the file is C.yaml OR the pod is named C, not both (a "Klustered" pod
//     renamed with its file and labels kept; kubeadm's etcd.yaml saved as etcd_kube-system.yaml)
//     → refused: it is the node's C, but kubeadm upgrade writes C.yaml with pod name C and would
//     replace it or run a second C beside it. Leaving it alone would leave the node half-migrated.
//   - a kubectl dump of the API object (uid, ownerReferences, mirror annotation, status) saved
//     under a component's name or pod name → refused: it is not the manifest kubeadm wrote.
//   - runs C under another file AND pod name (a second scheduler copied from kube-scheduler.yaml)
//     → left alone, reason given.
//   - anything else (kube-vip, haproxy, a file named like a component that runs something else)
//     → left alone, reason given; a warning when its file or pod name is a component's.
import { posix } from 'node:path';
import { COMPONENTS, isComponent, type Component } from './components.js';
import type { PodInfo } from './pod.types.js';

export type Identification =
  | { kind: 'component'; component: Component }
  /** It is this node's `component`, in a shape the tool cannot migrate safely: a blocking problem. */
  | { kind: 'refused'; component: Component; code: 'component-renamed' | 'manifest-is-a-dump'; reason: string; fix: string }
  /** Left byte-identical; `kubeadmNamed` when its file or pod name is a component's (then a warning too). */
  | { kind: 'ignored'; reason: string; kubeadmNamed: boolean };

/** The component a file is named after ("kube-apiserver.yaml" → "kube-apiserver"), by name only. */
export function looksLikeComponentFile(fileName: string): Component | null {
  const base = posix.basename(fileName);
  return COMPONENTS.find((c) => base === `${c}.yaml`) ?? null;
}

/** "registry.k8s.io/kube-apiserver-amd64:v1.13.4" → "kube-apiserver"; null for other images. */
function componentOfImage(image: string): Component | null {
  const noDigest = image.split('@')[0];
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  const name = (colon === -1 ? noDigest : noDigest.slice(0, colon)).slice(lastSlash + 1);
  const bare = name.replace(/-(amd64|arm64|arm|ppc64le|s390x)$/, '');
  return isComponent(bare) ? bare : null;
}

/** What the container runs: its command's binary, or with no command (the image's entrypoint) its image's component. */
function componentRun(pod: PodInfo): Component | null {
  if (pod.command.length > 0) {
    const bin = posix.basename(pod.command[0]);
    return isComponent(bin) ? bin : null;
  }
  return componentOfImage(pod.image);
}

export function identify(fileName: string, pod: PodInfo): Identification {
  const base = posix.basename(fileName);
  const byFile = looksLikeComponentFile(fileName);
  const byName = isComponent(pod.name) ? pod.name : null;
  const runs = componentRun(pod);
  const kubeadmNamed = byFile !== null || byName !== null;
  const what = pod.command.length > 0 ? `runs ${pod.command[0]}` : `runs image ${pod.image}`;

  if (runs === null) {
    return { kind: 'ignored', kubeadmNamed, reason: kubeadmNamed ? `named like kubeadm's ${byFile ?? byName} but ${what}, not a control-plane component` : `not a kubeadm control-plane pod (${what})` };
  }
  const asFile = byFile === runs;
  const asName = byName === runs || (pod.dumpSigns.length > 0 && pod.name.startsWith(`${runs}-`));
  if (pod.dumpSigns.length > 0 && (asFile || asName)) {
    return {
      kind: 'refused',
      component: runs,
      code: 'manifest-is-a-dump',
      reason: `${base} is a dump of the API server's pod object (it has ${pod.dumpSigns.join(', ')}), not the static-pod manifest kubeadm writes`,
      fix: `put back the manifest kubeadm wrote (kubeadm init phase ${runs === 'etcd' ? 'etcd local' : `control-plane ${runs.replace(/^kube-/, '')}`} regenerates it), then run again`,
    };
  }
  if (asFile && asName) return { kind: 'component', component: runs };
  if (asFile || asName) {
    const label = pod.labels.component === runs ? ', component label' : '';
    const reason = asFile
      ? `${base} runs ${runs} (command${label}, file name) but its pod is named ${JSON.stringify(pod.name)}, not ${JSON.stringify(runs)} as kubeadm names it`
      : `the ${runs} pod (pod name${label}, command) is in ${base}, not ${runs}.yaml where kubeadm writes it`;
    return {
      kind: 'refused',
      component: runs,
      code: 'component-renamed',
      reason: `${reason}; kubeadm upgrade writes ${runs}.yaml with pod ${runs}, which would replace it or run beside it, so the node's ${runs} is not the pod kubeadm maintains`,
      fix: asFile ? `set metadata.name: ${runs} in ${base}, or move the file out of the manifests directory if it is not this node's ${runs}` : `rename ${base} to ${runs}.yaml, or rename the pod if it is not this node's ${runs}`,
    };
  }
  const kubeadms = byFile ?? byName;
  return {
    kind: 'ignored',
    kubeadmNamed,
    reason: kubeadms !== null
      ? `named like kubeadm's ${kubeadms} but runs ${runs}`
      : `a second ${runs} (pod ${JSON.stringify(pod.name)}), not kubeadm's: kubeadm's is ${runs}.yaml with pod name ${runs}`,
  };
}

/** The kubeadm component this manifest is, or null (left alone or refused: see identify()). */
export function identifyComponent(fileName: string, pod: PodInfo): Component | null {
  const id = identify(fileName, pod);
  return id.kind === 'component' ? id.component : null;
}
