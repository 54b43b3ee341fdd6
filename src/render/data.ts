// Machine views: the same value as JSON or YAML, nothing else on stdout.
import { yamlLib } from '../yaml/lib.js';

export type OutputFormat = 'text' | 'json' | 'yaml';

export function renderData(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(value, null, 2) + '\n' : yamlLib().stringify(value, { lineWidth: 0 });
}
