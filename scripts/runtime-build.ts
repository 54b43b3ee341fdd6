// npm run runtime:build
//
// Builds the container runtime the real node runs — containerd 2.x (containerd, its runc shim, ctr) and
// runc — from the Go module proxy, cached beside Kubernetes by k8s-build.ts's machinery (buildModules):
//   /var/cache/kubeadm-nonroot-k8s/containerd-v2.4.2-<recipe>/bin/{containerd,containerd-shim-runc-v2,ctr}
//   /var/cache/kubeadm-nonroot-k8s/runc-v1.5.3-<recipe>/bin/runc
// <recipe> hashes the Go version, environment (CGO), flags (tags, build mode), ldflags and, for runc's
// cgo build, the C compiler and libseccomp versions it links statically; recipe.json spells it out.
//
// Neither module has replace directives (`go install github.com/containerd/containerd/v2/cmd/containerd@v2.4.2`
// and `go install github.com/opencontainers/runc@v1.5.3` work); the wrapper module selects the same
// dependency versions as `go install` does, and lets three binaries share one tidy.
//
// containerd: as its Makefile's release build (GO_BUILDTAGS urfave_cli_no_docs; version.Version and
// version.Package stamped by -X), with CGO off — the Makefile builds the shim that way already
// (SHIM_CGO_ENABLED ?= 0); containerd without cgo loses only the btrfs snapshotter, not used here.
// runc: as its Makefile's `make static` (cgo for libcontainer/nsenter, tags seccomp urfave_cli_no_docs
// netgo osusergo, static PIE), without libpathrs (a Rust library Debian does not ship; runc then uses
// its Go pathrs-lite); libseccomp-dev (.ci/run) gives the static libseccomp.a.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModules, GO_BUILD_ENV, GO_BUILD_FLAGS, missingModuleBinaries, moduleCacheDir, type ModuleBuild, type Progress } from './k8s-build.js';

export const CONTAINERD_VERSION = 'v2.4.2';
export const RUNC_VERSION = 'v1.5.3';

const CONTAINERD_MODULE = 'github.com/containerd/containerd/v2';

export function containerdBuild(version = CONTAINERD_VERSION): ModuleBuild {
  return {
    label: `containerd ${version}`,
    name: `containerd-${version}`,
    wrapper: 'kubeadm-nonroot/containerd-build',
    modules: [CONTAINERD_MODULE],
    version,
    packages: {
      containerd: `${CONTAINERD_MODULE}/cmd/containerd`,
      'containerd-shim-runc-v2': `${CONTAINERD_MODULE}/cmd/containerd-shim-runc-v2`,
      ctr: `${CONTAINERD_MODULE}/cmd/ctr`,
    },
    env: GO_BUILD_ENV,
    flags: [...GO_BUILD_FLAGS, '-tags', 'urfave_cli_no_docs'],
    ldflags: ['-s', '-w', `-X ${CONTAINERD_MODULE}/version.Version=${version}`, `-X ${CONTAINERD_MODULE}/version.Package=${CONTAINERD_MODULE}`].join(' '),
  };
}

/** The C side of runc's static cgo build: what `gcc` and libseccomp-dev are (part of the recipe). */
function runcNative(): Record<string, string> {
  return { gcc: versionOf('gcc', ['-dumpfullversion']), libseccomp: versionOf('dpkg-query', ['-W', '-f', '${Version}', 'libseccomp-dev']) };
}

/** A command's one-line version output, or "not installed" (the build then fails naming it). */
function versionOf(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'not installed';
  }
}

export function runcBuild(version = RUNC_VERSION): ModuleBuild {
  return {
    label: `runc ${version}`,
    name: `runc-${version}`,
    wrapper: 'kubeadm-nonroot/runc-build',
    modules: ['github.com/opencontainers/runc'],
    version,
    packages: { runc: 'github.com/opencontainers/runc' },
    env: { CGO_ENABLED: '1', GOFLAGS: '-mod=mod' },
    flags: [...GO_BUILD_FLAGS, '-buildmode=pie', '-tags', 'seccomp urfave_cli_no_docs netgo osusergo'],
    ldflags: '-s -w -linkmode external -extldflags -static-pie',
    native: runcNative(),
  };
}

/** Builds (or reuses) containerd and runc; returns the directories holding their binaries. */
export async function buildRuntime(onProgress?: Progress): Promise<{ containerdBin: string; runcBin: string }> {
  const containerdBin = await buildModules(containerdBuild(), { onProgress });
  const runcBin = await buildModules(runcBuild(), { onProgress });
  return { containerdBin, runcBin };
}

/** What of the runtime is not built under the current recipe, one line each (for hostPreflight). */
export function runtimeMissing(): string[] {
  const lacks: string[] = [];
  for (const b of [containerdBuild(), runcBuild()]) {
    const gone = missingModuleBinaries(b);
    if (gone.length > 0) lacks.push(`${b.label} (${gone.join(', ')}) built by \`npm run runtime:build\` into ${safeDir(b)}`);
  }
  return lacks;
}

function safeDir(b: ModuleBuild): string {
  try {
    return moduleCacheDir(b);
  } catch {
    return 'the build cache (Go cannot be run to know its key: is the Go toolchain on PATH?)';
  }
}

/** The runtime's binary directories if both are built (else null): for readers that never build. */
export function cachedRuntime(): { containerdBin: string; runcBin: string } | null {
  if (runtimeMissing().length > 0) return null;
  return { containerdBin: join(moduleCacheDir(containerdBuild()), 'bin'), runcBin: join(moduleCacheDir(runcBuild()), 'bin') };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = Date.now();
  buildRuntime().then((r) => {
    process.stdout.write(`${r.containerdBin}\n${r.runcBin}\n`);
    process.stderr.write(`runtime:build done in ${Math.round((Date.now() - t0) / 1000)} s\n`);
  }, (e: Error) => {
    process.stderr.write(`runtime:build: ${e.message}\n`);
    process.exit(1);
  });
}
