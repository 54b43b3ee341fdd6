// Account names and IDs the tool accepts. Names, in its config and journals: POSIX portable user names, plus the
// leading-underscore forms shadow-utils accepts (at most 32 characters, useradd(8) "CAVEATS").
export const ACCOUNT_NAME_RE = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * The largest ID the tool writes into a pod: the API validates runAsUser, runAsGroup, fsGroup and
 * supplementalGroups as 0..math.MaxInt32 (k8s.io/apimachinery/pkg/util/validation IsValidUserID,
 * IsValidGroupID); the tool keeps one below that bound, so accounts live in 1..2^31-2.
 */
export const MAX_POD_ID = 2 ** 31 - 2;
