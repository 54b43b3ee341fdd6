// Read a file from templates/ — from the package on disk, or, inside the single executable, from the
// SEA assets the build embeds under the same relative names (node:sea getAsset, Node >= 20.12).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function seaAsset(name: string): string | null {
  try {
    const require = createRequire(import.meta.url);
    const sea = require('node:sea') as { isSea(): boolean; getAsset(key: string, encoding: string): string };
    return sea.isSea() ? sea.getAsset(`templates/${name}`, 'utf8') : null;
  } catch {
    return null;
  }
}

/** templates/ beside dist/: dist/src/templates.js → ../../templates */
const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

export async function readTemplate(name: string): Promise<string> {
  return seaAsset(name) ?? readFileSync(join(TEMPLATES_DIR, name), 'utf8');
}
