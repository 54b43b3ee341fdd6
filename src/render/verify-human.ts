import type { VerifyReport } from '../verify/types.js';
import type { Style } from './style.js';

export function renderVerifyHuman(r: VerifyReport, s: Style, rootFlag = ''): string {
  if (r.state === 'not-migrated') {
    // Every finding would say "not migrated yet": one line instead (-o json keeps them all).
    const problems = r.findings.filter((f) => f.kind === 'problem');
    const what = r.rolledBackRun ? `this node's migration was rolled back (run ${r.rolledBackRun})` : r.revertedRun ? `this node was reverted to root (run ${r.revertedRun})` : 'this node has not been migrated (or was rolled back)';
    const lines = [s.bad(`✗ ${what}: no component runs as its non-root user yet; ${r.findings.length} difference(s) from the desired state, listed by -o json; review them with: kubeadm-nonroot plan${rootFlag}`)];
    for (const p of problems) lines.push(`    blocking problem: ${p.subject ? `${p.subject}: ` : ''}${p.message}`);
    return lines.join('\n') + '\n';
  }
  const out: string[] = [];
  for (const f of r.findings) {
    out.push(`${s.bad('✗')} ${f.subject}: ${f.message}`, `    likely cause: ${f.cause}`, `    fix: ${f.fix}`);
  }
  out.push(r.ok ? s.add(`✔ the node holds the desired state${r.runtimeChecked ? ' (files, manifests and running processes)' : ' (files and manifests; processes not checked)'}`) : s.bad(`${r.findings.length} finding(s): drift from the desired state`));
  return out.join('\n') + '\n';
}
