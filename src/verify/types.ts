// What verify reports: findings, each naming the path or process and what is wrong, the day-2
// operation that most likely caused it, and the command that fixes it.
type FindingKind = 'account' | 'file' | 'secret-exposed' | 'data-dir' | 'manifest' | 'process' | 'problem';

export interface Finding {
  kind: FindingKind;
  /** Node path, or "pid N (component)" for processes. */
  subject: string;
  message: string;
  /** Most likely cause, e.g. "certificate renewal re-wrote the key as root". */
  cause: string;
  fix: string;
}

export interface VerifyReport {
  ok: boolean;
  /**
   * holds: no finding. drift: the node differs from the desired state. not-migrated: the node was
   * never migrated (or was rolled back) — every finding says the same, so text output gives one line.
   */
  state: 'holds' | 'drift' | 'not-migrated';
  /**
   * The run whose rollback left the node unmigrated (every apply rolled back, the latest one last),
   * when that is why: `rollback --keep-accounts` keeps the accounts, which alone would read as a
   * migrated node whose manifests were regenerated.
   */
  rolledBackRun?: string;
  /** The revert that left the node unmigrated, when that is the latest run that stands. */
  revertedRun?: string;
  /** Whether running processes were checked (root is / or --proc was given). */
  runtimeChecked: boolean;
  findings: Finding[];
}
