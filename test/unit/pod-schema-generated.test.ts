// src/model/pod-schema.generated.ts is what scripts/gen-pod-schema.ts makes of the swagger.json of the
// Kubernetes release it names: regenerated here from that release's source in Go's module cache (the
// Kubernetes builds of .ci/run download it), it must come out byte-identical.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { podSchemaSource } from '../../scripts/gen-pod-schema.js';
import { POD_SCHEMA_VERSION } from '../../src/model/pod-schema.generated.js';
import { REPO_ROOT } from '../../scripts/lib/paths.js';
import { skipOrFail } from '../support/prerequisites.js';

/** Go's module cache, or null without a Go toolchain. */
function goModCache(): string | null {
  for (const go of ['go', '/usr/local/go/bin/go']) {
    try {
      return execFileSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      /* try the next */
    }
  }
  return null;
}

const modCache = goModCache();
const swagger = modCache ? join(modCache, `k8s.io/kubernetes@${POD_SCHEMA_VERSION}`, 'api/openapi-spec/swagger.json') : null;
const skip = skipOrFail(
  !swagger ? 'no Go toolchain (go env GOMODCACHE) to find the Kubernetes source in'
  : !existsSync(swagger) ? `${swagger} is missing: npm run k8s:build -- ${POD_SCHEMA_VERSION} --only kubeadm downloads it`
  : false,
);

it(`pod-schema.generated.ts regenerates byte-identical from k8s.io/kubernetes ${POD_SCHEMA_VERSION}`, { skip }, () => {
  const committed = readFileSync(join(REPO_ROOT, 'src/model/pod-schema.generated.ts'), 'utf8');
  assert.ok(committed === podSchemaSource(readFileSync(swagger!, 'utf8'), POD_SCHEMA_VERSION), 'src/model/pod-schema.generated.ts differs from what scripts/gen-pod-schema.ts makes: regenerate it (see that script) and commit the result');
});
