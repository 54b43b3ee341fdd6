// Versions read from image references. kubeadm tags its images with the exact release
// (kube-apiserver:v1.32.11, etcd:3.5.24-0: etcd's "-N" suffix is kubeadm's image revision), and
// mirrors keep the tag (registry.aliyuncs.com/google_containers/kube-apiserver:v1.16.2), so the
// tag is the best pure evidence of the version the manifest was written for.
import { semver } from './semver.js';
import { SECCOMP_FIELD_SINCE } from './support.js';

/**
 * The tag of an image reference, or null when it has none. The tag is the text after the last ":"
 * that follows the last "/", so a registry port is not mistaken for a tag
 * ("localhost:5000/kube-apiserver" has no tag). A digest ("@sha256:…") is not a tag: a reference
 * pinned only by digest gives null; "name:tag@sha256:…" gives the tag.
 */
export function imageTag(image: string): string | null {
  const ref = image.trim();
  const at = ref.indexOf('@');
  const named = at === -1 ? ref : ref.slice(0, at);
  const colon = named.lastIndexOf(':');
  if (colon === -1 || colon < named.lastIndexOf('/')) return null;
  const tag = named.slice(colon + 1);
  return tag === '' ? null : tag;
}

/**
 * "v1.28.0" / "1.32.11" / "3.5.15-0" / "v1.29.0-rc.1" → "MAJOR.MINOR.PATCH" (like semver.coerce,
 * but only from the start of the tag, so "latest" or a build hash never yields a version).
 * A tag with only MAJOR.MINOR gets patch 0.
 */
function versionFromTag(tag: string | null): string | null {
  if (tag === null) return null;
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?=$|[-+_.])/.exec(tag);
  if (m === null) return null;
  return `${Number(m[1])}.${Number(m[2])}.${Number(m[3] ?? '0')}`;
}

/** Kubernetes version of a kube-apiserver/-controller-manager/-scheduler image, e.g. "1.32.11". */
export function kubeVersionFromImage(image: string): string | null {
  return versionFromTag(imageTag(image));
}

/** etcd version of an etcd image ("registry.k8s.io/etcd:3.5.15-0" → "3.5.15"). */
export function etcdVersionFromImage(image: string): string | null {
  return versionFromTag(imageTag(image));
}

/**
 * How to express seccomp for this Kubernetes version. The pod/container `securityContext.
 * seccompProfile` field is GA from 1.19 (annotations deprecated then, ignored for static pods from
 * 1.25: KEP-135, sig-node/135-seccomp); older kubelets only read the annotation. Unknown version → field,
 * since every supported cluster today is ≥ 1.19.
 */
export function seccompStyle(kubeVersion: string | null): 'field' | 'annotation' {
  const v = versionFromTag(kubeVersion);
  if (v === null) return 'field';
  return semver.lt(v, SECCOMP_FIELD_SINCE) ? 'annotation' : 'field';
}
