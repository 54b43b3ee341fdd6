// Official Node.js binaries from the npm registry (the one place the project downloads from): the
// packages node-linux-<arch>@<version> hold Node's release build as bin/node. Used to embed Node in the
// single executable (scripts/build-sea.ts) and to run the tests on every supported LTS line
// (scripts/test-lts.ts). Each binary is checked against the registry integrity pinned here.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { removeLeftByDeadProcesses } from './pid-lock.js';

export type Arch = 'x64' | 'arm64';

/**
 * The Node.js LTS lines the npm package supports, oldest first, each at the release tested: 22
 * ("Jod", maintenance LTS to 2027-04-30), 24 ("Krypton", maintenance LTS to 2028-04-30), 26 ("Lithium",
 * active LTS since 2026-10-28, to 2029-04-30) — nodejs/Release's schedule. Node 20 reached its end of
 * life on 2026-04-30. Integrity: `npm view node-linux-<arch>@<version> dist.integrity`; to move a line to
 * a newer release, change its version and both hashes together.
 */
export const NODE_LTS = [
  {
    version: '22.23.5',
    integrity: {
      x64: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
      arm64: 'sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==',
    },
  },
  {
    version: '24.22.3',
    integrity: {
      x64: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
      arm64: 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
    },
  },
  {
    version: '26.12.1',
    integrity: {
      x64: 'sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==',
      arm64: 'sha512-8Oxs6Y7rDcKufVIM/zYRSwytj46WOrZk7yFCLTKDcs17bBjAeD9HMAqo97hMfMyxozIud0S4vZCs5WB/3iavNQ==',
    },
  },
] as const satisfies readonly { version: string; integrity: Record<Arch, string> }[];

export type NodeRelease = (typeof NODE_LTS)[number];

/** The newest LTS release: the Node the single executable embeds. */
export const NEWEST_LTS: NodeRelease = NODE_LTS[NODE_LTS.length - 1]!;

/** An environment without NODE_OPTIONS, for a Node that must not load what the caller's does. */
export function withoutNodeOptions(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

/** bin/node of node-linux-<arch>@<release>, fetched once into `cacheDir` (checked against the pin). */
export function nodeBinaryOf(release: NodeRelease, arch: Arch, cacheDir: string): string {
  const bin = path.join(cacheDir, `node-v${release.version}-linux-${arch}`);
  removeLeftByDeadProcesses(cacheDir, (name) => {
    const pid = /^fetch-(\d+)-/.exec(name)?.[1];
    return pid === undefined ? undefined : Number(pid);
  });
  if (existsSync(bin)) return bin;
  mkdirSync(cacheDir, { recursive: true });
  // Named after this process, so that a later fetch removes it if this one is killed (a package of ~30 MB).
  const tmp = mkdtempSync(path.join(cacheDir, `fetch-${process.pid}-`));
  try {
    const spec = `node-linux-${arch}@${release.version}`;
    // npm pack of a registry spec goes through npm's own cache (~/.npm/_cacache), so a second fetch after
    // the binary cache was wiped does not download again.
    const out = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', tmp, '--ignore-scripts'], { cwd: tmp, encoding: 'utf8', env: withoutNodeOptions(), stdio: ['ignore', 'pipe', 'pipe'] });
    const [info] = JSON.parse(out) as { integrity: string; filename: string }[];
    if (!info) throw new Error(`npm pack ${spec} printed no package`);
    if (info.integrity !== release.integrity[arch]) {
      throw new Error(`${spec}: integrity ${info.integrity} differs from the pinned ${release.integrity[arch]}; refusing to run it (scripts/lib/node-dist.ts NODE_LTS)`);
    }
    execFileSync('tar', ['-xzf', path.join(tmp, info.filename), '-C', tmp, 'package/bin/node'], { stdio: 'inherit' });
    chmodSync(path.join(tmp, 'package/bin/node'), 0o755);
    renameSync(path.join(tmp, 'package/bin/node'), bin);
    return bin;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
