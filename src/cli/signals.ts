// Ctrl-C (SIGINT), SIGTERM and SIGHUP (an SSH session that dropped) while a command changes the node.
// None of them ends the process mid-change: the first stops the apply and rolls back every change
// made so far; the next one stops only the WAITS for restored components to become healthy (every
// undo still runs: the node ends restored, "health unconfirmed"); after that, the undos finish.
// A SIGKILL is the only way out mid-undo, and the journal lets "kubeadm-nonroot rollback" finish then.
// Once the run has ended, signals are still held until the process exits: the lock is still to be
// released and the outcome reported, and a signal's default action then would end the process with a
// signal instead of the run's exit code (a Ctrl-C typed during a rollback's last undo did).
// The children the tool runs cannot be interrupted by a terminal at all (src/exec.ts: own session).
import { note, terminalHungUp } from './output.js';

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
  let toldFinishing = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (sig === 'SIGHUP') terminalHungUp();
    if (what !== 'rollback' && !run.signal.aborted) {
      note(`\n${sig}: stopping the ${what} and rolling back every change made so far; each restored component is waited for until healthy (up to --timeout). ${again(sig)} stops those waits, not the undos.`);
      run.abort(sig);
    } else if (!gates.signal.aborted) {
      note(`\n${sig}: no longer waiting for restored components to become healthy; every change is still undone (their health stays unconfirmed: check with kubeadm-nonroot verify). The undos are not interrupted.`);
      gates.abort(sig);
    } else if (!toldFinishing) {
      toldFinishing = true;
      note(`\n${sig}: the remaining undos are finishing and are not interrupted (if this process is killed, "kubeadm-nonroot rollback" finishes them from the journal).`);
    }
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    return await fn({ signal: run.signal, gateSignal: gates.signal });
  } finally {
    holdSignalsUntilExit();
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}

let holding = false;

/** From now on SIGINT, SIGTERM and SIGHUP are ignored: the run is over, the process is about to exit. */
function holdSignalsUntilExit(): void {
  if (holding) return;
  holding = true;
  for (const s of SIGNALS) process.on(s, (sig: NodeJS.Signals) => sig === 'SIGHUP' && terminalHungUp());
}
