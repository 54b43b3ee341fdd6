// Accounts are created and removed with the system's shadow-utils, not by editing /etc/passwd by hand
// as kubeadm did (cmd/kubeadm/app/util/users/users_linux.go: no shadow entries, no lckpwdf interoperation, non-atomic
// writes). shadow-utils takes /etc/.pwd.lock, writes shadow/gshadow entries with a locked password and
// publishes atomically. With --root DIR they run with --prefix DIR, which reads and writes DIR/etc/*.
import { resolve } from 'node:path';
import { runProgram } from '../exec.js';

export interface AccountTools {
  run(cmd: string, args: string[]): Promise<void>;
}

export function shadowUtils(root: string): AccountTools {
  const prefix = resolve(root) === '/' ? [] : ['--prefix', resolve(root)];
  return {
    async run(cmd, args) {
      const r = await runProgram(cmd, [...prefix, ...args]);
      if (r.exitCode !== 0) {
        throw new Error(`${cmd} ${[...prefix, ...args].join(' ')} failed (exit ${r.exitCode ?? r.signal}): ${(r.stderr || r.stdout.toString('utf8')).trim().split('\n')[0]}`);
      }
    },
  };
}

export const groupadd = (t: AccountTools, name: string, gid: number) => t.run('groupadd', ['--system', '--gid', String(gid), name]);

export const useradd = (t: AccountTools, a: { name: string; uid: number; gid: number; supplementaryGroups: string[]; shell: string; home: string; comment: string }) =>
  t.run('useradd', [
    '--system',
    '--no-create-home',
    '--no-user-group',
    '--uid', String(a.uid),
    '--gid', String(a.gid),
    ...(a.supplementaryGroups.length ? ['--groups', a.supplementaryGroups.join(',')] : []),
    '--home-dir', a.home,
    '--shell', a.shell,
    '--comment', a.comment,
    a.name,
  ]);

/** usermod -a -G appends a supplementary group without touching the others. */
export const addToGroup = (t: AccountTools, user: string, group: string) => t.run('usermod', ['--append', '--groups', group, user]);

/** usermod -r -G (shadow-utils >= 4.9) removes just that supplementary group; gpasswd has no --prefix. */
export const removeFromGroup = (t: AccountTools, user: string, group: string) => t.run('usermod', ['--remove', '--groups', group, user]);

export const userdel = (t: AccountTools, name: string) => t.run('userdel', [name]);

export const groupdel = (t: AccountTools, name: string) => t.run('groupdel', [name]);
