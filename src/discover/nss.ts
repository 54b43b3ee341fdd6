// IDs known to NSS on the live node: files plus LDAP/SSSD/nss-altfiles, whatever nsswitch.conf says.
// /etc/passwd alone misses accounts that live elsewhere (e.g. Fedora CoreOS keeps `etcd` in
// /usr/lib/passwd via nss-altfiles, k0s#1480), and picking an ID already used there would hand files to
// a stranger. Only meaningful when --root is "/": getent always asks the running system.
import type { NssIds } from '../model/node.js';
import { errorMessage } from '../errors.js';
import { runProgram } from '../exec.js';
import { parseGroup, parsePasswd } from './accounts.js';

/** NssIds plus why they are empty when getent could not be run; the caller decides whether to warn. */
interface NssResult extends NssIds {
  error?: string;
}

/**
 * `getent passwd` and `getent group`, parsed with the tolerant file parsers (getent prints the same
 * line format). Never throws and never logs: when getent is missing or fails, the lists are empty and
 * `error` says why. Note that NSS backends configured without enumeration (sssd `enumerate = false`)
 * list only local accounts; nothing better is possible without knowing the names to ask for.
 */
export async function readNss(getent = 'getent'): Promise<NssResult> {
  try {
    const [passwd, group] = await Promise.all([getentList(getent, 'passwd'), getentList(getent, 'group')]);
    return {
      users: parsePasswd(passwd, 'getent passwd').map(({ name, uid }) => ({ name, uid })),
      groups: parseGroup(group, 'getent group').map(({ name, gid }) => ({ name, gid })),
    };
  } catch (e) {
    return { users: [], groups: [], error: `could not list NSS accounts with ${getent}: ${errorMessage(e)}` };
  }
}

/** The output of `getent <database>`; rejects when getent cannot run or fails. */
async function getentList(getent: string, database: 'passwd' | 'group'): Promise<string> {
  const r = await runProgram(getent, [database]);
  if (r.exitCode !== 0) throw new Error(`${getent} ${database} exited ${r.exitCode ?? r.signal}${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`);
  return r.stdout.toString('utf8');
}
