// npm run demo [-- --fixture NAME]: build a throwaway sandbox node from a bundled sample (by default
// v1.31-ubuntu-stacked-kube-vip: kubeadm v1.31 manifests; NAME is any directory of
// test/fixtures/manifests, e.g. v1.32-rhel-stacked for docs/example.md), with a kubeadm-shaped PKI made
// with openssl and passwd/group/login.defs, in a temp dir, and show the plan for it. Read-only on the
// sandbox; nothing outside the temp dir is touched.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSandbox } from './lib/sandbox.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ args: process.argv.slice(2), options: { fixture: { type: 'string', default: 'v1.31-ubuntu-stacked-kube-vip' } } });
const fixture = values.fixture;
const sandbox = await buildSandbox({ fixture });
const bin = join(repo, 'bin', 'kubeadm-nonroot');
process.stdout.write(`Demo node built in ${sandbox.root} (fixture ${fixture}, PKI from openssl, Debian accounts)\n`);
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
