// src/yaml/lib.ts for the single executable: inside a SEA require() reaches only built-in modules, so
// yaml is imported statically and bundled (scripts/build-sea.ts puts this file in lib.ts's place).
import * as Yaml from 'yaml';

export function yamlLib(): typeof Yaml {
  return Yaml;
}
