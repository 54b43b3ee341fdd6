// CIS Kubernetes Benchmark section 1.1 ("Control Plane Node Configuration Files"), items 1.1.1–1.1.21,
// measured as the benchmark states them in kube-bench's cfg/cis-1.12/master.yaml (aquasecurity/kube-bench;
// its check semantics in check/test.go and check/check.go). This is test support, not the tool: the
// oracle for what the tool did to a node must not be the tool's own reading.
//
// What is measured, as kube-bench does it:
// - The files: kube-bench's kubeadm defaults (cfg/config.yaml: the first `confs`/`kubeconfig` entries)
//   for the four manifests, scheduler.conf and controller-manager.conf; admin.conf and super-admin.conf
//   (1.1.13/1.1.14 stat both); everything under the PKI directory, the directory itself included
//   (`find /etc/kubernetes/pki/`), `-name '*.crt'` and `-name '*.key'` for 1.1.20/1.1.21; the etcd data
//   directory the caller names (kube-bench takes etcd's `--data-dir` from `ps`).
// - Permissions: the real `stat -c %a`, tested as a bitmask (`(allowed & mode) == mode`): no bit beyond
//   the allowed mode, so 0640 fails a 600 check and 0400 passes it.
// - Ownership: `stat -c %U:%G` compared with the benchmark's string (`root:root`, `etcd:etcd` for
//   1.1.12). kube-bench tests most of these as "the output contains the string" and 1.1.14 as equality;
//   equality is what the benchmark says ("ownership is set to root:root") and differs only for names such
//   as `kube-etcd:etcd`. `stat -c %U:%G` on the host would name the IDs with the HOST's accounts, so
//   the IDs (`%u:%g`) are named here from the node's own /etc/passwd and /etc/group, first entry first as
//   NSS's files source does; an ID with no entry is `UNKNOWN`, as stat prints it.
// - Nothing found: kube-bench's test on an empty audit output finds no value and fails (check/test.go);
//   a failed scored (Automated) check is FAIL, a failed Manual one WARN. So here an item whose audit
//   finds no file, or a file that does not exist (stat's error line carries no value), does not pass.
// - CNI files (1.1.9/1.1.10): kube-bench's first audit line reads the kubelet's `--cni-conf-dir`, a flag
//   kubelets no longer have since v1.24 (removed with dockershim), so on every node this runs on it finds
//   nothing; its second line, the regular files under /var/lib/cni/networks (host-local IPAM's leases),
//   is what is measured. A node without a CNI plugin has none: both items do not pass ("no file found").
// Paths are node paths; `pathOf` maps one to where this process reaches it (a sandbox root, or the real
// node's `kn.node.path`), so the same code measures both.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../scripts/lib/paths.js';
import { group, passwd } from './node-state.js';

export type CisMode = 'stock kubeadm' | 'non-root' | 'userns with-accounts' | 'userns only';

export interface CisCheck {
  id: string;
  title: string;
  audit: string;
  expected: string;
  observed: string;
  pass: boolean;
}

/** The table's columns, in this order. */
export const CIS_MODES: readonly CisMode[] = ['stock kubeadm', 'non-root', 'userns with-accounts', 'userns only'];

type Rule = { kind: 'permissions'; allowed: string } | { kind: 'ownership'; owner: string };

/** Where an item's audit looks: named files, or what `find DIR/ [-type f] [-name GLOB]` lists. */
type Where = { files: string[] } | { find: string; slash?: boolean; typeFile?: boolean; name?: string };

interface Item {
  id: string;
  title: string;
  /** Automated (scored) or Manual: kube-bench reports a failed Manual item as WARN. */
  scored: boolean;
  rule: Rule;
  where: (etcdDataDir: string) => Where;
}

interface Measured {
  /** How the target is named in `observed` when several are audited. */
  label: string;
  /** `stat`'s value (`600`, `root:root`), or `missing`. */
  value: string;
  pass: boolean;
}

const MANIFESTS = '/etc/kubernetes/manifests';
const PKI = '/etc/kubernetes/pki';
const CNI_NETWORKS = '/var/lib/cni/networks';
const ADMIN_CONFS = ['/etc/kubernetes/admin.conf', '/etc/kubernetes/super-admin.conf'];

const perms = (allowed: string): Rule => ({ kind: 'permissions', allowed });
const owner = (o: string): Rule => ({ kind: 'ownership', owner: o });
const file = (p: string) => () => ({ files: [p] });

