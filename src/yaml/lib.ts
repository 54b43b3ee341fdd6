// The yaml library, loaded on first use. It is ~60 CommonJS modules (about 30 ms to load on Node 20,
// more than the rest of `plan`); most runs never need it, because src/yaml/lite.ts reads kubeadm's
// own files. Loaded with require so callers can stay synchronous (yaml ships CommonJS for require).
// The single executable bundles yaml instead: scripts/build-sea.ts swaps this file for lib.sea.ts.
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let lib: typeof Yaml | undefined;

export function yamlLib(): typeof Yaml {
  lib ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return lib;
}
