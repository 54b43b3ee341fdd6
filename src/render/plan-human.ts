// Human view of a Plan. Only wording: every decision (is there anything to do, is it blocked) comes
// from src/plan/summary.ts.
import { formatMode } from '../model/perms.js';
import { countPlan, hasChanges, isBlocked } from '../plan/summary.js';
import type { AccountAction, FileAction, Ownership, Plan, Problem } from '../plan/types.js';
import type { Style } from './style.js';

export function owner(o: Ownership): string {
  return `${o.user ?? o.uid}:${o.group ?? o.gid} ${formatMode(o.mode)}`;
}

function account(a: AccountAction, s: Style): string {
  switch (a.action) {
    case 'create-group':
      return `  ${s.add('+')} group ${a.name.padEnd(24)} gid ${a.gid}`;
    case 'create-user':
      return `  ${s.add('+')} user  ${a.name.padEnd(24)} uid ${a.uid}, group ${a.group} (${a.gid})${a.supplementaryGroups.length ? `, member of ${a.supplementaryGroups.join(', ')}` : ''}, shell ${a.shell}`;
    case 'add-group-members':
      return `  ${s.change('~')} group ${a.name.padEnd(24)} gid ${a.gid}, add members ${a.members.join(', ')}`;
    case 'reuse-group':
      return `  ${s.dim('=')} group ${a.name.padEnd(24)} gid ${a.gid} ${s.dim('(exists, reused)')}`;
    case 'reuse-user':
      return `  ${s.dim('=')} user  ${a.name.padEnd(24)} uid ${a.uid}, group ${a.group} (${a.gid}) ${s.dim('(exists, reused)')}`;
    case 'delete-user':
      return `  ${s.remove('-')} user  ${a.name.padEnd(24)} uid ${a.uid}`;
    case 'delete-group':
      return `  ${s.remove('-')} group ${a.name.padEnd(24)} gid ${a.gid}`;
  }
}

function file(f: FileAction, s: Style): string[] {
  const who = f.readers.join(', ');
  if (f.action === 'create-directory') {
    return [`  ${s.add('+')} ${f.path}/ (create) → ${owner(f.desired)}`, `      ${s.dim(`${f.access} by ${who}: ${f.reason}`)}`];
  }
  const rec = f.action === 'set-owner-recursive' ? ` (recursive, ${f.tree?.entries ?? 0} entries below)` : '';
  return [`  ${s.change('~')} ${f.path}${rec}: ${owner(f.current!)} → ${owner(f.desired)}`, `      ${s.dim(`${f.access} by ${who}: ${f.reason}`)}`];
}

function problem(p: Problem, mark: string): string[] {
  return [`  ${mark} ${p.message}`, ...(p.fix ? [`      fix: ${p.fix}`] : [])];
}

export function renderPlanHuman(plan: Plan, s: Style): string {
  const out: string[] = [];
  const versions = [plan.kubernetesVersion && `Kubernetes v${plan.kubernetesVersion}`, plan.etcdVersion && `etcd ${plan.etcdVersion}`].filter(Boolean).join(', ');
  out.push(s.bold(`kubeadm-nonroot ${plan.kind === 'RevertPlan' ? 'revert ' : ''}plan${plan.root !== '/' ? ` for root ${plan.root}` : ''}${versions ? ` (${versions})` : ''}`), '');
  if (plan.userNamespaces) out.push(`User namespaces: ${plan.userNamespaces} — every migrated static pod gets hostUsers: false (docs/user-namespaces.md)`, '');
  out.push('Components:');
  const userns = plan.userNamespaces ? ', in a user namespace of its own' : '';
  for (const c of plan.components) {
    const id = c.identity
      ? `runs as ${c.identity.user} (uid ${c.identity.uid}, gid ${c.identity.gid}${c.identity.supplementalGroups.length ? `, groups ${c.identity.supplementalGroups.map((g) => `${g.name}=${g.gid}`).join(',')}` : ''})${userns}`
      : !c.migrate ? 'not selected; stays as it is' : plan.userNamespaces === 'only' ? "runs as its image's user (root) in a user namespace of its own" : 'no identity (see problems)';
    out.push(`  ${c.component.padEnd(24)} ${id}`);
  }
  for (const m of plan.ignoredManifests) out.push(`  ${s.dim(`left untouched: ${m.file}: ${m.reason}`)}`);
  if (plan.accounts.length) out.push('', 'Accounts:', ...plan.accounts.map((a) => account(a, s)));
  const restored = plan.files.filter((f) => !f.newGrant);
  const added = plan.files.filter((f) => f.newGrant);
  if (restored.length) out.push('', 'Files:', ...restored.flatMap((f) => file(f, s)));
  if (added.length) {
    out.push('', s.warn('NEW GRANTS (beyond the migration record; each needs apply --grant PATH):'));
    for (const f of added) out.push(...file(f, s), `      ${s.warn('!')} named by ${f.newGrant!.source}`);
  }
  if (plan.manifests.length) {
    out.push('', 'Manifests:');
    for (const m of plan.manifests) {
      out.push(`  ${s.change('~')} ${m.path}`);
      const id = m.identityLost ? plan.components.find((c) => c.component === m.component)?.identity : null;
      if (id) out.push(`    ${s.warn('!')} no longer runs as ${id.user} (uid ${id.uid}), whose account exists: regenerated without the patches (kubeadm upgrade?); this edit restores it`);
      out.push(...m.diff.trimEnd().split('\n').map((l) => '    ' + (l.startsWith('+') && !l.startsWith('+++') ? s.add(l) : l.startsWith('-') && !l.startsWith('---') ? s.remove(l) : l)));
    }
  }
  if (plan.target) {
    out.push('', `Upgrade target v${plan.target.version}: ${plan.target.support === 'known' ? s.add('supported') : s.bad(plan.target.support)}`, ...plan.target.notes.map((n) => `  • ${n}`));
  }
  if (plan.warnings.length) out.push('', 'Warnings:', ...plan.warnings.flatMap((p) => problem(p, s.warn('!'))));
  if (plan.problems.length) out.push('', s.bad('Blocking problems (nothing will be changed until they are fixed):'), ...plan.problems.flatMap((p) => problem(p, s.bad('✗'))));
  out.push('');
  const n = countPlan(plan);
  if (isBlocked(plan)) out.push(s.bad(`Plan blocked by ${n.problems} problem(s).`));
  else if (!hasChanges(plan)) out.push('Nothing to do: the node already runs its control plane as planned.');
  else out.push(`Plan: ${n.accountsToCreate} account change(s), ${n.filesToChange} file(s) to change, ${n.manifestsToEdit} manifest(s) to edit.`);
  return out.join('\n') + '\n';
}
