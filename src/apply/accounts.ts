// Accounts are created and removed with the system's shadow-utils, not by editing /etc/passwd by hand
// as kubeadm did (cmd/kubeadm/app/util/users/users_linux.go: no shadow entries, no lckpwdf interoperation, non-atomic
// writes). shadow-utils takes /etc/.pwd.lock, writes shadow/gshadow entries with a locked password and
// publishes atomically.
//
// Only options shadow-utils 4.6 (RHEL 8; Ubuntu 22.04 has 4.8.1) already has, each with the release that
// added it (shadow-maint/shadow NEWS and release tags):
//   useradd  --system, --no-user-group (4.1.1), --no-create-home (4.1.3), --uid --gid --groups
//            --home-dir --shell --comment (4.0 and before)
//   groupadd --system (4.1.1), --gid (4.0 and before)
//   usermod  --append (4.0.11) with --groups
//   gpasswd  --delete (4.1.3), --root (4.1.5)
//   useradd, groupadd, usermod, userdel, groupdel: --prefix (4.6, "add --prefix option")
// `usermod --remove` (4.9) is NOT used: `gpasswd --delete USER GROUP` removes one supplementary group.
// With --root DIR the tools run with --prefix DIR, which reads and writes DIR/etc/*; gpasswd has no
// --prefix, only --root DIR, which chroots into DIR (it then reads DIR/etc/group and DIR/etc/gshadow).
import { resolve } from 'node:path';
import { runProgram } from '../exec.js';

export interface AccountTools {
  run(cmd: string, args: string[]): Promise<void>;
}

/** The option that points a shadow-utils program at another root: gpasswd only chroots (--root). */
export function rootOption(cmd: string, root: string): string[] {
  if (resolve(root) === '/') return [];
  return [cmd === 'gpasswd' ? '--root' : '--prefix', resolve(root)];
}

export function shadowUtils(root: string): AccountTools {
  return {
    async run(cmd, args) {
      const argv = [...rootOption(cmd, root), ...args];
      const r = await runProgram(cmd, argv);
      if (r.exitCode !== 0) {
        throw new Error(`${cmd} ${argv.join(' ')} failed (exit ${r.exitCode ?? r.signal}): ${(r.stderr || r.stdout.toString('utf8')).trim().split('\n')[0]}`);
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

/** gpasswd -d removes just that supplementary group (usermod -r -G would need shadow-utils >= 4.9). */
export const removeFromGroup = (t: AccountTools, user: string, group: string) => t.run('gpasswd', ['--delete', user, group]);

export const userdel = (t: AccountTools, name: string) => t.run('userdel', [name]);

export const groupdel = (t: AccountTools, name: string) => t.run('groupdel', [name]);
