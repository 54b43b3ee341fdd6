// Real strategic merge: `kubectl patch --local --type strategic` (apimachinery's strategicpatch with the
// Pod's patch strategies, what kubeadm's --patches runs) on a manifest file, offline.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p)) ?? null;

/** The manifest at `manifestFile` with the patch file applied, as JSON (kubectl's -o json). */
export function kubectlStrategicPatch(manifestFile: string, patchFile: string): Promise<unknown> {
  if (!KUBECTL) return Promise.reject(new Error('kubectl is not installed'));
  return new Promise((resolve, reject) => {
    // No kubeconfig, no cluster: --local never contacts a server.
    execFile(KUBECTL, ['patch', '--local', '-f', manifestFile, '--type', 'strategic', '--patch-file', patchFile, '-o', 'json'], { env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', KUBECONFIG: '/dev/null' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl patch --local -f ${manifestFile} --patch-file ${patchFile}: ${stderr.trim() || err.message}`));
      else resolve(JSON.parse(stdout) as unknown);
    });
  });
}
