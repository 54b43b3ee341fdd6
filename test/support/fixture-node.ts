// A NodeState built purely from a fixture case, for planning tests without a filesystem: every file
// the manifests reference exists with kubeadm's defaults (root; private keys, sa.pub and kubeconfigs
// 0600; certificates and other public files 0644; directories 0755; data/log dirs 0700 holding three
// root-owned entries). Accounts are the Debian base set from accounts.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGroup, parsePasswd } from '../../src/discover/accounts.js';
import { analyzeAccess } from '../../src/model/access.js';
import type { FileStat, ManifestFile, NodeState } from '../../src/model/node.js';
import { readManifest } from '../../src/model/manifest.js';
import { identifyComponent, parsePod } from '../../src/model/pod.js';
import { GROUP, PASSWD } from '../../scripts/lib/accounts.js';
import { DEFAULT_LOGIN_DEFS } from './node-state.js';
import { FIXTURES_DIR } from '../../scripts/lib/paths.js';

const file = (mode: number, uid = 0, gid = 0): FileStat => ({ type: 'file', uid, gid, mode, size: 100 });
const dir = (mode: number, uid = 0, gid = 0): FileStat => ({ type: 'dir', uid, gid, mode, size: 4096 });

export function fixtureNode(caseName: string, opts: { passwd?: string; group?: string; /** file name → text, instead of the case's files */ manifests?: Record<string, string> } = {}): NodeState {
  const caseDir = join(FIXTURES_DIR, caseName);
  const texts = opts.manifests ?? Object.fromEntries(readdirSync(caseDir).map((f) => [f, readFileSync(join(caseDir, f), 'utf8')]));
  const manifests = Object.keys(texts).sort().map((fileName) => {
    const path = `/etc/kubernetes/manifests/${fileName}`;
    return { fileName, path, text: texts[fileName]!, stat: file(0o600), parsed: readManifest(texts[fileName]!, path) };
  });
  const paths: Record<string, FileStat | null> = {};
  const trees: NodeState['trees'] = {};
  const addParents = (p: string) => {
    const parts = p.split('/').filter(Boolean);
    paths['/'] ??= dir(0o755);
    for (let i = 1; i < parts.length; i++) paths['/' + parts.slice(0, i).join('/')] ??= dir(0o755);
  };
  for (const m of manifests) {
    const pod = parsePod(m.text, m.path);
    const component = identifyComponent(m.fileName, pod);
    if (!component) continue;
    for (const a of analyzeAccess(pod, component).accesses) {
      addParents(a.hostPath);
      if (a.access === 'write') {
        paths[a.hostPath] = dir(0o700);
        trees[a.hostPath] = { entries: 3, owners: [{ uid: 0, gid: 0, count: 3 }] };
      } else if (a.target === 'dir') {
        paths[a.hostPath] ??= dir(0o755);
      } else {
        paths[a.hostPath] ??= file(a.secret || a.hostPath.endsWith('/sa.pub') ? 0o600 : 0o644);
      }
    }
  }
  return {
    root: `/fixtures/${caseName}`,
    manifestsDir: '/etc/kubernetes/manifests',
    loginDefs: DEFAULT_LOGIN_DEFS,
    passwd: parsePasswd(opts.passwd ?? PASSWD, '/etc/passwd'),
    group: parseGroup(opts.group ?? GROUP, '/etc/group'),
    nss: null,
    manifests,
    paths,
    trees,
    configs: {},
  };
}

/** Change a manifest's text in a hand-built NodeState, read again as discovery would read it. */
export function editManifest(m: ManifestFile, change: (text: string) => string): void {
  m.text = change(m.text);
  m.parsed = readManifest(m.text, m.path);
}

/**
 * The v1.32 stacked node with kube-apiserver's etcd client key moved to Kubespray's layout:
 * --etcd-keyfile=/etc/ssl/etcd/ssl/node-cp1-key.pem (root 0600), mounted from the host; the directory
 * /etc/ssl/etcd/ssl has `sslDirMode`.
 */
export function kubesprayKeyNode(sslDirMode: number): NodeState {
  const node = fixtureNode('v1.32-rhel-stacked');
  const kas = node.manifests.find((m) => m.fileName === 'kube-apiserver.yaml')!;
  editManifest(kas, (t) => t.replace('--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key', '--etcd-keyfile=/etc/ssl/etcd/ssl/node-cp1-key.pem')
    .replace('    volumeMounts:\n', '    volumeMounts:\n    - mountPath: /etc/ssl/etcd/ssl\n      name: etcd-certs-0\n      readOnly: true\n')
    .replace('  volumes:\n', '  volumes:\n  - hostPath:\n      path: /etc/ssl/etcd/ssl\n      type: DirectoryOrCreate\n    name: etcd-certs-0\n'));
  node.paths['/etc/ssl/etcd'] = dir(0o755);
  node.paths['/etc/ssl/etcd/ssl'] = dir(sslDirMode);
  node.paths['/etc/ssl/etcd/ssl/node-cp1-key.pem'] = file(0o600);
  return node;
}
