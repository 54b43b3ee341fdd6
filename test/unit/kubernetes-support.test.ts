// The supported Kubernetes versions and the upgrade notes (src/model/support.ts), against the releases
// kubeadm's own output was generated for (scripts/kubeadm-fixtures.ts RELEASES, v1.22–v1.37) and facts
// read in kubeadm's source (written out here, not taken from the code under test).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubernetesSupport, targetNotes } from '../../src/model/support.js';
import { RELEASES } from '../../scripts/kubeadm-fixtures.js';

describe('supported Kubernetes versions', () => {
  it('every generated release v1.22–v1.37 is known', () => {
    assert.equal(RELEASES.length, 16);
    for (const r of RELEASES) assert.equal(kubernetesSupport(r.slice(1)), 'known', r);
  });

  it('v1.37 is the newest known minor, v1.16 the oldest', () => {
    assert.equal(kubernetesSupport('1.37.99'), 'known');
    assert.equal(kubernetesSupport('1.38.0'), 'too-new');
    assert.equal(kubernetesSupport('1.16.0'), 'known');
    assert.equal(kubernetesSupport('1.15.12'), 'too-old');
    assert.equal(kubernetesSupport('v1.37'), 'unknown-version');
  });

  for (const [from, to] of [['1.33.13', '1.34.4'], ['1.34.4', '1.35.4'], ['1.35.4', '1.36.3'], ['1.36.3', '1.37.2'], ['1.33.13', '1.37.2']] as const) {
    it(`plan --kubernetes-version: ${from} → ${to} is handled and upgrades with --patches`, () => {
      const { support, notes } = targetNotes(from, to);
      assert.equal(support, 'known');
      assert.match(notes[0]!, /within the versions this tool handles/);
      assert.ok(notes.some((n) => /--patches/.test(n)), notes.join('\n'));
      // kubeadm v1.35.4–v1.37.2 still accept RootlessControlPlane (features.go): no note may claim it is gone.
      assert.ok(!notes.some((n) => /no longer exists/.test(n)), notes.join('\n'));
    });
  }

  it('plan --kubernetes-version v1.38.0 is outside what the tool handles', () => {
    const { support, notes } = targetNotes('1.37.2', '1.38.0');
    assert.equal(support, 'too-new');
    assert.match(notes[0]!, /outside the versions this tool handles/);
  });

  it('crossing 1.31 names the gate deprecation', () => {
    assert.ok(targetNotes('1.30.14', '1.31.14').notes.some((n) => /RootlessControlPlane gate is deprecated/.test(n)));
  });

  it('a downgrade target is not "supported": kubeadm does not downgrade', () => {
    const { support, notes } = targetNotes('1.36.3', '1.35.4');
    assert.equal(support, 'downgrade');
    assert.deepEqual(notes, ["v1.35.4 is older than the node's v1.36.3: kubeadm does not downgrade, so neither is it planned here"]);
  });

  it('the upgrade note agrees with docs/upgrade.md: renewal keeps owners, verify says whether apply is needed', () => {
    const note = targetNotes('1.36.3', '1.37.2').notes.find((n) => /--patches/.test(n))!;
    assert.doesNotMatch(note, /fix renewed keys/);
    assert.match(note, /certificate renewal keeps every owner and mode/);
  });
});
