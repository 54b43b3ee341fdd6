// Extended attributes of the files the tool rewrites (account files and their "-" copies, manifests):
// a rewrite publishes a new inode (src/fs/atomic.ts), which would start with none — an SELinux label
// shadow_t would become the directory's default etc_t, a POSIX ACL or a user.* attribute would be lost.
// So every attribute of the file being replaced is copied onto the temp file before the rename.
//
// Node has no xattr API. attr's getfattr/setfattr do it with nothing else to install on a node where
// SELinux labels matter (RHEL and its rebuilds ship attr in their minimal install): getfattr --dump
// --match=- reads every namespace (security.*, system.posix_acl_*, trusted.*, user.*), base64-encoded
// so any byte survives, and setfattr takes each value back as written ("0s…"). python3's os.getxattr
// would need no parsing, but python3 is absent from many minimal and container-optimised nodes.
// -h everywhere: a link is never followed.
import { runProgram } from '../exec.js';

/** One attribute as getfattr --encoding=base64 prints it: the value keeps its "0s" prefix. */
export interface Xattr {
  name: string;
  value: string;
}

/** The name=value lines of a getfattr --dump (comments and blank lines are not attributes). */
function parseXattrDump(text: string): Xattr[] {
  return text.split('\n').flatMap((line) => {
    if (!line || line.startsWith('#')) return [];
    const eq = line.indexOf('=');
    return [eq < 0 ? { name: line, value: '""' } : { name: line.slice(0, eq), value: line.slice(eq + 1) }];
  });
}

export async function readXattrs(hostPath: string): Promise<Xattr[]> {
  const r = await runProgram('getfattr', ['--no-dereference', '--absolute-names', '--dump', '--match=-', '--encoding=base64', '--', hostPath]);
  if (r.exitCode !== 0) throw new Error(`getfattr ${hostPath} failed (exit ${r.exitCode ?? r.signal}): ${r.stderr.trim().split('\n')[0]}`);
  return parseXattrDump(r.stdout.toString('utf8'));
}

/**
 * Set `xattrs` on `to`. security.selinux is best effort: a kernel without SELinux (or a filesystem
 * mounted with a fixed context=) may refuse to set it, and the label is then the policy's to give
 * (restorecon); any other attribute that cannot be set is an error, raised before the rename.
 */
export async function setXattrs(to: string, xattrs: readonly Xattr[]): Promise<void> {
  for (const x of xattrs) {
    const r = await runProgram('setfattr', ['--no-dereference', '--name', x.name, '--value', x.value, '--', to]);
    if (r.exitCode === 0 || x.name === 'security.selinux') continue;
    throw new Error(`cannot set the extended attribute ${x.name} on ${to}: setfattr failed (exit ${r.exitCode ?? r.signal}): ${r.stderr.trim().split('\n')[0]}`);
  }
}

/** Copy every extended attribute of `from` onto `to` (see setXattrs for security.selinux). */
export async function copyXattrs(from: string, to: string): Promise<void> {
  await setXattrs(to, await readXattrs(from));
}

/** The same attributes with the same values, in any order. */
export function sameXattrs(a: readonly Xattr[], b: readonly Xattr[]): boolean {
  const key = (xs: readonly Xattr[]) => xs.map((x) => `${x.name}=${x.value}`).sort().join('\n');
  return key(a) === key(b);
}

/** Exit 2 before any change when the programs are missing: a rewrite without them would drop labels and ACLs. */
export async function xattrToolsMissing(): Promise<string | null> {
  for (const cmd of ['getfattr', 'setfattr']) {
    const r = await runProgram(cmd, ['--version']).catch(() => null);
    if (!r || r.exitCode !== 0) return `${cmd} is not installed: it keeps the extended attributes (SELinux label, ACLs) of the files the tool rewrites; install the "attr" package`;
  }
  return null;
}
