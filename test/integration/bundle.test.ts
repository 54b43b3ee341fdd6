// bin/kubeadm-nonroot runs the CLI bundle with a trained V8 code cache (bin/run-bundle.cjs,
// scripts/bundle.ts). The cache must be used when it was made from the bundle on disk, and never
// otherwise: V8 itself compares only the source's length, so a rebuilt bundle of the same length with the
// old cache would run the OLD compiled code. Each case runs a copy of bin/ and dist/cli/ in a temp dir.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { VERSION } from '../../src/version.js';
import { REPO_ROOT } from '../support/paths.js';

const execFileP = promisify(execFile);
let tmp = '';

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'kubeadm-nonroot-bundle-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A copy of the installed layout: bin/, dist/cli/, and node_modules (for yaml, required on first use). */
async function copyLayout(name: string): Promise<string> {
  const dir = path.join(tmp, name);
  await cp(path.join(REPO_ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true });
  await cp(path.join(REPO_ROOT, 'dist', 'cli'), path.join(dir, 'dist', 'cli'), { recursive: true });
  await cp(path.join(REPO_ROOT, 'templates'), path.join(dir, 'templates'), { recursive: true });
  await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

const cacheUsable = (dir: string): boolean => (createRequire(import.meta.url)(path.join(dir, 'bin', 'run-bundle.cjs')) as { cacheUsable(): boolean }).cacheUsable();
const version = async (dir: string): Promise<string> => (await execFileP(process.execPath, [path.join(dir, 'bin', 'kubeadm-nonroot'), '--version'])).stdout.trim();

test('the build trains a cache that V8 accepts for the bundle it was made from', async () => {
  const dir = await copyLayout('intact');
  assert.equal(cacheUsable(dir), true);
  assert.equal(await version(dir), VERSION);
});

test('a cache made from another bundle of the same length is not used', async () => {
  const dir = await copyLayout('stale');
  const bundle = path.join(dir, 'dist', 'cli', 'kubeadm-nonroot.cjs');
  const source = await readFile(bundle, 'utf8');
  // Same length, different code: the version constant the cached bytecode holds.
  const changed = VERSION.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
  assert.equal(changed.length, VERSION.length);
  const edited = source.replace(`VERSION = "${VERSION}"`, `VERSION = "${changed}"`);
  assert.notEqual(edited, source, 'the bundle defines VERSION as a string constant');
  await writeFile(bundle, edited);
  assert.equal(cacheUsable(dir), false);
  assert.equal(await version(dir), changed, 'the edited source runs, not the cached bytecode');
});

test('without a cache, or with a damaged one, the CLI runs from source', async () => {
  const missing = await copyLayout('missing');
  await rm(path.join(missing, 'dist', 'cli', 'kubeadm-nonroot.cjs.cache'));
  assert.equal(cacheUsable(missing), false);
  assert.equal(await version(missing), VERSION);

  const damaged = await copyLayout('damaged');
  const cacheFile = path.join(damaged, 'dist', 'cli', 'kubeadm-nonroot.cjs.cache');
  const cache = await readFile(cacheFile);
  cache[cache.length - 1] ^= 0xff; // in the cache data, past the digest
  await writeFile(cacheFile, cache);
  assert.equal(cacheUsable(damaged), false);
  assert.equal(await version(damaged), VERSION);
  const truncated = await copyLayout('truncated');
  await writeFile(path.join(truncated, 'dist', 'cli', 'kubeadm-nonroot.cjs.cache'), Buffer.alloc(8));
  assert.equal(cacheUsable(truncated), false);
  assert.equal(await version(truncated), VERSION);
});
