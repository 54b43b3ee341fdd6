// parsePasswd / parseGroup: tolerant where kubeadm aborts (kubeadm-rootless.md §1.4, limitation 1).
// Expectations are written by hand from the input lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGroup, parsePasswd } from '../../src/discover/accounts.js';

describe('parsePasswd', () => {
  it('reads every field of well-formed lines with 0-based line numbers', () => {
    const text = 'root:x:0:0:root:/root:/bin/bash\netcd:x:101:102:etcd user:/var/lib/etcd:/sbin/nologin\n';
    assert.deepEqual(parsePasswd(text, '/etc/passwd'), [
      { name: 'root', uid: 0, gid: 0, gecos: 'root', home: '/root', shell: '/bin/bash', line: 0 },
      { name: 'etcd', uid: 101, gid: 102, gecos: 'etcd user', home: '/var/lib/etcd', shell: '/sbin/nologin', line: 1 },
    ]);
  });

  const skipped: Array<{ name: string; line: string }> = [
    { name: 'a blank line', line: '' },
    { name: 'a line of blanks', line: '  \t ' },
    { name: 'a comment line', line: '# root:x:0:0:root:/root:/bin/bash' },
    { name: 'an indented comment line', line: '   #commented:x:5:5:::/bin/sh' },
    { name: 'the NIS "+" line', line: '+' },
    { name: 'the NIS "+::::::" line', line: '+::::::' },
    { name: 'an NIS netgroup line', line: '+@admins::::::' },
    { name: 'an NIS exclusion line', line: '-baduser::::::' },
    { name: 'too few fields', line: 'short:x:5:5:/home' },
    { name: 'too many fields', line: 'long:x:5:5:g:/h:/bin/sh:extra' },
    { name: 'a non-numeric UID', line: 'bad:x:abc:5::/h:/bin/sh' },
    { name: 'a negative UID', line: 'neg:x:-1:5::/h:/bin/sh' },
    { name: 'a non-numeric GID', line: 'badgid:x:5:g::/h:/bin/sh' },
    { name: 'an empty UID', line: 'empty:x::5::/h:/bin/sh' },
    { name: 'an empty name', line: ':x:7:7::/h:/bin/sh' },
  ];
  for (const { name, line } of skipped) {
    it(`skips ${name} and keeps counting lines`, () => {
      const text = `root:x:0:0:root:/root:/bin/bash\n${line}\ndaemon:x:1:1::/:/usr/sbin/nologin\n`;
      const entries = parsePasswd(text, '/etc/passwd');
      assert.deepEqual(
        entries.map((e) => [e.name, e.line]),
        [
          ['root', 0],
          ['daemon', 2],
        ],
      );
    });
  }

  it('tolerates CRLF line endings without keeping "\\r" in the shell', () => {
    const entries = parsePasswd('a:x:10:10::/home/a:/bin/sh\r\nb:x:11:11::/home/b:/bin/false\r\n', '/etc/passwd');
    assert.deepEqual(
      entries.map((e) => [e.name, e.shell, e.line]),
      [
        ['a', '/bin/sh', 0],
        ['b', '/bin/false', 1],
      ],
    );
  });

  it('reads the last line when the final newline is missing', () => {
    const entries = parsePasswd('a:x:10:10::/home/a:/bin/sh\nlast:x:12:13::/:/bin/false', '/etc/passwd');
    assert.deepEqual(entries[1], { name: 'last', uid: 12, gid: 13, gecos: '', home: '/', shell: '/bin/false', line: 1 });
  });

  it('reads the line kubeadm writes (name:x:uid:gid:::/bin/false)', () => {
    assert.deepEqual(parsePasswd('kubeadm-etcd:x:101:102:::/bin/false\n', '/etc/passwd'), [
      { name: 'kubeadm-etcd', uid: 101, gid: 102, gecos: '', home: '', shell: '/bin/false', line: 0 },
    ]);
  });

  it('keeps duplicate names as separate entries, in file order', () => {
    const entries = parsePasswd('dup:x:5:5::/:/bin/sh\ndup:x:6:6::/:/bin/sh\n', '/etc/passwd');
    assert.deepEqual(
      entries.map((e) => [e.name, e.uid]),
      [
        ['dup', 5],
        ['dup', 6],
      ],
    );
  });
});

describe('parseGroup', () => {
  it('reads name, gid and members with 0-based line numbers', () => {
    const text = 'root:x:0:\nkubeadm-sa-key-readers:x:106:kubeadm-kas,kubeadm-kcm\n';
    assert.deepEqual(parseGroup(text, '/etc/group'), [
      { name: 'root', gid: 0, members: [], line: 0 },
      { name: 'kubeadm-sa-key-readers', gid: 106, members: ['kubeadm-kas', 'kubeadm-kcm'], line: 1 },
    ]);
  });

  it('drops empty member names from a sloppy member list', () => {
    assert.deepEqual(parseGroup('wheel:x:10:,alice,,bob,\n', '/etc/group'), [
      { name: 'wheel', gid: 10, members: ['alice', 'bob'], line: 0 },
    ]);
  });

  const skipped: Array<{ name: string; line: string }> = [
    { name: 'a comment line', line: '#wheel:x:10:' },
    { name: 'the NIS "+:::" line', line: '+:::' },
    { name: 'an NIS "+" line', line: '+' },
    { name: 'an NIS exclusion line', line: '-games:::' },
    { name: 'too few fields', line: 'video:x:44' },
    { name: 'too many fields', line: 'audio:x:29:a:b' },
    { name: 'a non-numeric GID', line: 'odd:x:ten:' },
    { name: 'a blank line', line: '' },
  ];
  for (const { name, line } of skipped) {
    it(`skips ${name} in a group file`, () => {
      const text = `root:x:0:\n${line}\nadm:x:4:syslog\n`;
      assert.deepEqual(parseGroup(text, '/etc/group'), [
        { name: 'root', gid: 0, members: [], line: 0 },
        { name: 'adm', gid: 4, members: ['syslog'], line: 2 },
      ]);
    });
  }

  it('tolerates CRLF and a missing final newline in a group file', () => {
    assert.deepEqual(parseGroup('a:x:1:u1,u2\r\nb:x:2:', '/etc/group'), [
      { name: 'a', gid: 1, members: ['u1', 'u2'], line: 0 },
      { name: 'b', gid: 2, members: [], line: 1 },
    ]);
  });
});
