// Account names the tool accepts in its config and journals: POSIX portable user names, plus the
// leading-underscore forms shadow-utils accepts (at most 32 characters, useradd(8) "CAVEATS").
export const ACCOUNT_NAME_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
