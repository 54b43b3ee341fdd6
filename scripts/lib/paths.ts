// Where the repository's test data is, from the compiled module's location (dist/scripts/lib/).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures', 'manifests');
export const BIN = join(REPO_ROOT, 'bin', 'kubeadm-nonroot');
