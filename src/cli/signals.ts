// Ctrl-C (SIGINT), SIGTERM and SIGHUP (an SSH session that dropped) while a command changes the node.
// None of them ends the process mid-change: the first stops the apply and rolls back every change
// made so far; the next one stops only the WAITS for restored components to become healthy (every
// undo still runs: the node ends restored, "health unconfirmed"); after that, the undos finish.
// A SIGKILL is the only way out mid-undo, and the journal lets "kubeadm-nonroot rollback" finish then.
import { note } from './output.js';

export interface Interrupts {
  /** Aborted by the first signal during an apply/revert: stop and roll back. */
  signal: AbortSignal;
  /** Aborted by the next signal (the first during a rollback): stop waiting for health, keep undoing. */
  gateSignal: AbortSignal;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function withInterrupts<T>(what: 'apply' | 'revert' | 'rollback', fn: (i: Interrupts) => Promise<T>): Promise<T> {
  const run = new AbortController();
  const gates = new AbortController();
  const again = (sig: string) => (sig === 'SIGINT' ? 'Ctrl-C again' : `${sig} again`);
  const onSignal = (sig: NodeJS.Signals): void => {
    // After a hang-up there is no terminal: writes would fail with EIO/EPIPE, which must not end the run.
    if (sig === 'SIGHUP') for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);
    if (what !== 'rollback' && !run.signal.aborted) {
      note(`\n${sig}: stopping the ${what} and rolling back every change made so far; each restored component is waited for until healthy (up to --timeout). ${again(sig)} stops those waits, not the undos.`);
      run.abort(sig);
    } else if (!gates.signal.aborted) {
      note(`\n${sig}: no longer waiting for restored components to become healthy; every change is still undone (their health stays unconfirmed: check with kubeadm-nonroot verify). The undos are not interrupted.`);
      gates.abort(sig);
    } else {
      note(`\n${sig}: the remaining undos are finishing and are not interrupted (if this process is killed, "kubeadm-nonroot rollback" finishes them from the journal).`);
    }
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    return await fn({ signal: run.signal, gateSignal: gates.signal });
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}
