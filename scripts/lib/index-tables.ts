// The fixtures' hand-checked INDEX tables (test/fixtures/manifests/INDEX.md) as data: per case and
// manifest file, each path-valued flag with its access (read/write) and the RESOLVED HOST PATH a person
// worked out through the volumeMounts. The access proof's oracle: what each component must be able to
// open comes from here, never from the tool's own analysis.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fixturesDir } from './sandbox.js';

export interface IndexRow {
  flag: string;
  containerPath: string;
  access: 'read' | 'write';
  hostPath: string;
}

/** case → manifest file name → rows (a file with no flag table, e.g. haproxy.yaml, has none). */
export type IndexTables = Map<string, Map<string, IndexRow[]>>;

export function readIndexTables(file = path.join(fixturesDir(), 'INDEX.md')): IndexTables {
  const out: IndexTables = new Map();
  let files: Map<string, IndexRow[]> | null = null;
  let rows: IndexRow[] | null = null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const section = /^## (\S+)\s*$/.exec(line);
    if (section) {
      files = section[1] === 'Summary' ? null : new Map();
      if (files) out.set(section[1]!, files);
      rows = null;
      continue;
    }
    const manifest = /^### `([^`]+\.yaml)`/.exec(line);
    if (manifest && files) {
      rows = [];
      files.set(manifest[1]!, rows);
      continue;
    }
    const row = /^\| `(--[^`]+)` \| `([^`]+)` \| (read|write) \| `([^`]+)` via /.exec(line);
    if (row && rows) rows.push({ flag: row[1]!, containerPath: row[2]!, access: row[3] as 'read' | 'write', hostPath: row[4]! });
  }
  return out;
}
