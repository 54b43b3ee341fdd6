// Account databases of a small Debian 12 (bookworm) control-plane node, as base-passwd, adduser and the
// systemd/dbus/openssh postinst scripts leave them: system IDs 100-999 are partly taken (messagebus 100,
// sshd 101, groups up to 108, systemd-network 998, systemd-journal 999), one human user `alice` 1000.
// Real files carry no comments or blank lines; withOddLines() adds some for tests of tolerant parsers.
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
games:x:5:60:games:/usr/games:/usr/sbin/nologin
man:x:6:12:man:/var/cache/man:/usr/sbin/nologin
lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin
mail:x:8:8:mail:/var/mail:/usr/sbin/nologin
news:x:9:9:news:/var/spool/news:/usr/sbin/nologin
uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin
proxy:x:13:13:proxy:/bin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
backup:x:34:34:backup:/var/backups:/usr/sbin/nologin
list:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin
irc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin
messagebus:x:100:107::/nonexistent:/usr/sbin/nologin
sshd:x:101:65534::/run/sshd:/usr/sbin/nologin
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
`;

export const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:alice
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
news:x:9:
uucp:x:10:
man:x:12:
proxy:x:13:
kmem:x:15:
dialout:x:20:
fax:x:21:
voice:x:22:
cdrom:x:24:alice
floppy:x:25:alice
tape:x:26:
sudo:x:27:alice
audio:x:29:alice
dip:x:30:alice
www-data:x:33:
backup:x:34:
operator:x:37:
list:x:38:
irc:x:39:
src:x:40:
shadow:x:42:
utmp:x:43:
video:x:44:alice
sasl:x:45:
plugdev:x:46:alice
staff:x:50:
games:x:60:
users:x:100:alice
nogroup:x:65534:
systemd-journal:x:999:
systemd-network:x:998:
input:x:101:
sgx:x:102:
kvm:x:103:
render:x:104:
crontab:x:105:
netdev:x:106:alice
messagebus:x:107:
_ssh:x:108:
alice:x:1000:
`;

// Password hashes are made up (yescrypt format, as Debian 12's ENCRYPT_METHOD YESCRYPT writes them).
const ALICE_HASH = '$y$j9T$0tvQ2y8n0d2Zf1mYyL6zS.$k0n0tA4Re4lHaSh0nlyF0rTesTsXq7m9vB2cD3eF4g5';
const ROOT_HASH = '$y$j9T$Wq1sN3b5c7d9e1f3g5h7i.$r00tN0tAr3alHaSh0nlyF0rTesTsAb1Cd2Ef3Gh4Ij5';

const SHADOW = shadowFor(PASSWD);
const GSHADOW = gshadowFor(GROUP);

/** shadow(5) lines for every account of a passwd text: root and alice get a hash, system accounts "*". */
function shadowFor(passwd: string): string {
  return (
    entries(passwd)
      .map((fields) => {
        const hash = fields[0] === 'root' ? ROOT_HASH : fields[0] === 'alice' ? ALICE_HASH : '*';
        // 19800 days since the epoch = 2024-03-18, the install day; 0:99999:7 are Debian's defaults.
        return `${fields[0]}:${hash}:19800:0:99999:7:::`;
      })
      .join('\n') + '\n'
  );
}

/** gshadow(5) lines for every group of a group text: locked ("*" system, "!" user groups), same members. */
function gshadowFor(group: string): string {
  return (
    entries(group)
      .map((fields) => `${fields[0]}:${Number(fields[2]) >= 1000 && Number(fields[2]) < 65534 ? '!' : '*'}::${fields[3] ?? ''}`)
      .join('\n') + '\n'
  );
}

function entries(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('+') && !l.startsWith('-'))
    .map((l) => l.split(':'));
}

/**
 * An excerpt of Debian 12's /etc/login.defs (shadow 1:4.13). As shipped, the SYS_* lines are commented out,
 * so useradd/groupadd fall back to their built-in defaults SYS_UID/GID 100-999 (login.defs(5)).
 */
