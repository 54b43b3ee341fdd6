// Kept in source, not read from package.json at run time: the bundled single executable has no
// package.json beside it.
export const VERSION = '0.1.0';

// Replaced by esbuild `define` when the single executable is built (scripts/build-sea.ts); an
// undeclared global otherwise, which `typeof` reads safely as "undefined".
declare const __KUBEADM_NONROOT_COMMIT__: string | undefined;

/**
 * What --version prints. The executable adds its embedded Node and the commit it was built from (what
 * an operator needs to tell two executables of the same version apart, or to check the Node inside
 * for a security release); the tool version stays first so `cut -d' ' -f1` still gives it.
 */
export function versionText(): string {
  const commit = typeof __KUBEADM_NONROOT_COMMIT__ === 'string' ? __KUBEADM_NONROOT_COMMIT__ : null;
  return commit === null ? VERSION : `${VERSION} (node ${process.version} linux-${process.arch}, commit ${commit})`;
}
