// The command that undoes (or finishes undoing) the latest run: printed after an apply, and in every
// message that tells the operator to roll back.
export function rollbackCommandLine(root: string): string {
  return `kubeadm-nonroot rollback${root === '/' ? '' : ` --root ${root}`}`;
}
