// STUB, replaced at merge by the CIS 1.1 measurement written in parallel (same exports, same signatures):
// measures nothing, so the real-node flow can already call it where the measurement belongs.
export type CisMode = 'stock kubeadm' | 'non-root' | 'userns with-accounts' | 'userns only';
export interface CisCheck { id: string; pass: boolean; detail: string }

export function measureCis11(_opts: { pathOf: (nodePath: string) => string; etcdDataDir: string }): CisCheck[] {
  return [];
}

export function cisSummaryLine(mode: CisMode, checks: CisCheck[]): string {
  const pass = checks.filter((c) => c.pass).length;
  return `CIS 1.1 ${mode}: ${pass} pass, ${checks.length - pass} fail`;
}

export function checkCisTable(_results: { mode: CisMode; checks: CisCheck[] }[]): void {}
