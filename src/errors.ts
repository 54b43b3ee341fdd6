// One small set of error types. Library code throws these; src/cli/main.ts maps them to exit codes
// (the only place that decides how the process ends). Exit codes are documented in docs/exit-codes.md.

/** Bad input: malformed YAML, a missing referenced file, an invalid config or flag. Nothing was changed. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(message: string, readonly path?: string) {
    super(path && !message.includes(path) ? `${path}: ${message}` : message);
  }
}

/** The plan has blocking problems, or the tool refuses to run (lock held, stale plan, no TTY). Nothing was changed. */
export class RefusedError extends Error {
  override name = 'RefusedError';
}

/**
 * A restored component whose health could not be confirmed: every change was undone, only the wait
 * for the component to come back ended without an answer. Not a rollback failure.
 */
export interface HealthUnconfirmed {
  component: string;
  /** Why the wait ended (the gate's last observation, a timeout, an interrupt). */
  reason: string;
  /** How the operator checks the component by hand. */
  check: string;
}

/** One line for a person: "etcd: <reason>; check it with: <check>". */
export function describeUnconfirmed(u: HealthUnconfirmed): string {
  return `${u.component}: ${u.reason}; check it with: ${u.check}`;
}

/**
 * An apply/revert failed and was rolled back completely; the node is as it was before. `unconfirmed`
 * names restored components whose health could not be confirmed (restored, health unconfirmed: every
 * change was undone, only the wait for the component to come back ended without an answer).
 */
export class RolledBackError extends Error {
  override name = 'RolledBackError';
  constructor(
    message: string,
    override readonly cause?: unknown,
    readonly unconfirmed: HealthUnconfirmed[] = [],
  ) {
    super(message);
  }
}

/** A change failed AND undoing it failed too. `manualSteps` tells the operator what is left to do by hand. */
export class RollbackFailedError extends Error {
  override name = 'RollbackFailedError';
  constructor(
    message: string,
    readonly failures: string[],
    readonly manualSteps: string[],
  ) {
    super(message);
  }
}

/** A write failed for lack of space: the filesystem is full (ENOSPC) or the user's quota is (EDQUOT). */
export function isOutOfSpace(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
