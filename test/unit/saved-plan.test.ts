// apply|revert --plan FILE: a saved plan is accepted only when it is this node's plan with actions at
// most removed AND closed — every uid, gid and group it gives a file or a pod exists on the node or is
// created by the plan itself. The expectations are what the node's accounts hold, written by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/plan/config.js';
import { buildPlan } from '../../src/plan/plan.js';
import { acceptSavedPlan, closureGaps } from '../../src/plan/saved-plan.js';
import type { Plan } from '../../src/plan/types.js';
import { fixtureNode } from '../support/fixture-node.js';

const NOW = new Date('2026-11-25T00:00:00Z');
const CASE = 'v1.32-rhel-stacked';
const copy = (p: Plan): Plan => JSON.parse(JSON.stringify(p)) as Plan;

function setup() {
  const node = fixtureNode(CASE);
  const config = defaultConfig();
  const fresh = buildPlan(node, config, { now: NOW });
  assert.deepEqual(fresh.problems, [], 'the fixture plans cleanly');
  return { node, config, fresh, ctx: { verb: 'apply' as const, fresh, node, config } };
}

describe('saved plans', () => {
  it('accepts the node\'s own plan, and one with a file action left out', () => {
    const { fresh, ctx } = setup();
    assert.equal(acceptSavedPlan(copy(fresh), ctx).accepted, true);
    const fewer = copy(fresh);
    fewer.files = fewer.files.slice(1);
    assert.equal(acceptSavedPlan(fewer, ctx).accepted, true);
  });

  it('refuses a plan with its create-user/create-group actions removed: its IDs would belong to no account', () => {
    const { fresh, node, ctx } = setup();
    const open = copy(fresh);
    open.accounts = open.accounts.filter((a) => a.action !== 'create-user' && a.action !== 'create-group');
    const etcd = fresh.accounts.find((a) => a.action === 'create-user' && a.name === 'kubeadm-etcd')!;
    assert.ok(etcd && 'uid' in etcd && !node.passwd.some((p) => p.uid === etcd.uid), 'the fixture has no account with that uid');
    const gaps = closureGaps(open, node);
    assert.ok(gaps.includes(`uid ${etcd.uid} (etcd runs as it)`), gaps.join('\n'));
    const out = acceptSavedPlan(open, ctx);
    assert.equal(out.accepted, false);
    assert.ok(!out.accepted && out.refusal === 'input' && /is not closed: it uses uid \d+/.test(out.message), JSON.stringify(out));
  });

  it('refuses a plan that keeps a user but drops the group it is created in', () => {
    const { fresh, node } = setup();
    const open = copy(fresh);
    open.accounts = open.accounts.filter((a) => !(a.action === 'create-group' && a.name === 'kubeadm-ks'));
    assert.ok(closureGaps(open, node).some((g) => g.startsWith('group kubeadm-ks (primary group of user kubeadm-ks)')));
  });

  it('refuses another kind, another tool, a changed node and a foreign action', () => {
    const { fresh, ctx } = setup();
    assert.match((acceptSavedPlan({ apiVersion: 'x' }, ctx) as { message: string }).message, /not a plan of this tool/);
    assert.match((acceptSavedPlan(copy(fresh), { ...ctx, verb: 'revert' }) as { message: string }).message, /revert needs a/);
    const changed = copy(fresh);
    changed.fingerprint = 'sha256:0';
    assert.equal((acceptSavedPlan(changed, ctx) as { refusal: string }).refusal, 'changed');
    const foreign = copy(fresh);
    foreign.files[0]!.desired.mode = 0o666;
    assert.match((acceptSavedPlan(foreign, ctx) as { message: string }).message, /holds actions this node's plan does not/);
  });
});
