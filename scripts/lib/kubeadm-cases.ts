// The cases kubeadm itself generated (test/fixtures/kubeadm/<release>/<case>/, written by
// `npm run fixtures:kubeadm`), and sandbox roots laid out from them: buildSandbox() derives the files the
// manifests reference, then every path of kubeadm's listing (files.txt) gets exactly the owner and mode
// kubeadm gave it, with the accounts kubeadm added (accounts.txt, the RootlessControlPlane gate) in the
// root's passwd/group. So a gate-made node has the gate's accounts, IDs and ownership as kubeadm left them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GROUP, PASSWD } from './accounts.js';
import { REPO_ROOT } from './paths.js';
import { KUBECONFIG_USERS } from './pki.js';
import { buildSandbox, type Sandbox } from './sandbox.js';

const KUBEADM_FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'kubeadm');

export interface Listed {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  user: string;
  group: string;
  path: string;
}

export interface KubeadmCase {
  /** "v1.37.2/default". */
  id: string;
  release: string;
  name: string;
  dir: string;
  config: string;
  /** File name → text, as kubeadm wrote them. */
  manifests: Record<string, string>;
  listing: Listed[];
  /** passwd and group lines kubeadm added (without the "passwd "/"group " prefix). */
  passwdAdded: string[];
  groupAdded: string[];
  /** patches/: the patch files `kubeadm-nonroot patches` wrote for this case after apply, fed to kubeadm. */
  patches: Record<string, string>;
  /** kubeadm-patched/: the manifests this release's kubeadm wrote with those patches (the oracle). */
  kubeadmPatched: Record<string, string>;
}

/**
 * A case directory's name (default, external-etcd, …): what the generator's temporaries beside the cases
 * (`<case>.tmp-<pid>`, `<case>.old-<pid>`, left by a killed run) are not.
 */
export const CASE_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Every committed case under `top` (default test/fixtures/kubeadm), releases newest first, cases by name. */
export function listKubeadmCases(top = KUBEADM_FIXTURES): KubeadmCase[] {
  if (!existsSync(top)) return [];
  const semverDesc = (a: string, b: string) => b.localeCompare(a, 'en', { numeric: true });
  const out: KubeadmCase[] = [];
  for (const release of readdirSync(top).filter((r) => /^v\d+\.\d+\.\d+$/.test(r)).sort(semverDesc)) {
    const relDir = path.join(top, release);
    const names = readdirSync(relDir).filter((n) => CASE_NAME.test(n) && statSync(path.join(relDir, n)).isDirectory());
    for (const name of names.sort()) out.push(readKubeadmCase(release, name, top));
  }
  return out;
}

export function readKubeadmCase(release: string, name: string, top = KUBEADM_FIXTURES): KubeadmCase {
  const dir = path.join(top, release, name);
  return kubeadmCaseOf(release, name, dir, readCaseDir(dir));
}

/** A case directory as relative path → text (files at the top and one level of subdirectories). */
export function readCaseDir(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isFile()) files[e.name] = readFileSync(path.join(dir, e.name), 'utf8');
    else if (e.isDirectory()) for (const f of readdirSync(path.join(dir, e.name)).sort()) files[`${e.name}/${f}`] = readFileSync(path.join(dir, e.name, f), 'utf8');
  }
  return files;
}

/** The files of `sub/` in a case's files, name → text. */
const filesUnder = (files: Record<string, string>, sub: string): Record<string, string> =>
  Object.fromEntries(Object.entries(files).filter(([f]) => f.startsWith(`${sub}/`)).map(([f, t]) => [f.slice(sub.length + 1), t]));

/** A case from its files (relative path → text, as readCaseDir gives them or the generator makes them). */
export function kubeadmCaseOf(release: string, name: string, dir: string, files: Record<string, string>): KubeadmCase {
  const need = (f: string): string => {
    const t = files[f];
    if (t === undefined) throw new Error(`${dir}: ${f} is missing: regenerate with npm run fixtures:kubeadm`);
    return t;
  };
  const listing = need('files.txt').split('\n').filter(Boolean).map((l): Listed => {
    const m = /^(\S+)\s+(\d{4}) ([^:\s]+):(\S+) (\/\S*)/.exec(l);
    if (!m) throw new Error(`${dir}/files.txt: cannot read line "${l}"`);
    return { type: m[1] as Listed['type'], mode: parseInt(m[2]!, 8), user: m[3]!, group: m[4]!, path: m[5]! };
  });
  const accounts = (files['accounts.txt'] ?? '').split('\n').filter(Boolean);
  return {
    id: `${release}/${name}`,
    release,
    name,
    dir,
    config: need('kubeadm.yaml'),
    manifests: filesUnder(files, 'manifests'),
    listing,
    passwdAdded: accounts.filter((l) => l.startsWith('passwd ')).map((l) => l.slice(7)),
    groupAdded: accounts.filter((l) => l.startsWith('group ')).map((l) => l.slice(6)),
    patches: filesUnder(files, 'patches'),
    kubeadmPatched: filesUnder(files, 'kubeadm-patched'),
  };
}

const IS_ROOT = process.getuid?.() === 0;

function idTable(text: string): Map<string, number> {
  return new Map(text.split('\n').filter(Boolean).map((l) => l.split(':')).map((f) => [f[0]!, Number(f[2])] as const));
}

async function chownBelow(dir: string, uid: number, gid: number, listed: Set<string>, root: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (listed.has(p.slice(root.length))) continue;
    await chown(p, uid, gid);
    if (e.isDirectory()) await chownBelow(p, uid, gid, listed, root);
  }
}

/** A sandbox node root as kubeadm left it for this case (see the header). */
export async function buildKubeadmCaseSandbox(c: KubeadmCase): Promise<Sandbox> {
  const passwd = PASSWD + c.passwdAdded.map((l) => `${l}\n`).join('');
  const group = GROUP + c.groupAdded.map((l) => `${l}\n`).join('');
  const sb = await buildSandbox({ manifests: c.manifests, passwd, group });
  try {
    const uids = idTable(passwd);
    const gids = idTable(group);
    const listed = new Set(c.listing.map((e) => e.path));
    // Kubeconfigs this release's kubeadm does not write (super-admin.conf before v1.29) are not on its node.
    for (const name of Object.keys(KUBECONFIG_USERS)) if (!listed.has(`/etc/kubernetes/${name}`)) await rm(sb.path(`/etc/kubernetes/${name}`), { force: true });
    for (const e of c.listing) {
      const p = sb.path(e.path);
      let exists = true;
      try {
        await lstat(p);
      } catch {
        exists = false;
      }
      if (!exists) {
        if (e.type === 'dir') await mkdir(p, { recursive: true });
        else await writeFile(p, `# ${e.path}: written by kubeadm (sandbox placeholder)\n`);
      }
      const uid = uids.get(e.user);
      const gid = gids.get(e.group);
      if (uid === undefined || gid === undefined) throw new Error(`${c.id}: ${e.path} is owned by ${e.user}:${e.group}, unknown in the case's accounts`);
      if (IS_ROOT) await chown(p, uid, gid);
      await chmod(p, e.mode);
      // What the sandbox put below a directory kubeadm handed to a component (the gate's etcd data dir)
      // is what that component wrote there: owned by it.
      if (e.type === 'dir' && uid !== 0 && IS_ROOT) await chownBelow(p, uid, gid, listed, sb.root);
    }
  } catch (err) {
    await sb.cleanup();
    throw err;
  }
  return sb;
}
