// What the CLI tests share beyond running it (scripts/lib/cli-run.ts): the tool's own state in a root
// the CLI has worked on, bounded parallelism, and the root requirement.
import { skipOrFail } from './prerequisites.js';

// Where the tool keeps its own state under a root (src/state/locations.ts), relative as snapshotTree keys
// them. The backups and journal stay after a rollback by design; the lock file is gone after a run but
// a killed run leaves it. Tree comparisons ignore exactly these.
const STATE_DIR_REL = 'var/lib/kubeadm-nonroot';
const LOCK_REL = 'run/kubeadm-nonroot.lock';

export function isToolState(rel: string): boolean {
  return rel === STATE_DIR_REL || rel.startsWith(`${STATE_DIR_REL}/`) || rel === LOCK_REL;
}

/**
 * Taking the lock creates and removes ROOT/run/kubeadm-nonroot.lock, which moves the mtime and ctime of
 * ROOT/run itself on every run, even one with nothing to do: unavoidable for any lock file, so these
 * two lines (and only these) are dropped from a times-included diff.
 */
export function withoutLockDirTimes(lines: string[]): string[] {
  return lines.filter((l) => l !== 'run: mtime changed' && l !== 'run: ctime changed');
}

/**
 * Run `fn` over `items` with at most `limit` running at once; results in input order. After a failure
 * no new item starts, but the ones running are awaited before the first error is thrown, so that no
 * stray child process or copy outlives the test (and its cleanup in `after`).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  async function worker(): Promise<void> {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
  return out;
}

/** Why root-only tests skip (fail when KUBEADM_NONROOT_REQUIRE_E2E=1): they chown files and run useradd/groupadd --prefix. */
export const NEEDS_ROOT = skipOrFail(process.getuid?.() !== 0 && 'needs root: these tests chown files and run shadow-utils (useradd --prefix) on sandbox roots');
