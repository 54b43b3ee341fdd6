// Tests that cannot run here (not root, a tool missing) skip with the reason — except on CI, where
// .ci/run sets KUBEADM_NONROOT_REQUIRE_E2E=1 and EVERY skip is a failure: a suite must never pass
// by proving nothing. Every `skip:` and `t.skip()` under test/ goes through one of these two.
import { test, type TestContext } from 'node:test';

export const E2E_REQUIRED = process.env.KUBEADM_NONROOT_REQUIRE_E2E === '1';

/**
 * For a `skip:` option evaluated when the test file loads: false when the test can run; otherwise the
 * reason — and, when required, a failing test named after it is registered in the calling file.
 */
export function skipOrFail(reason: string | false | null | undefined): string | false {
  if (!reason) return false;
  if (E2E_REQUIRED) {
    test(`prerequisite (KUBEADM_NONROOT_REQUIRE_E2E=1 forbids skipping): ${reason}`, () => {
      throw new Error(`KUBEADM_NONROOT_REQUIRE_E2E=1 but these tests cannot run: ${reason}`);
    });
  }
  return reason;
}

/**
 * Inside a running test: skip with the reasons (true: the caller returns), or, when required, throw so
 * that the test FAILS.
 */
export function skipUnlessPossible(t: TestContext, missing: readonly string[]): boolean {
  if (missing.length === 0) return false;
  const why = missing.join('; ');
  if (E2E_REQUIRED) throw new Error(`KUBEADM_NONROOT_REQUIRE_E2E=1 but this test cannot run: ${why}`);
  t.skip(why);
  return true;
}
