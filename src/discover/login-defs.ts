// Parse /etc/login.defs for the ID ranges new system accounts are allocated from.
//
// kubeadm's parser (cmd/kubeadm/app/util/users/users_linux.go parseLoginDefs) only matches keys at the very start of a line, so an
// indented key is silently ignored, and it aborts on a trailing "# comment". shadow-utils, which owns
// this file (lib/getdef.c), skips leading blanks, ignores blank and "#" lines, splits the key from the
// value on spaces/tabs, strips double quotes and lets the last occurrence of a key win. We read it the
// way shadow-utils does, and additionally accept a trailing "# comment" after a value because people
// write them and the intent is unambiguous.
import { InputError } from '../errors.js';
import type { LoginDefs } from '../model/node.js';
import { MAX_POD_ID } from '../model/account-names.js';

/** kubeadm's defaults (users_linux.go) plus shadow-utils' UID_MIN default of 1000. */
export const DEFAULT_LOGIN_DEFS: Readonly<LoginDefs> = Object.freeze({
  sysUidMin: 100,
  sysUidMax: 999,
  sysGidMin: 100,
  sysGidMax: 999,
  uidMin: 1000,
});

/** IDs are 32-bit; 4294967295 is (uid_t)-1, which chown(2) reads as "leave unchanged". */
const MAX_ID = 4294967294;


const KEYS = ['SYS_UID_MIN', 'SYS_UID_MAX', 'SYS_GID_MIN', 'SYS_GID_MAX', 'UID_MIN', 'GID_MIN'] as const;
type Key = (typeof KEYS)[number];

function isKey(name: string): name is Key {
  return (KEYS as readonly string[]).includes(name);
}

/**
 * Read the ID ranges from login.defs text; null text (file missing) gives the defaults.
 *
 * When SYS_UID_MAX (SYS_GID_MAX) is not set, it defaults to UID_MIN - 1 (GID_MIN - 1), as useradd does
 * (shadow-utils lib/find_new_uid.c, find_new_gid.c), so a node with "UID_MIN 500" does not get a system
 * range that overlaps its human accounts. With UID_MIN/GID_MIN unset that is 999, kubeadm's default.
 *
 * Error messages use 1-based line numbers, as editors and `grep -n` do.
 */
export function parseLoginDefs(text: string | null, path: string): LoginDefs {
  const found = new Map<Key, number>();
  const lines = text === null ? [] : text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const sep = line.search(/[ \t]/);
    if (sep < 0) return; // a key with no value: shadow-utils ignores the line ("only 1 field")
    const name = line.slice(0, sep);
    if (!isKey(name)) return;
    let value = line.slice(sep + 1);
    const hash = value.indexOf('#');
    if (hash >= 0) value = value.slice(0, hash);
    value = value.trim().replace(/^"(.*)"$/, '$1');
    if (value === '') return;
    const where = `${path}:${index + 1}`;
    if (!/^[0-9]+$/.test(value)) {
      throw new InputError(
        `${where}: ${name} value "${value}" is not a number; write a decimal integer, e.g. "${name} ${defaultFor(name)}"`,
        path,
      );
    }
    const n = Number(value);
    if (n > MAX_ID) {
      throw new InputError(`${where}: ${name} value ${value} is larger than the largest ID ${MAX_ID}`, path);
    }
    if ((name === 'SYS_UID_MIN' || name === 'SYS_GID_MIN') && n > MAX_POD_ID) {
      throw new InputError(`${where}: ${name} ${value} is above ${MAX_POD_ID}: every ID allocated from it would be written into manifests the API server rejects (runAsUser/runAsGroup/supplementalGroups are 1..${MAX_POD_ID} here); lower it to at most ${MAX_POD_ID}`, path);
    }
    found.set(name, n);
  });

  const uidMin = found.get('UID_MIN') ?? DEFAULT_LOGIN_DEFS.uidMin;
  const gidMin = found.get('GID_MIN') ?? DEFAULT_LOGIN_DEFS.uidMin;
  const defs: LoginDefs = {
    sysUidMin: found.get('SYS_UID_MIN') ?? DEFAULT_LOGIN_DEFS.sysUidMin,
    sysUidMax: found.get('SYS_UID_MAX') ?? (found.has('UID_MIN') ? uidMin - 1 : DEFAULT_LOGIN_DEFS.sysUidMax),
    sysGidMin: found.get('SYS_GID_MIN') ?? DEFAULT_LOGIN_DEFS.sysGidMin,
    sysGidMax: found.get('SYS_GID_MAX') ?? (found.has('GID_MIN') ? gidMin - 1 : DEFAULT_LOGIN_DEFS.sysGidMax),
    uidMin,
  };
  checkRange(path, 'SYS_UID', defs.sysUidMin, defs.sysUidMax, found.has('SYS_UID_MAX') ? null : 'UID_MIN');
  checkRange(path, 'SYS_GID', defs.sysGidMin, defs.sysGidMax, found.has('SYS_GID_MAX') ? null : 'GID_MIN');
  return defs;
}

function defaultFor(name: Key): number {
  switch (name) {
    case 'SYS_UID_MIN':
      return DEFAULT_LOGIN_DEFS.sysUidMin;
    case 'SYS_UID_MAX':
      return DEFAULT_LOGIN_DEFS.sysUidMax;
    case 'SYS_GID_MIN':
      return DEFAULT_LOGIN_DEFS.sysGidMin;
    case 'SYS_GID_MAX':
      return DEFAULT_LOGIN_DEFS.sysGidMax;
    case 'UID_MIN':
    case 'GID_MIN':
      return DEFAULT_LOGIN_DEFS.uidMin;
  }
}

/** useradd refuses such a range too ("Invalid configuration: SYS_UID_MIN …", lib/find_new_uid.c). */
function checkRange(path: string, prefix: string, min: number, max: number, derivedFrom: string | null): void {
  if (min <= max) return;
  const why = derivedFrom ? ` (${prefix}_MAX is not set, so it defaults to ${derivedFrom} - 1)` : '';
  throw new InputError(
    `${path}: ${prefix}_MIN ${min} is greater than ${prefix}_MAX ${max}${why}; fix the range in ${path}`,
    path,
  );
}