export const LOGIN_DEFS = `#
# /etc/login.defs - Configuration control definitions for the login package.
#
# Three items must be defined:  MAIL_DIR, ENV_SUPATH, and ENV_PATH.
# If unspecified, some arbitrary (and possibly incorrect) value will
# be assumed.  All other items are optional - if not specified then
# the described action or option will be inhibited.
#
# Comment lines (lines beginning with "#") and blank lines are ignored.
#
# Modified for Linux.  --marekm

MAIL_DIR        /var/mail
#MAIL_FILE      .mail

#
# Enable logging and display of /var/log/faillog login failure info.
#
FAILLOG_ENAB		yes

LOG_UNKFAIL_ENAB	no
LOG_OK_LOGINS		no
SYSLOG_SU_ENAB		yes
SYSLOG_SG_ENAB		yes

FTMP_FILE	/var/log/btmp
SU_NAME		su
HUSHLOGIN_FILE	.hushlogin

ENV_SUPATH	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENV_PATH	PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games

TTYGROUP	tty
TTYPERM		0600

ERASECHAR	0177
KILLCHAR	025
UMASK		022

#
# Password aging controls:
#
#	PASS_MAX_DAYS	Maximum number of days a password may be used.
#	PASS_MIN_DAYS	Minimum number of days allowed between password changes.
#	PASS_WARN_AGE	Number of days warning given before a password expires.
#
PASS_MAX_DAYS	99999
PASS_MIN_DAYS	0
PASS_WARN_AGE	7

#
# Min/max values for automatic uid selection in useradd(8)
#
UID_MIN			 1000
UID_MAX			60000
# System accounts
#SYS_UID_MIN		  100
#SYS_UID_MAX		  999
# Extra per user uids
SUB_UID_MIN		   100000
SUB_UID_MAX		600100000
SUB_UID_COUNT		    65536

#
# Min/max values for automatic gid selection in groupadd(8)
#
GID_MIN			 1000
GID_MAX			60000
# System accounts
#SYS_GID_MIN		  100
#SYS_GID_MAX		  999
# Extra per user group ids
SUB_GID_MIN		   100000
SUB_GID_MAX		600100000
SUB_GID_COUNT		    65536

LOGIN_RETRIES		5
LOGIN_TIMEOUT		60

CHFN_RESTRICT		rwh
DEFAULT_HOME	yes
USERGROUPS_ENAB yes

ENCRYPT_METHOD YESCRYPT
`;

/**
 * The same account file with lines real tools tolerate but a naive parser trips on: a comment, a blank
 * line, and a trailing NIS compat entry ("+::::::" in passwd, "+:::" in group, as nsswitch "compat" reads).
 */
export function withOddLines(text: string, kind: 'passwd' | 'group'): string {
  const lines = text.replace(/\n$/, '').split('\n');
  const middle = Math.floor(lines.length / 2);
  lines.splice(middle, 0, '# added by hand, see ticket OPS-1234', '');
  lines.push(kind === 'passwd' ? '+::::::' : '+:::');
  return lines.join('\n') + '\n';
}

export interface AccountFiles {
  passwd?: string;
  group?: string;
  /** Default: derived from `passwd` when that is overridden, else SHADOW. */
  shadow?: string;
  /** Default: derived from `group` when that is overridden, else GSHADOW. */
  gshadow?: string;
  loginDefs?: string;
}

const IS_ROOT = process.getuid?.() === 0;

/** The gid of group "shadow" in a group text, or null. */
function shadowGid(group: string): number | null {
  const line = entries(group).find((f) => f[0] === 'shadow');
  return line ? Number(line[2]) : null;
}

/**
 * Write etc/passwd, etc/group (0644), etc/shadow, etc/gshadow (0640 root:shadow as Debian ships them, or
 * 0600 root:root when the group text has no "shadow" group) and etc/login.defs (0644) under `root`.
 * Owner root when running as root; otherwise the running user owns them.
 */
export async function writeAccounts(root: string, overrides: AccountFiles = {}): Promise<void> {
  const passwd = overrides.passwd ?? PASSWD;
  const group = overrides.group ?? GROUP;
  const shadow = overrides.shadow ?? (overrides.passwd ? shadowFor(passwd) : SHADOW);
  const gshadow = overrides.gshadow ?? (overrides.group ? gshadowFor(group) : GSHADOW);
  const sgid = shadowGid(group);
  const etc = path.join(root, 'etc');
  await mkdir(etc, { recursive: true });
  await chmod(etc, 0o755);
  const files: Array<[string, string, number, number]> = [
    ['passwd', passwd, 0o644, 0],
    ['group', group, 0o644, 0],
    ['shadow', shadow, sgid === null ? 0o600 : 0o640, sgid ?? 0],
    ['gshadow', gshadow, sgid === null ? 0o600 : 0o640, sgid ?? 0],
    ['login.defs', overrides.loginDefs ?? LOGIN_DEFS, 0o644, 0],
  ];
  for (const [name, text, mode, gid] of files) {
    const p = path.join(etc, name);
    await writeFile(p, text);
    await chmod(p, mode);
    if (IS_ROOT) await chown(p, 0, gid);
  }
}
