// kubeadm patch files (strategic merge) that make `kubeadm upgrade apply|node --patches DIR` write
// non-root manifests itself. The templates (templates/patches/<component>+strategic.yaml) are data;
// this fills in a node's identities. Pure.
import { parseYaml, stringifyYaml } from '../yaml/go-yaml.js';
import type { Component } from '../model/components.js';
import { SECCOMP_ANNOTATION } from './seccomp.js';
import type { Identity } from './types.js';

/** kubeadm's patch file naming: <target>[suffix]+<patchtype>.yaml (kubeadm/app/util/patches). */
export function patchFileName(component: Component): string {
  return `${component}+strategic.yaml`;
}

/**
 * Fill a template with one component's identity. Before v1.19 the seccomp field does not exist and the
 * alpha annotation is used instead, exactly as apply writes it (src/plan/seccomp.ts).
 */
export function renderPatch(template: string, identity: Identity, toolVersion: string, seccomp: 'field' | 'annotation' = 'field'): string {
  const vars: Record<string, string> = {
    TOOL_VERSION: toolVersion,
    USER: identity.user,
    UID: String(identity.uid),
    GROUP: identity.group,
    GID: String(identity.gid),
    SUPPLEMENTAL_GROUPS: `[${identity.supplementalGroups.map((g) => g.gid).join(', ')}]`,
  };
  const text = template.replace(/\$\{([A-Z_]+)\}/g, (m, k: string) => vars[k] ?? m);
  const doc = parseYaml(text);
  if (identity.supplementalGroups.length === 0) doc.deleteIn(['spec', 'securityContext', 'supplementalGroups']);
  if (seccomp === 'annotation') {
    doc.deleteIn(['spec', 'securityContext', 'seccompProfile']);
    const spec = doc.get('spec');
    doc.delete('spec');
    doc.setIn(['metadata', 'annotations', SECCOMP_ANNOTATION], 'runtime/default');
    doc.set('spec', spec);
  }
  return stringifyYaml(doc, { indentSeq: false });
}
