// The subset of Kubernetes strategic merge patch (apimachinery pkg/util/strategicpatch) that kubeadm
// applies to a static Pod with --patches: maps merge recursively (null deletes a key); lists whose Go
// field is tagged patchStrategy=merge,patchMergeKey=name (containers, initContainers, volumes,
// volumeMounts, env) merge element-wise by name; every other list (supplementalGroups,
// capabilities.add/drop, command, args) is replaced. Test-only: it validates our patch files the way
// kubeadm would use them; no kubeadm binary runs on these machines.
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const MERGE_BY_NAME = new Set(['containers', 'initContainers', 'ephemeralContainers', 'volumes', 'volumeMounts', 'env']);

function isMap(v: unknown): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function strategicMerge(original: Json, patch: Json, key = ''): Json {
  if (isMap(original) && isMap(patch)) {
    const out: { [k: string]: Json } = { ...original };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = k in out ? strategicMerge(out[k]!, v, k) : v;
    }
    return out;
  }
  if (Array.isArray(original) && Array.isArray(patch) && MERGE_BY_NAME.has(key)) {
    const out = original.map((x) => x);
    for (const p of patch) {
      const name = isMap(p) ? p.name : undefined;
      const i = out.findIndex((o) => isMap(o) && o.name === name);
      if (i >= 0) out[i] = strategicMerge(out[i]!, p, '');
      else out.push(p);
    }
    return out;
  }
  return patch;
}
