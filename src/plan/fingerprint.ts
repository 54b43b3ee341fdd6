// A digest of every input a plan was computed from. apply --plan recomputes it from the node and
// refuses when it differs: the node changed since the operator reviewed the plan (Terraform keeps the
// prior state in its plan for the same reason: hashicorp/terraform internal/plans).
import { createHash } from 'node:crypto';
import type { Config } from '../model/config.js';
import type { NodeState } from '../model/node.js';

export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map(stableStringify).join(',') + ']';
  const keys = Object.keys(value as Record<string, unknown>).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + stableStringify((value as Record<string, unknown>)[k])).join(',') + '}';
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function fingerprintInputs(node: NodeState, config: Config): string {
  const { root: _root, ...rest } = node;
  return 'sha256:' + sha256(stableStringify({ node: rest, config }));
}
