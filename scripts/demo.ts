// npm run demo: build a throwaway sandbox node from the bundled sample (kubeadm v1.31-style manifests,
// a kubeadm-shaped PKI made with openssl, passwd/group/login.defs) in a temp dir and show the plan
// for it. Read-only on the sandbox; nothing outside the temp dir is touched.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { buildSandbox } from '../test/support/sandbox.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sandbox = await buildSandbox({ fixture: 'v1.31-ubuntu-stacked-kube-vip' });
const bin = join(repo, 'bin', 'kubeadm-nonroot');
process.stdout.write(`Demo node built in ${sandbox.root} (kubeadm v1.31 manifests, PKI from openssl, Debian accounts)\n`);
process.stdout.write(`$ kubeadm-nonroot plan --root ${sandbox.root}\n\n`);
let status = 0;
try {
  execFileSync(process.execPath, [bin, 'plan', '--root', sandbox.root], { stdio: 'inherit' });
} catch (e) {
  status = (e as { status?: number }).status ?? 1;
}
process.stdout.write(`\nNext, as root, on the same sandbox:\n  ${bin} apply --root ${sandbox.root} --yes --no-wait\n  ${bin} rollback --root ${sandbox.root} --yes --no-wait\n`);
process.stdout.write(`The sandbox stays in ${sandbox.root}; remove it with: rm -rf ${sandbox.root}\n`);
process.exitCode = status;
