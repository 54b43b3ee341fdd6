// Real Go for the tests' oracles, offline: `kubectl patch --local` never contacts a server.
//   - strategic merge: `kubectl patch --local -f MANIFEST --type strategic --patch-file PATCH` runs
//     apimachinery's strategicpatch.StrategicMergePatch with the typed Pod's patch strategies — the very
//     call kubeadm's --patches makes for a static pod (cmd/kubeadm/app/util/patches/patches.go,
//     ApplyPatchesToTarget, StrategicMergePatchObject: &v1.Pod{});
//   - reading: `--type merge -p '{}'` prints what sigs.k8s.io/yaml (the kubelet's YAMLToJSON) read.
// Each call costs ~100–500 ms (a Go binary starting): callers batch files into one reading call.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p)) ?? null;

/** Why kubectl-based oracles cannot run here, or null. */
export const KUBECTL_MISSING: string | null = KUBECTL ? null : 'kubectl is not installed (the real Go strategic merge and YAML reading these tests compare with)';

function kubectlPatch(args: string[]): Promise<string> {
  if (!KUBECTL) return Promise.reject(new Error(KUBECTL_MISSING!));
  return new Promise((resolve, reject) => {
    // No kubeconfig, no cluster: --local never contacts a server.
    execFile(KUBECTL, ['patch', '--local', ...args, '-o', 'json'], { maxBuffer: 64 << 20, env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', KUBECONFIG: '/dev/null' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl: ${stderr.trim() || err.message}`)); // stderr names the file
      else resolve(stdout);
    });
  });
}

/** kubectl prints one pretty JSON object per input object, each starting with `{` at column 0. */
function splitJson(out: string): unknown[] {
  return out.split(/^(?=\{)/m).filter((s) => s.trim() !== '').map((s) => JSON.parse(s) as unknown);
}

/** The manifest at `manifestFile` with the patch file applied by strategic merge, as JSON. */
export async function kubectlStrategicPatch(manifestFile: string, patchFile: string): Promise<unknown> {
  return JSON.parse(await kubectlPatch(['-f', manifestFile, '--type', 'strategic', '--patch-file', patchFile])) as unknown;
}

/** Go's reading of files (or directories) in ONE kubectl call: the objects decoded, in order; rejects with kubectl's error. */
export async function kubectlRead(targets: readonly string[]): Promise<unknown[]> {
  return splitJson(await kubectlPatch([...targets.flatMap((f) => ['-f', f]), '--type', 'merge', '-p', '{}']));
}
