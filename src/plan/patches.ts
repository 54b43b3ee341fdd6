// kubeadm patch files (strategic merge) that make `kubeadm upgrade apply|node --patches DIR` write
// non-root manifests itself. The templates (templates/patches/<component>+strategic.yaml) are data;
// this fills in a node's identities. Pure.
import { parseYaml, stringifyYaml } from '../yaml/go-yaml.js';
import type { Component } from '../model/components.js';
import { SECCOMP_ANNOTATION } from './seccomp.js';
import type { NodeState } from '../model/node.js';
import type { Identity } from './types.js';
import type { UserNamespaceMode } from '../model/userns.js';

/** kubeadm's patch file naming: <target>[suffix]+<patchtype>.yaml (kubeadm/app/util/patches). */
export function patchFileName(component: Component): string {
  return `${component}+strategic.yaml`;
}

/**
 * Fill a template with one component's identity. Before v1.19 the seccomp field does not exist and the
 * alpha annotation is used instead, exactly as apply writes it (src/plan/seccomp.ts). In a
 * user-namespace mode the patch carries `hostUsers: false` too, as apply writes it.
 */
export function renderPatch(template: string, identity: Identity, toolVersion: string, seccomp: 'field' | 'annotation' = 'field', userNamespaces: UserNamespaceMode = 'off'): string {
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
  if (userNamespaces !== 'off') doc.setIn(['spec', 'hostUsers'], false);
  return stringifyYaml(doc, { indentSeq: false });
}

/** userNamespaces: only — the patch is the one field apply writes (no identity, no securityContext). */
export function renderHostUsersPatch(component: Component, toolVersion: string): string {
  return `# kubeadm patch (strategic merge) written by kubeadm-nonroot ${toolVersion}.\n# ${component} runs in a user namespace of its own (userNamespaces: only).\n# Use with: kubeadm upgrade apply|node --patches DIR  (see docs/user-namespaces.md)\nspec:\n  hostUsers: false\n`;
}

/**
 * Why patch files for these identities must not be written, or null: every user ID, group ID and
 * supplemental group a patch names must exist on the node under that name — kubeadm would otherwise
 * start the component as an ID nobody owns (a config that was never applied, or a missing -c).
 */
export function patchRefusal(identities: readonly Identity[], node: Pick<NodeState, 'passwd' | 'group'>): string | null {
  for (const id of identities) {
    const user = node.passwd.find((p) => p.name === id.user && p.uid === id.uid);
    const groups = [{ name: id.group, gid: id.gid }, ...id.supplementalGroups].filter((g) => !node.group.some((x) => x.name === g.name && x.gid === g.gid));
    const missing = [...(user ? [] : [`user ${id.user} (uid ${id.uid})`]), ...groups.map((g) => `group ${g.name} (gid ${g.gid})`)];
    if (missing.length === 0) continue;
    return `${id.component}: ${missing.join(', ')} does not exist on this node, so no patch file was written; migrate the node first (kubeadm-nonroot apply), or pass the config it was migrated with (-c FILE)`;
  }
  return null;
}
