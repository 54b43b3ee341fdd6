// Machine views: the same value as JSON or YAML, nothing else on stdout.
import { stringifyYaml } from '../yaml/go-yaml.js';

export type OutputFormat = 'text' | 'json' | 'yaml';

export function renderData(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(value, null, 2) + '\n' : stringifyYaml(value);
}
