// A directory that a root static pod that is not kubeadm's (a log shipper in the manifests dir) mounts
// read-write is never handed to a component for writing: the component could plant files and links
// that root pod reads or follows. The audit log dir /var/log/kubernetes/audit of the fixture is the
// only write grant under /var/log (INDEX.md, v1.29-audit-encryption).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/plan/config.js';
import { buildPlan } from '../../src/plan/plan.js';
import { FIXTURES_DIR } from '../../scripts/lib/paths.js';
import { fixtureNode } from '../support/fixture-node.js';

const CASE = 'v1.29-audit-encryption';
const shipper = (securityContext: string) => `apiVersion: v1
kind: Pod
metadata:
  name: log-shipper
  namespace: kube-system
spec:
  containers:
  - name: shipper
    image: fluent/fluent-bit:3.0
${securityContext}    volumeMounts:
    - mountPath: /var/log
      name: varlog
  volumes:
  - hostPath:
      path: /var/log
      type: Directory
    name: varlog
`;

function planWith(extra: string | null) {
  const dir = join(FIXTURES_DIR, CASE);
  const manifests = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  if (extra !== null) manifests['log-shipper.yaml'] = extra;
  return buildPlan(fixtureNode(CASE, { manifests }), defaultConfig(), { now: new Date(0) });
}

describe('directories a root static pod mounts read-write', () => {
  it('are not handed over: a blocking problem naming that pod', () => {
    assert.ok(planWith(null).files.some((f) => f.path === '/var/log/kubernetes/audit' && f.access === 'write'), 'without the shipper the audit dir is handed over');
    const plan = planWith(shipper(''));
    const p = plan.problems.filter((x) => x.code === 'shared-with-root-pod');
    assert.deepEqual(p.map((x) => [x.path, x.component]), [['/var/log/kubernetes/audit', 'kube-apiserver']]);
    assert.match(p[0]!.message, /static pod \/etc\/kubernetes\/manifests\/log-shipper\.yaml mounts \/var\/log read-write and runs as root/);
  });

  it('a shipper running as a non-root user, or mounting read-only, changes nothing', () => {
    assert.deepEqual(planWith(shipper('    securityContext:\n      runAsUser: 65534\n')).problems.filter((x) => x.code === 'shared-with-root-pod'), []);
    assert.deepEqual(planWith(shipper('').replace('      name: varlog\n  volumes', '      name: varlog\n      readOnly: true\n  volumes')).problems.filter((x) => x.code === 'shared-with-root-pod'), []);
  });
});