/** The benchmark's items 1.1.1–1.1.21, titles verbatim. */
const ITEMS: readonly Item[] = [
  { id: '1.1.1', title: 'Ensure that the API server pod specification file permissions are set to 600 or more restrictive (Automated)', scored: true, rule: perms('600'), where: file(`${MANIFESTS}/kube-apiserver.yaml`) },
  { id: '1.1.2', title: 'Ensure that the API server pod specification file ownership is set to root:root (Automated)', scored: true, rule: owner('root:root'), where: file(`${MANIFESTS}/kube-apiserver.yaml`) },
  { id: '1.1.3', title: 'Ensure that the controller manager pod specification file permissions are set to 600 or more restrictive (Automated)', scored: true, rule: perms('600'), where: file(`${MANIFESTS}/kube-controller-manager.yaml`) },
  { id: '1.1.4', title: 'Ensure that the controller manager pod specification file ownership is set to root:root (Automated)', scored: true, rule: owner('root:root'), where: file(`${MANIFESTS}/kube-controller-manager.yaml`) },
  { id: '1.1.5', title: 'Ensure that the scheduler pod specification file permissions are set to 600 or more restrictive (Automated)', scored: true, rule: perms('600'), where: file(`${MANIFESTS}/kube-scheduler.yaml`) },
  { id: '1.1.6', title: 'Ensure that the scheduler pod specification file ownership is set to root:root (Automated)', scored: true, rule: owner('root:root'), where: file(`${MANIFESTS}/kube-scheduler.yaml`) },
  { id: '1.1.7', title: 'Ensure that the etcd pod specification file permissions are set to 600 or more restrictive (Automated)', scored: true, rule: perms('600'), where: file(`${MANIFESTS}/etcd.yaml`) },
  { id: '1.1.8', title: 'Ensure that the etcd pod specification file ownership is set to root:root (Automated)', scored: true, rule: owner('root:root'), where: file(`${MANIFESTS}/etcd.yaml`) },
  { id: '1.1.9', title: 'Ensure that the Container Network Interface file permissions are set to 600 or more restrictive (Manual)', scored: false, rule: perms('600'), where: () => ({ find: CNI_NETWORKS, typeFile: true }) },
  { id: '1.1.10', title: 'Ensure that the Container Network Interface file ownership is set to root:root (Manual)', scored: false, rule: owner('root:root'), where: () => ({ find: CNI_NETWORKS, typeFile: true }) },
  { id: '1.1.11', title: 'Ensure that the etcd data directory permissions are set to 700 or more restrictive (Automated)', scored: true, rule: perms('700'), where: (d) => ({ files: [d] }) },
  { id: '1.1.12', title: 'Ensure that the etcd data directory ownership is set to etcd:etcd (Automated)', scored: true, rule: owner('etcd:etcd'), where: (d) => ({ files: [d] }) },
  { id: '1.1.13', title: 'Ensure that the default administrative credential file permissions are set to 600 (Automated)', scored: true, rule: perms('600'), where: () => ({ files: ADMIN_CONFS }) },
  { id: '1.1.14', title: 'Ensure that the default administrative credential file ownership is set to root:root (Automated)', scored: true, rule: owner('root:root'), where: () => ({ files: ADMIN_CONFS }) },
  { id: '1.1.15', title: 'Ensure that the scheduler.conf file permissions are set to 600 or more restrictive (Automated)', scored: true, rule: perms('600'), where: file('/etc/kubernetes/scheduler.conf') },
  { id: '1.1.16', title: 'Ensure that the scheduler.conf file ownership is set to root:root (Automated)', scored: true, rule: owner('root:root'), where: file('/etc/kubernetes/scheduler.conf') },
  { id: '1.1.17', title: 'Ensure that the controller-manager.conf file permissions are set to 600 or more restrictive (Automated)', scored: true, rule: perms('600'), where: file('/etc/kubernetes/controller-manager.conf') },
  { id: '1.1.18', title: 'Ensure that the controller-manager.conf file ownership is set to root:root (Automated)', scored: true, rule: owner('root:root'), where: file('/etc/kubernetes/controller-manager.conf') },
  { id: '1.1.19', title: 'Ensure that the Kubernetes PKI directory and file ownership is set to root:root (Automated)', scored: true, rule: owner('root:root'), where: () => ({ find: PKI, slash: true }) },
  { id: '1.1.20', title: 'Ensure that the Kubernetes PKI certificate file permissions are set to 644 or more restrictive (Manual)', scored: false, rule: perms('644'), where: () => ({ find: PKI, slash: true, name: '*.crt' }) },
  { id: '1.1.21', title: 'Ensure that the Kubernetes PKI key file permissions are set to 600 (Manual)', scored: false, rule: perms('600'), where: () => ({ find: PKI, slash: true, name: '*.key' }) },
];

