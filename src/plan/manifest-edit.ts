// Security-context edits of a static-pod manifest: what applySecurity writes to make a control-plane
// pod run as its own non-root user (the fields kubeadm's RootlessControlPlane gate wrote, KEP-2568), and
// removeSecurity, its inverse for `revert`. The text is edited by the splice engine (src/yaml/splice.ts),
// so everything outside the edited keys stays byte-identical; seccomp is src/plan/seccomp.ts.
import { InputError } from '../errors.js';
import { Editor, type EditResult, type PathKey } from '../yaml/splice.js';
import { applySeccomp, SECCOMP_ANNOTATION } from './seccomp.js';

export type { EditResult } from '../yaml/splice.js';

export interface DesiredSecurity {
  runAsUser: number;
  runAsGroup: number;
  /** Set exactly this list; [] → the key is removed. */
  supplementalGroups: number[];
  /** 'field': pod securityContext.seccompProfile (Kubernetes >= 1.19); 'annotation': the pre-1.19 pod annotation. */
  seccomp: 'field' | 'annotation';
  /** Container capabilities.add; [] → no add key. drop is always [ALL]. */
  capabilitiesAdd: string[];
  /** false → set allowPrivilegeEscalation: false; null → leave the key as it is (kube-apiserver, as kubeadm). */
  allowPrivilegeEscalation: false | null;
}

const POD_SC: PathKey[] = ['spec', 'securityContext'];
const CONTAINER_SC: PathKey[] = ['spec', 'containers', 0, 'securityContext'];
const ANNOTATIONS: PathKey[] = ['metadata', 'annotations'];
/** The user-namespace mode's pod field (src/plan/userns-plan.ts). */
export const HOST_USERS: readonly PathKey[] = ['spec', 'hostUsers'];
/** Pod securityContext keys this tool manages (pod level, where kubeadm's RootlessControlPlane put them: KEP-2568). */
const POD_MANAGED = ['runAsGroup', 'runAsNonRoot', 'runAsUser', 'supplementalGroups'];
const CONTAINER_MANAGED = ['allowPrivilegeEscalation', 'capabilities'];

export function applySecurity(text: string, desired: DesiredSecurity, source?: string): EditResult {
  checkDesired(desired, source);
  const ed = new Editor(text, source);
  // A securityContext that does not exist yet is inserted whole, keys sorted as kubeadm sorts them: the
  // same text as the key-by-key edits below produce, in one splice.
  if (ed.get(POD_SC) === undefined && desired.seccomp === 'field' && ed.get([...ANNOTATIONS, SECCOMP_ANNOTATION]) === undefined) {
    const sc: Record<string, unknown> = { runAsGroup: desired.runAsGroup, runAsNonRoot: true, runAsUser: desired.runAsUser, seccompProfile: { type: 'RuntimeDefault' } };
    if (desired.supplementalGroups.length > 0) sc.supplementalGroups = desired.supplementalGroups;
    ed.setWhole(POD_SC, sc, 'pod securityContext');
  }
  const containerScAbsent = ed.get(CONTAINER_SC) === undefined;
  ed.set([...POD_SC, 'runAsGroup'], desired.runAsGroup, 'pod securityContext.runAsGroup');
  ed.set([...POD_SC, 'runAsNonRoot'], true, 'pod securityContext.runAsNonRoot');
  ed.set([...POD_SC, 'runAsUser'], desired.runAsUser, 'pod securityContext.runAsUser');
  if (desired.supplementalGroups.length > 0) {
    ed.set([...POD_SC, 'supplementalGroups'], desired.supplementalGroups, 'pod securityContext.supplementalGroups');
  } else {
    ed.remove([...POD_SC, 'supplementalGroups'], 'pod securityContext.supplementalGroups');
  }
  applySeccomp(ed, desired.seccomp, source);

  for (const c of containerSecurityPaths(ed)) setContainerSecurity(ed, c.path, c.label, desired, c.path === CONTAINER_SC ? containerScAbsent : ed.get(c.path) === undefined);
  return ed.result();
}

/**
 * The securityContext of every container: the component's (containers[0]) first, then init containers,
 * sidecars and ephemeral containers — each runs with the pod's identity and must drop its capabilities
 * too. kubeadm's manifests have only containers[0], whose edit (and label) is unchanged.
 */
function containerSecurityPaths(ed: Editor): Array<{ path: PathKey[]; label: string }> {
  const out = [{ path: CONTAINER_SC, label: 'container securityContext' }];
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    const items = ed.get(['spec', list]);
    if (!Array.isArray(items)) continue;
    items.forEach((_, i) => {
      if (list !== 'containers' || i > 0) out.push({ path: ['spec', list, i, 'securityContext'], label: `${list}[${i}] securityContext` });
    });
  }
  return out;
}

/** One container's managed keys: allowPrivilegeEscalation (when desired), capabilities add and drop: [ALL]. */
function setContainerSecurity(ed: Editor, sc: PathKey[], label: string, desired: DesiredSecurity, absent: boolean): void {
  if (absent) {
    const caps: Record<string, unknown> = desired.capabilitiesAdd.length > 0 ? { add: desired.capabilitiesAdd, drop: ['ALL'] } : { drop: ['ALL'] };
    ed.setWhole(sc, desired.allowPrivilegeEscalation === false ? { allowPrivilegeEscalation: false, capabilities: caps } : { capabilities: caps }, label);
  }
  if (desired.allowPrivilegeEscalation === false) {
    ed.set([...sc, 'allowPrivilegeEscalation'], false, `${label}.allowPrivilegeEscalation`);
  }
  if (desired.capabilitiesAdd.length > 0) {
    ed.set([...sc, 'capabilities', 'add'], desired.capabilitiesAdd, `${label}.capabilities.add`);
  } else {
    ed.remove([...sc, 'capabilities', 'add'], `${label}.capabilities.add`);
  }
  ed.set([...sc, 'capabilities', 'drop'], ['ALL'], `${label}.capabilities.drop`);
}

/** The inverse of applySecurity, for `revert`. */
export function removeSecurity(
  text: string,
  opts: { keepSeccompField: boolean; removeSeccompAnnotation: boolean },
  source?: string,
): EditResult {
  const ed = new Editor(text, source);
  const podKeys = opts.keepSeccompField ? POD_MANAGED : [...POD_MANAGED, 'seccompProfile'];
  ed.removeKeys(POD_SC, podKeys, 'pod securityContext');
  if (opts.removeSeccompAnnotation) ed.removeKeys(ANNOTATIONS, [SECCOMP_ANNOTATION], 'annotation');
  for (const c of containerSecurityPaths(ed)) ed.removeKeys(c.path, CONTAINER_MANAGED, c.label);
  // kubeadm never writes hostUsers: only the user-namespace mode did (src/plan/userns-plan.ts).
  ed.remove([...HOST_USERS], 'pod hostUsers');
  return ed.result();
}

function checkDesired(d: DesiredSecurity, source: string | undefined): void {
  const ids: Array<[string, number]> = [
    ['runAsUser', d.runAsUser],
    ['runAsGroup', d.runAsGroup],
    ...d.supplementalGroups.map((g, i): [string, number] => [`supplementalGroups[${i}]`, g]),
  ];
  for (const [name, id] of ids) {
    if (!isInt(id) || id < 0) throw new InputError(`${name}: ${id} is not a valid ID (a non-negative integer)`, source);
  }
  // runAsNonRoot: true is written too, and the kubelet refuses to start a container with it and UID 0.
  if (d.runAsUser === 0) throw new InputError('runAsUser: 0 is root; choose a non-root UID', source);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}
