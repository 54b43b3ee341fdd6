// Parse /etc/passwd and /etc/group.
//
// kubeadm aborts on any line it does not understand: a comment, an NIS compat line, a wrong field count
// (cmd/kubeadm/app/util/users/users_linux.go parseEntries). Real nodes have such lines, and they are not ours to judge,
// so these parsers are tolerant and never fail. A line is SKIPPED (no entry, no error) when it is:
//  - blank, or a "#" comment: glibc's nss_files skips leading blanks and ignores empty and comment lines;
//  - an NIS compat line starting with "+" or "-" ("+", "-user", "+@netgroup", "+::::::"): its meaning
//    depends on NIS, which we cannot see; shadow-utils' pwck skips them for the same reason;
//  - a line with the wrong number of ":"-separated fields (7 in passwd, 4 in group), an empty name, or a
//    UID/GID that is not a plain decimal integer: nothing sound can be read from it.
// A trailing "\r" (a file edited on Windows) and surrounding blanks are stripped first, as kubeadm does.
// Skipped lines are still counted, so `line` (0-based) always points at the real line in the file.
// Writing these files is someone else's job; the writer must keep every line, skipped ones included.
import type { GroupEntry, PasswdEntry, UnreadableLine } from '../model/node.js';

function parseId(field: string): number | null {
  if (!/^[0-9]+$/.test(field)) return null;
  const n = Number(field);
  return Number.isSafeInteger(n) ? n : null;
}

/** Fields of each line worth reading, with its 0-based line number. */
function entryLines(text: string, fieldCount: number): Array<{ fields: string[]; line: number }> {
  const out: Array<{ fields: string[]; line: number }> = [];
  text.split('\n').forEach((raw, line) => {
    const trimmed = raw.replace(/\r$/, '').trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (trimmed.startsWith('+') || trimmed.startsWith('-')) return;
    const fields = trimmed.split(':');
    if (fields.length !== fieldCount || fields[0] === '') return;
    out.push({ fields, line });
  });
  return out;
}

/** Entries of a passwd file (`name:password:uid:gid:gecos:home:shell`); `path` is for callers' messages. */
export function parsePasswd(text: string, _path: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const { fields, line } of entryLines(text, 7)) {
    const [name, , uidField, gidField, gecos, home, shell] = fields as [string, string, string, string, string, string, string];
    const uid = parseId(uidField);
    const gid = parseId(gidField);
    if (uid === null || gid === null) continue;
    entries.push({ name, uid, gid, gecos, home, shell, line });
  }
  return entries;
}

/** Entries of a group file (`name:password:gid:member,member`); empty member names are dropped. */
export function parseGroup(text: string, _path: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const { fields, line } of entryLines(text, 4)) {
    const [name, , gidField, memberField] = fields as [string, string, string, string];
    const gid = parseId(gidField);
    if (gid === null) continue;
    const members = memberField.split(',').filter((m) => m !== '');
    entries.push({ name, gid, members, line });
  }
  return entries;
}

/**
 * Lines the parsers above skip because they are broken (wrong field count, a UID/GID that is not a
 * number), not because they are blank, comments or NIS compat lines; with the name they seem to carry.
 * The plan refuses when one names root or an account it would create or reuse: glibc skips such a line,
 * shadow-utils keeps it, and the tool cannot tell what the account is (docs/troubleshooting.md).
 */
export function unreadableLines(text: string, path: string, kind: 'passwd' | 'group'): UnreadableLine[] {
  const fieldCount = kind === 'passwd' ? 7 : 4;
  const idFields = kind === 'passwd' ? [2, 3] : [2];
  const out: UnreadableLine[] = [];
  text.split('\n').forEach((raw, line) => {
    const trimmed = raw.replace(/\r$/, '').trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('+') || trimmed.startsWith('-')) return;
    const fields = trimmed.split(':');
    const name = fields[0] ?? '';
    if (fields.length !== fieldCount) out.push({ path, line, name, why: `${fields.length} fields where ${fieldCount} are expected` });
    else if (name === '') out.push({ path, line, name, why: 'an empty name' });
    else if (idFields.some((i) => parseId(fields[i]!) === null)) out.push({ path, line, name, why: `an ID that is not a decimal number` });
  });
  return out;
}
