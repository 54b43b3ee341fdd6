import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capMask, parseStatus } from '../../src/verify/runtime.js';

// Excerpt of a real /proc/PID/status (Linux 6.1) of a process run by setpriv with no supplementary groups.
const STATUS = 'Name:\tetcd\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t102\t102\t102\t102\nGid:\t109\t109\t109\t109\nFDSize:\t64\nGroups:\t\nNStgid:\t22970\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000400\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n';

describe('/proc/PID/status parsing', () => {
  it('reads ids, an empty Groups line, capabilities and flags', () => {
    const s = parseStatus(STATUS);
    assert.deepEqual(s.uids, [102, 102, 102, 102]);
    assert.deepEqual(s.gids, [109, 109, 109, 109]);
    assert.deepEqual(s.groups, []); // must not run on into the NStgid line
    assert.equal(s.capEff, 0n);
    assert.equal(s.capBnd, 0x400n);
    assert.equal(s.noNewPrivs, 1);
    assert.equal(s.seccomp, 2);
  });
  it('maps NET_BIND_SERVICE to bit 10 (include/uapi/linux/capability.h)', () => {
    assert.equal(capMask(['NET_BIND_SERVICE']), 0x400n);
    assert.equal(capMask([]), 0n);
  });
});
