// src/yaml/render.ts writes the editor's fragments without the yaml library; each must be exactly what
// the library writes with the editor's options, in both sequence styles and at both indent widths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Document } from 'yaml';
import { renderPairLines } from '../../src/yaml/render.js';

const VALUES: unknown[] = [
  0, 101, 2000001000, -1, -0, 1.5, true, false, null, '', 'RuntimeDefault', 'Unconfined', 'ALL', 'NET_BIND_SERVICE',
  'profiles/audit.json', '/var/lib/kubelet/seccomp/x.json', 'true', 'True', 'null', '~', '123', '0x1F', '1e3', 'yes', 'a b', 'a: b', '#x',
  '-x', 'x#y', "it's", 'line\nbreak', 'ünï', [], {}, ['ALL'], ['NET_BIND_SERVICE', 'ALL'], [2004, 2005], [1.5], ['true'],
  { type: 'RuntimeDefault' }, { localhostProfile: 'profiles/audit.json', type: 'Localhost' },
  { runAsGroup: 2000, runAsNonRoot: true, runAsUser: 2000, seccompProfile: { type: 'RuntimeDefault' }, supplementalGroups: [2004] },
  { allowPrivilegeEscalation: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } },
  { capabilities: { drop: ['ALL'] } }, { a: [] }, { a: {} }, { 'a b': 1 }, { a: [{ b: 1 }] }, [[1]],
];

test('renders every fragment exactly as the yaml library does', () => {
  for (const indent of [2, 4]) {
    for (const indentSeq of [false, true]) {
      for (const key of ['securityContext', 'seccomp.security.alpha.kubernetes.io/pod', 'true']) {
        for (const value of VALUES) {
          const lib = new Document({ [key]: value }).toString({ indent, indentSeq, lineWidth: 0, flowCollectionPadding: false }).replace(/\n$/, '').split('\n');
          assert.deepEqual(renderPairLines(key, value, { indent, indentSeq }), lib, `${key}: ${JSON.stringify(value)} (indent ${indent}, indentSeq ${indentSeq})`);
        }
      }
    }
  }
});
