// parseLoginDefs: expectations written by hand from kubeadm-rootless.md §2.1 and shadow-utils' rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { parseLoginDefs } from '../../src/discover/login-defs.js';
import type { LoginDefs } from '../../src/model/node.js';

const P = '/etc/login.defs';
const DEFAULTS: LoginDefs = { sysUidMin: 100, sysUidMax: 999, sysGidMin: 100, sysGidMax: 999, uidMin: 1000 };

describe('parseLoginDefs', () => {
  it('returns kubeadm defaults when the file is missing (null text)', () => {
    assert.deepEqual(parseLoginDefs(null, P), DEFAULTS);
  });

  it('returns kubeadm defaults for an empty file', () => {
    assert.deepEqual(parseLoginDefs('', P), DEFAULTS);
  });

  it('reads the kubeadm integration-test ranges 101-998 / 102-999 (kubeadm-rootless.md §6)', () => {
    const text = 'SYS_UID_MIN 101\nSYS_UID_MAX 998\nSYS_GID_MIN 102\nSYS_GID_MAX 999\n';
    assert.deepEqual(parseLoginDefs(text, P), {
      sysUidMin: 101,
      sysUidMax: 998,
      sysGidMin: 102,
      sysGidMax: 999,
      uidMin: 1000,
    });
  });

  const table: Array<{ name: string; text: string; want: Partial<LoginDefs> }> = [
    { name: 'a commented-out key keeps the default', text: '#SYS_UID_MIN 5\n# SYS_GID_MIN 7\n', want: {} },
    { name: 'an indented key is read (kubeadm ignores it)', text: '   SYS_UID_MIN 150\n\tSYS_GID_MIN 160\n', want: { sysUidMin: 150, sysGidMin: 160 } },
    { name: 'a trailing comment after the value is tolerated', text: 'SYS_UID_MIN 120 # for daemons\nSYS_GID_MIN 130#tight\n', want: { sysUidMin: 120, sysGidMin: 130 } },
    { name: 'tabs separate key and value', text: 'SYS_UID_MAX\t\t800\nSYS_GID_MAX \t 850\n', want: { sysUidMax: 800, sysGidMax: 850 } },
    { name: 'the last occurrence of a key wins', text: 'SYS_UID_MIN 110\nSYS_UID_MIN 111\nSYS_UID_MIN 112\n', want: { sysUidMin: 112 } },
    { name: 'a key that only shares a prefix is not the key', text: 'SYS_UID_MINX 5\nXSYS_UID_MIN 6\n', want: {} },
    { name: 'CRLF line endings are tolerated', text: 'SYS_UID_MIN 201\r\nSYS_UID_MAX 901\r\n', want: { sysUidMin: 201, sysUidMax: 901 } },
    { name: 'a missing final newline is tolerated', text: 'SYS_GID_MIN 300\nSYS_GID_MAX 400', want: { sysGidMin: 300, sysGidMax: 400 } },
    { name: 'a double-quoted value is unquoted, as shadow-utils does', text: 'SYS_UID_MIN "222"\n', want: { sysUidMin: 222 } },
    { name: 'a key without a value is ignored, as shadow-utils does', text: 'SYS_UID_MIN\nSYS_UID_MIN   \n', want: {} },
    { name: 'UID_MIN is read', text: 'UID_MIN 2000\nSYS_UID_MAX 999\n', want: { uidMin: 2000 } },
    { name: 'SYS_UID_MAX defaults to UID_MIN - 1 when only UID_MIN is set (useradd)', text: 'UID_MIN 500\n', want: { uidMin: 500, sysUidMax: 499 } },
    { name: 'SYS_GID_MAX defaults to GID_MIN - 1 when only GID_MIN is set (groupadd)', text: 'GID_MIN 600\n', want: { sysGidMax: 599 } },
    { name: 'other keys and their odd values are not our business', text: 'MAIL_DIR /var/mail\nUMASK 022\nENCRYPT_METHOD SHA512\n', want: {} },
  ];
  for (const { name, text, want } of table) {
    it(name, () => {
      assert.deepEqual(parseLoginDefs(text, P), { ...DEFAULTS, ...want });
    });
  }

  it('rejects a value that is not a number, naming the path and 1-based line', () => {
    const text = '# ranges\n\nSYS_UID_MIN abc\n';
    assert.throws(
      () => parseLoginDefs(text, P),
      (e: unknown) =>
        e instanceof InputError && e.message.startsWith('/etc/login.defs:3: SYS_UID_MIN value "abc" is not a number'),
    );
  });

  it('rejects a negative value as not a number', () => {
    assert.throws(() => parseLoginDefs('SYS_GID_MAX -1\n', P), /\/etc\/login\.defs:1: SYS_GID_MAX value "-1" is not a number/);
  });

  it('rejects garbage after the value that is not a comment', () => {
    assert.throws(() => parseLoginDefs('SYS_UID_MAX 999 1000\n', P), /login\.defs:1: SYS_UID_MAX value "999 1000" is not a number/);
  });

  it('rejects a value beyond the 32-bit ID space', () => {
    assert.throws(() => parseLoginDefs('SYS_UID_MAX 4294967295\n', P), (e: unknown) => e instanceof InputError && /4294967295/.test(e.message));
  });

  it('rejects SYS_UID_MIN greater than SYS_UID_MAX', () => {
    assert.throws(
      () => parseLoginDefs('SYS_UID_MIN 900\nSYS_UID_MAX 100\n', P),
      (e: unknown) =>
        e instanceof InputError && e.message.startsWith('/etc/login.defs: SYS_UID_MIN 900 is greater than SYS_UID_MAX 100'),
    );
  });

  it('rejects SYS_GID_MIN greater than SYS_GID_MAX', () => {
    assert.throws(
      () => parseLoginDefs('SYS_GID_MIN 500\nSYS_GID_MAX 499\n', P),
      (e: unknown) =>
        e instanceof InputError && e.message.startsWith('/etc/login.defs: SYS_GID_MIN 500 is greater than SYS_GID_MAX 499'),
    );
  });

  it('explains a range made empty by a small UID_MIN', () => {
    assert.throws(() => parseLoginDefs('UID_MIN 50\n', P), /SYS_UID_MIN 100 is greater than SYS_UID_MAX 49 \(SYS_UID_MAX is not set, so it defaults to UID_MIN - 1\)/);
  });

  it('accepts min equal to max (a one-ID range)', () => {
    assert.deepEqual(parseLoginDefs('SYS_UID_MIN 500\nSYS_UID_MAX 500\n', P), { ...DEFAULTS, sysUidMin: 500, sysUidMax: 500 });
  });

  it('refuses a system range starting above 2^31-2, naming the line: its IDs would go into manifests the API rejects', () => {
    assert.throws(() => parseLoginDefs('# ids\nSYS_UID_MIN 3000000000\nSYS_UID_MAX 3000000100\n', P), new RegExp(`${P}:2: SYS_UID_MIN 3000000000 is above 2147483646`));
    assert.throws(() => parseLoginDefs('SYS_GID_MIN 2147483647\nSYS_GID_MAX 2147483650\n', P), /:1: SYS_GID_MIN 2147483647 is above 2147483646/);
    assert.deepEqual(parseLoginDefs('SYS_UID_MIN 2147483646\nSYS_UID_MAX 2147483646\n', P).sysUidMin, 2147483646);
  });
});

