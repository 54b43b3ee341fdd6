// seccomp policy: the pod runs with the container runtime's default profile (RuntimeDefault, what
// kubeadm's own manifests never set; kubernetes#100234), as the securityContext field from Kubernetes
// 1.19 on, as the pod annotation before (KEP-135, seccomp to GA in 1.19). An existing profile in one
// form is translated to the other so the two never disagree.
import { InputError } from '../errors.js';
import type { Editor, PathKey } from '../yaml/splice.js';

/** The pre-1.19 pod-level seccomp annotation (deprecated when the field went GA in 1.19, KEP-135). */
export const SECCOMP_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';

const SECCOMP_FIELD: PathKey[] = ['spec', 'securityContext', 'seccompProfile'];
const ANNOTATION: PathKey[] = ['metadata', 'annotations', SECCOMP_ANNOTATION];

/** Make the manifest ask for a seccomp profile in the given form, keeping a profile it already names. */
export function applySeccomp(ed: Editor, style: 'field' | 'annotation', source: string | undefined): void {
  const field = ed.get(SECCOMP_FIELD);
  const annotation = ed.get(ANNOTATION);
  const hasField = field !== undefined && field !== null;
  const hasAnnotation = annotation !== undefined && annotation !== null;
  if (style === 'field' && !hasField) {
    // Translate an existing annotation so both forms agree; otherwise the default kubeadm uses (#100234).
    const profile = hasAnnotation ? annotationToField(String(annotation), source) : { type: 'RuntimeDefault' };
    ed.set(SECCOMP_FIELD, profile, 'pod securityContext.seccompProfile');
  }
  if (style === 'annotation' && !hasAnnotation) {
    // Pre-1.19 kubelets honour only the annotation; mirror an existing field rather than contradict it.
    const value = hasField ? fieldToAnnotation(field, source) : 'runtime/default';
    ed.set(ANNOTATION, value, `annotation ${SECCOMP_ANNOTATION}`);
  }
}

/** The kubelet's own annotation → field mapping (runtime/default and the older docker/default are the same profile). */
function annotationToField(value: string, source: string | undefined): Record<string, string> {
  if (value === 'runtime/default' || value === 'docker/default') return { type: 'RuntimeDefault' };
  if (value === 'unconfined') return { type: 'Unconfined' };
  if (value.startsWith('localhost/') && value.length > 'localhost/'.length) {
    return { localhostProfile: value.slice('localhost/'.length), type: 'Localhost' };
  }
  throw new InputError(
    `annotation ${SECCOMP_ANNOTATION}: unknown seccomp profile "${value}"; use runtime/default, unconfined or localhost/<profile>, or set spec.securityContext.seccompProfile yourself`,
    source,
  );
}

function fieldToAnnotation(field: unknown, source: string | undefined): string {
  const f = typeof field === 'object' && field !== null ? (field as Record<string, unknown>) : {};
  if (f['type'] === 'RuntimeDefault') return 'runtime/default';
  if (f['type'] === 'Unconfined') return 'unconfined';
  if (f['type'] === 'Localhost' && typeof f['localhostProfile'] === 'string') return `localhost/${f['localhostProfile']}`;
  throw new InputError(
    `spec.securityContext.seccompProfile: cannot express ${JSON.stringify(field)} as the ${SECCOMP_ANNOTATION} annotation; set the annotation yourself`,
    source,
  );
}
