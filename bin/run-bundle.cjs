'use strict';
// Runs the CLI bundle (dist/cli/kubeadm-nonroot.cjs, made by scripts/bundle.ts) with the V8 code cache
// the build trained for it (dist/cli/kubeadm-nonroot.cjs.cache): bytecode for what `plan` runs, so a
// run does not parse and compile it again. The single executable does the same with its SEA code cache;
// on Node 22 module.enableCompileCache() would, but Node 20 has no built-in compile cache.
//
// V8 checks a cache only against the source's LENGTH (and its own version and flags), so a stale cache
// for a rebuilt bundle of the same length would run the old code, and a damaged one is not reliably
// detected. The cache file therefore starts with the sha256 of the source it was made from and the cache
// data after it, and is used only when that matches. A cache V8 rejects (another Node version) is
// ignored: the bundle then compiles as usual, only slower.
const { createHash } = require('node:crypto');
const { readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const BUNDLE = path.join(__dirname, '..', 'dist', 'cli', 'kubeadm-nonroot.cjs');
const CACHE = `${BUNDLE}.cache`;
const DIGEST_BYTES = 32;

const digest = (source, data) => createHash('sha256').update(source).update(data).digest();

function compile(source, cachedData) {
  return new vm.Script(Module.wrap(source), { filename: BUNDLE, cachedData });
}

function run(script) {
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE));
}

function cacheFor(source) {
  let cache;
  try {
    cache = readFileSync(CACHE);
  } catch {
    return undefined;
  }
  const data = cache.subarray(DIGEST_BYTES);
  return data.length > 0 && cache.subarray(0, DIGEST_BYTES).equals(digest(source, data)) ? data : undefined;
}

/** Run the CLI (process.argv as given). */
exports.main = () => {
  const source = readFileSync(BUNDLE, 'utf8');
  run(compile(source, cacheFor(source)));
};

/** Run the CLI once and, when the process exits, write the code cache of everything it compiled. */
exports.train = () => {
  const source = readFileSync(BUNDLE, 'utf8');
  const script = compile(source, undefined);
  process.on('exit', () => {
    const data = script.createCachedData();
    writeFileSync(CACHE, Buffer.concat([digest(source, data), data]));
  });
  run(script);
};

/** For tests: whether the cache on disk would be used with the bundle on disk. */
exports.cacheUsable = () => {
  const source = readFileSync(BUNDLE, 'utf8');
  const cachedData = cacheFor(source);
  return cachedData !== undefined && !compile(source, cachedData).cachedDataRejected;
};
