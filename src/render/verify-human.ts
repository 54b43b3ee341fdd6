import type { VerifyReport } from '../verify/types.js';
import type { Style } from './style.js';

export function renderVerifyHuman(r: VerifyReport, s: Style): string {
  const out: string[] = [];
  for (const f of r.findings) {
    out.push(`${s.bad('✗')} ${f.subject}: ${f.message}`, `    likely cause: ${f.cause}`, `    fix: ${f.fix}`);
  }
  out.push(r.ok ? s.add(`✔ the node holds the desired state${r.runtimeChecked ? ' (files, manifests and running processes)' : ' (files and manifests; processes not checked)'}`) : s.bad(`${r.findings.length} finding(s): drift from the desired state`));
  return out.join('\n') + '\n';
}
