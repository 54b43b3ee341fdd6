// The build cache of the real node's runtime (scripts/runtime-build.ts, on k8s-build.ts's buildModules):
// containerd and runc are keyed by everything that decides their bytes, and etcd — now built by the same
// generic machinery — keeps the cache directory it had, so no machine rebuilds it for the refactoring.
// Each question runs in a process of its own with fake `go`, `gcc` and `dpkg-query` on PATH (the Go
// version and the C toolchain are read once per process).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../../scripts/lib/paths.js';

const scratch = mkdtempSync(join(tmpdir(), 'runtime-build-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const bin = join(scratch, 'fake-bin');
mkdirSync(bin);
for (const [name, env] of [['go', 'FAKE_GOVERSION'], ['gcc', 'FAKE_GCC'], ['dpkg-query', 'FAKE_LIBSECCOMP']]) {
  writeFileSync(join(bin, name!), `#!/bin/sh\necho "$${env}"\n`);
  chmodSync(join(bin, name!), 0o755);
}
const cache = join(scratch, 'cache');

interface Toolchain { go: string; gcc: string; libseccomp: string }
const BASE: Toolchain = { go: 'go1.26.8', gcc: '12.2.0', libseccomp: '2.5.4-1+deb12u1' };

/** The JSON of `expr`, evaluated with `k` = scripts/k8s-build.js and `r` = scripts/runtime-build.js. */
function ask(expr: string, tc: Toolchain = BASE): unknown {
  const dist = (f: string) => JSON.stringify(join(REPO_ROOT, 'dist/scripts', f));
  const script = `import * as k from ${dist('k8s-build.js')}; import * as r from ${dist('runtime-build.js')}; console.log(JSON.stringify(${expr}));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin`, FAKE_GOVERSION: tc.go, FAKE_GCC: tc.gcc, FAKE_LIBSECCOMP: tc.libseccomp, KUBEADM_NONROOT_K8S_CACHE: cache },
  });
  return JSON.parse(out);
}

describe('the runtime build cache key', () => {
  it('keeps etcd in the directory its recipe gave it before buildModules existed', () => {
    // The recipe etcd was cached under (scripts/k8s-build.ts before the generic builder), written out here.
    const recipe = { go: BASE.go, wrapperRevision: 1, env: { CGO_ENABLED: '0', GOFLAGS: '-mod=mod' }, flags: ['-v', '-trimpath'], ldflags: '-s -w' };
    const want = join(cache, `etcd-v3.6.8-${createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 12)}`);
    assert.equal(ask("k.moduleCacheDir(k.etcdBuild('v3.6.8'))"), want);
  });

  it('names containerd and runc by module version, and changes with the Go version', () => {
    const c = ask('k.moduleCacheDir(r.containerdBuild())') as string;
    const rc = ask('k.moduleCacheDir(r.runcBuild())') as string;
    assert.match(c, new RegExp(`^${cache}/containerd-v2\\.4\\.2-[0-9a-f]{12}$`));
    assert.match(rc, new RegExp(`^${cache}/runc-v1\\.5\\.3-[0-9a-f]{12}$`));
    assert.notEqual(ask('k.moduleCacheDir(r.containerdBuild())', { ...BASE, go: 'go1.26.9' }), c);
    assert.notEqual(ask('k.moduleCacheDir(r.runcBuild())', { ...BASE, go: 'go1.26.9' }), rc);
    assert.notEqual(ask("k.moduleCacheDir(r.containerdBuild('v2.4.1'))"), c);
  });

  it("keys runc's cgo build by the C compiler and the libseccomp it links statically; containerd's not", () => {
    const rc = ask('k.moduleCacheDir(r.runcBuild())');
    assert.notEqual(ask('k.moduleCacheDir(r.runcBuild())', { ...BASE, gcc: '12.3.0' }), rc);
    assert.notEqual(ask('k.moduleCacheDir(r.runcBuild())', { ...BASE, libseccomp: '2.5.5-1' }), rc);
    const c = ask('k.moduleCacheDir(r.containerdBuild())');
    assert.equal(ask('k.moduleCacheDir(r.containerdBuild())', { ...BASE, gcc: '12.3.0', libseccomp: '2.5.5-1' }), c);
  });

  it('builds runc with seccomp, cgo on and statically; containerd with cgo off', () => {
    const rc = ask('k.moduleRecipe(r.runcBuild())') as { env: Record<string, string>; flags: string[]; ldflags: string };
    assert.equal(rc.env.CGO_ENABLED, '1');
    assert.ok(rc.flags[rc.flags.indexOf('-tags') + 1]!.split(' ').includes('seccomp'), rc.flags.join(' '));
    assert.match(rc.ldflags, /-extldflags -static/);
    const c = ask('k.moduleRecipe(r.containerdBuild())') as { env: Record<string, string> };
    assert.equal(c.env.CGO_ENABLED, '0');
  });

  it('an empty cache: the node preflight names both builds and the command that makes them', () => {
    const lacks = ask('r.runtimeMissing()') as string[];
    assert.equal(lacks.length, 2, lacks.join('\n'));
    assert.match(lacks[0]!, /^containerd v2\.4\.2 \(containerd, containerd-shim-runc-v2, ctr\) built by `npm run runtime:build`/);
    assert.match(lacks[1]!, /^runc v1\.5\.3 \(runc\) built by `npm run runtime:build`/);
    assert.equal(ask('r.cachedRuntime()'), null);
  });
});