const expectedOf = (rule: Rule): string => (rule.kind === 'permissions' ? `${rule.allowed} or stricter` : rule.owner);

/** The audit command as kube-bench runs it, with kubeadm's paths in place of its variables. */
function auditOf(rule: Rule, where: Where): string {
  const stat = rule.kind === 'permissions' ? 'stat -c permissions=%a' : 'stat -c %U:%G';
  if ('files' in where) return `${stat} ${where.files.join(' ')}`;
  const filters = `${where.typeFile ? ' -type f' : ''}${where.name ? ` -name '${where.name}'` : ''}`;
  return `find ${where.find}${where.slash ? '/' : ''}${filters} | xargs ${stat}`;
}

/** Node paths the audit finds: the named files, or the real `find`'s listing under pathOf(dir), sorted (the table must not depend on directory order). */
function targetsOf(where: Where, pathOf: (nodePath: string) => string): Array<{ nodePath: string; label: string }> {
  if ('files' in where) return where.files.map((p) => ({ nodePath: p, label: path.posix.basename(p) }));
  const hostDir = pathOf(where.find);
  if (!existsSync(hostDir)) return [];
  const args = [`${hostDir}/`, ...(where.typeFile ? ['-type', 'f'] : []), ...(where.name ? ['-name', where.name] : [])];
  const listed = execFileSync('find', [...args, '-print0'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  const parent = path.posix.dirname(where.find);
  return listed.map((hostPath) => path.posix.join(where.find, path.posix.relative(hostDir, hostPath))).sort().map((nodePath) => ({ nodePath, label: path.posix.relative(parent, nodePath) }));
}

/** Node account names by ID, from the node's own files (see the header). */
function nodeNames(pathOf: (nodePath: string) => string): { user: (uid: number) => string; group: (gid: number) => string } {
  const users = passwd(readFileSync(pathOf('/etc/passwd'), 'utf8'));
  const groups = group(readFileSync(pathOf('/etc/group'), 'utf8'));
  return {
    user: (uid) => users.find((u) => u.uid === uid)?.name ?? 'UNKNOWN',
    group: (gid) => groups.find((g) => g.gid === gid)?.name ?? 'UNKNOWN',
  };
}

/** `stat -c '%a %u %g'` of one host path (the link itself, as stat without -L), or null when it does not exist. */
function statOf(hostPath: string): { mode: string; uid: number; gid: number } | null {
  const r = spawnSync('stat', ['-c', '%a %u %g', '--', hostPath], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const [mode, uid, gid] = r.stdout.trim().split(' ');
  return { mode: mode!, uid: Number(uid), gid: Number(gid) };
}

/** kube-bench's bitmask test: no permission bit beyond the allowed mode. */
const withinMask = (mode: string, allowed: string): boolean => (parseInt(allowed, 8) & parseInt(mode, 8)) === parseInt(mode, 8);

function measureTarget(rule: Rule, hostPath: string, label: string, names: ReturnType<typeof nodeNames>): Measured {
  const st = statOf(hostPath);
  if (!st) return { label, value: 'missing', pass: false };
  if (rule.kind === 'permissions') return { label, value: st.mode, pass: withinMask(st.mode, rule.allowed) };
  const value = `${names.user(st.uid)}:${names.group(st.gid)}`;
  return { label, value, pass: value === rule.owner };
}

/** One value when one target was audited; otherwise the failing ones by name, or the distinct values when all pass. */
function observedOf(measured: readonly Measured[], item: Item): string {
  if (measured.length === 0) return item.scored ? 'no file found' : 'no file found (kube-bench: WARN)';
  if (measured.length === 1) return measured[0]!.value;
  const failing = measured.filter((m) => !m.pass);
  if (failing.length > 0) return failing.map((m) => `${m.label} ${m.value}`).join(', ');
  return [...new Set(measured.map((m) => m.value))].sort().join(', ');
}

/** CIS 1.1.1–1.1.21 on the node that `pathOf` reaches; `etcdDataDir` is etcd's `--data-dir` (a node path). */
export function measureCis11(opts: { pathOf: (nodePath: string) => string; etcdDataDir: string }): CisCheck[] {
  const names = nodeNames(opts.pathOf);
  return ITEMS.map((item) => {
    const where = item.where(opts.etcdDataDir);
    const measured = targetsOf(where, opts.pathOf).map((t) => measureTarget(item.rule, opts.pathOf(t.nodePath), t.label, names));
    return {
      id: item.id,
      title: item.title,
      audit: auditOf(item.rule, where),
      expected: expectedOf(item.rule),
      observed: observedOf(measured, item),
      pass: measured.length > 0 && measured.every((m) => m.pass),
    };
  });
}

/** `CIS 1.1 <mode>: P pass, F fail`. */
export function cisSummaryLine(mode: CisMode, checks: readonly CisCheck[]): string {
  const passed = checks.filter((c) => c.pass).length;
  return `CIS 1.1 ${mode}: ${passed} pass, ${checks.length - passed} fail`;
}

type CisResults = readonly { mode: CisMode; checks: readonly CisCheck[] }[];

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The Markdown table: one row per item, one column per mode (`not measured yet` where no result is given). */
export function renderCisTable(results: CisResults): string {
  const byMode = new Map<CisMode, readonly CisCheck[]>();
  for (const r of results) {
    if (byMode.has(r.mode)) throw new Error(`renderCisTable: mode "${r.mode}" given twice`);
    byMode.set(r.mode, r.checks);
  }
  const outcome = (mode: CisMode, id: string): string => {
    const checks = byMode.get(mode);
    if (!checks) return 'not measured yet';
    const c = checks.find((x) => x.id === id);
    if (!c) throw new Error(`renderCisTable: the "${mode}" results have no item ${id}`);
    return c.pass ? 'pass' : `fail: ${c.observed}`;
  };
  const total = (mode: CisMode): string => {
    const checks = byMode.get(mode);
    return checks ? cisSummaryLine(mode, checks).replace(/^.*: /, '') : 'not measured yet';
  };
  const lines = [
    `| item | benchmark | expected | ${CIS_MODES.join(' | ')} |`,
    `|---|---|---|${CIS_MODES.map(() => '---').join('|')}|`,
    ...ITEMS.map((i) => `| ${i.id} | ${cell(i.title)} | ${cell(expectedOf(i.rule))} | ${CIS_MODES.map((m) => cell(outcome(m, i.id))).join(' | ')} |`),
    `| **total** | | | ${CIS_MODES.map(total).join(' | ')} |`,
  ];
  return `${lines.join('\n')}\n`;
}

export const CIS_DOC = path.join(REPO_ROOT, 'docs', 'ownership.md');
const BEGIN = '<!-- cis-1.1: generated by test/node/flow.test.ts; KUBEADM_NONROOT_WRITE_DOCS=1 npm run test:node rewrites it -->';
const END = '<!-- /cis-1.1 -->';

/** The table between the markers of `doc` (the markers' lines excluded). */
export function cisTableIn(doc: string): string {
  const begin = doc.indexOf(`${BEGIN}\n`);
  const end = doc.indexOf(`${END}\n`, begin);
  if (begin < 0 || end < 0) throw new Error(`docs/ownership.md: the CIS 1.1 table's markers are missing: put the lines "${BEGIN}" and "${END}" around it`);
  return doc.slice(begin + BEGIN.length + 1, end);
}

/** `doc` with the text between the markers replaced by `table`. */
export function withCisTable(doc: string, table: string): string {
  const old = cisTableIn(doc);
  const at = doc.indexOf(`${BEGIN}\n`) + BEGIN.length + 1;
  return doc.slice(0, at) + table + doc.slice(at + old.length);
}

/**
 * docs/ownership.md's CIS table must be renderCisTable(results): rewritten when KUBEADM_NONROOT_WRITE_DOCS=1,
 * else a mismatch throws with both tables.
 */
export function checkCisTable(results: CisResults): void {
  const doc = readFileSync(CIS_DOC, 'utf8');
  const measured = renderCisTable(results);
  const documented = cisTableIn(doc);
  if (documented === measured) return;
  if (process.env.KUBEADM_NONROOT_WRITE_DOCS === '1') {
    writeFileSync(CIS_DOC, withCisTable(doc, measured));
    return;
  }
  throw new Error(
    `docs/ownership.md's CIS 1.1 table is not what this run measured: rerun with KUBEADM_NONROOT_WRITE_DOCS=1 to rewrite it, and commit the change.\n` +
      `--- docs/ownership.md\n${documented}--- measured\n${measured}`,
  );
}
