// An outline of a YAML document: its block structure with the source offsets the manifest editor
// splices at (src/plan/manifest-edit.ts), and each node's plain value. Two producers build the SAME
// outline: src/yaml/lite.ts for the plain subset kubeadm and kubectl write (fast, no library), and
// src/yaml/from-yaml.ts from the yaml library's Document for everything else. A unit test builds
// both over every fixture and generated variants and requires them to be equal.

export type ONode = OScalar | OMap | OSeq | OOther;

export interface OScalar {
  kind: 'scalar';
  value: string | number | boolean | null;
  /** Offsets of the scalar's source text, quotes included: [start, end). */
  start: number;
  end: number;
  /** A literal (|) or folded (>) block scalar: never spliced in place. */
  block: boolean;
}

export interface OMap {
  kind: 'map';
  flow: boolean;
  /** Offset of the first key (block) or of `{` (flow). */
  start: number;
  items: OPair[];
  js: Record<string, unknown>;
}

export interface OSeq {
  kind: 'seq';
  flow: boolean;
  /** Offset of the first `-` (block) or of `[` (flow). */
  start: number;
  items: Array<ONode | null>;
  js: unknown[];
}

/** Anything else the yaml library can produce (an alias, a complex key's pair): read, never edited. */
export interface OOther {
  kind: 'other';
  js: unknown;
}

export interface OPair {
  key: string;
  /** Offset of the key's first character. */
  keyStart: number;
  /** Start of the line after the pair's last line (its value and the comments attached to it), or the text's end. */
  end: number;
  /** null for an empty value (`key:` with nothing after it). */
  value: ONode | null;
}

export function toJS(node: ONode | null): unknown {
  if (node === null) return null;
  return node.kind === 'scalar' ? node.value : node.js;
}

export function findPair(map: OMap, key: string): OPair | undefined {
  return map.items.find((p) => p.key === key);
}

/** The node at a path of map keys and sequence indexes; undefined when any step is missing. */
export function getIn(root: ONode | null, path: ReadonlyArray<string | number>): ONode | null | undefined {
  let node: ONode | null | undefined = root;
  for (const seg of path) {
    if (!node) return undefined;
    if (typeof seg === 'number') {
      if (node.kind !== 'seq' || seg >= node.items.length) return undefined;
      node = node.items[seg];
    } else {
      if (node.kind !== 'map') return undefined;
      const pair = findPair(node, seg);
      if (!pair) return undefined;
      node = pair.value;
    }
  }
  return node;
}
