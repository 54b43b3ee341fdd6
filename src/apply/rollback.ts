// Undo a journaled run: every intent not yet undone, newest first, then wait until the components
// whose manifests were restored are healthy again under their original identity.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, type HealthUnconfirmed } from '../errors.js';
import type { Component } from '../model/components.js';
import { parsePod, runsAsUid } from '../model/pod.js';
import type { AccountTools } from './accounts.js';
import { pidsOf, waitHealthy } from './gates.js';
import type { Journal, Undo } from '../state/journal.js';
import type { ApplyEvent } from './run.js';
import { manualStep, performUndo } from './undo.js';
import { decideManifestRestore, manifestNow, preflightManifestRestores } from './manifest-restore.js';
import { rollbackCommandLine } from './rollback-hint.js';
import { ROLLBACK_RESERVE_FILE } from './space.js';

export interface RollbackOptions {
  root: string;
  backupDir: string;
  tools: AccountTools;
  wait: boolean;
  timeoutMs: number;
  proc: string;
  now: () => Date;
  events: (e: ApplyEvent) => void;
  reason: string;
  afterRecord?: () => Promise<void> | void;
  /** Undos NOT to run (rollback --keep-accounts): neither run nor journaled as undone. */
  keep?: (u: Undo) => boolean;
  /** Aborted: stop waiting for restored components' health (every undo still runs). */
  gateSignal?: AbortSignal;
}

export interface RollbackResult {
  undone: number;
  failures: string[];
  manualSteps: string[];
  warnings: string[];
  /** Restored components whose health could not be confirmed: not a rollback failure (every change was undone). */
  unconfirmed: HealthUnconfirmed[];
}

export async function rollbackJournal(journal: Journal, o: RollbackOptions): Promise<RollbackResult> {
  const res: RollbackResult = { undone: 0, failures: [], manualSteps: [], warnings: [], unconfirmed: [] };
  // A journal that cannot be written (a full /var is a likely cause of the failure being rolled back)
  // must not stop the undos — they are idempotent and need no record to run — but it is a failure to
  // report: the next rollback would not know what this one did.
  const record = async (r: Parameters<Journal['record']>[0]) => {
    try {
      await journal.record(r);
    } catch (e) {
      if (!res.failures.some((f) => f.startsWith('journal:'))) res.failures.push(`journal: cannot record progress in ${o.backupDir}: ${errorMessage(e)}`);
    }
  };
  const pending = journal.intents().filter((i) => !i.undone && i.undo && !o.keep?.(i.undo)).reverse();
  // Refuse (InputError, exit 2) before the first record or change when a manifest cannot be undone safely.
  await preflightManifestRestores(pending.map((i) => i.undo as Undo), o);
  await record({ t: 'rollback-begin', at: o.now().toISOString(), reason: o.reason });
  await o.afterRecord?.();
  // Accounts this run created or deleted: the only lines the account-file safety net may put back.
  const createdNames = journal.intents().flatMap((i) => (i.undo && 'name' in i.undo && /^(delete|recreate)-(user|group)$/.test(i.undo.kind) ? [i.undo.name] : []));
  const restored: Array<{ component: Component; path: string; text: string; before: Set<number>; at: number }> = [];
  // The gate needs its own signal: rollback must finish even when the apply was interrupted.
  const signal = o.gateSignal ?? new AbortController().signal;
  // The run's reserve (src/apply/space.ts) makes room for this rollback's records on a full disk.
  await rm(join(o.backupDir, ROLLBACK_RESERVE_FILE), { force: true });
  const undoOne = async (intent: (typeof pending)[number]): Promise<unknown> => {
    const undo = intent.undo as Undo;
    try {
      let gate: (typeof restored)[number] | null = null;
      if (undo.kind === 'restore-manifest' && o.wait) {
        // The gate waits for what is actually written: the saved original, or the current manifest with
        // the run's edits undone (nothing written: nothing to wait for).
        const d = await decideManifestRestore(undo, await manifestNow(o, undo.path), o);
        if (d.kind === 'write') {
          const text = d.content.toString('utf8');
          const component = parsePod(text, undo.path).name as Component;
          gate = { component, path: undo.path, text, before: await pidsOf(component, text, undo.path, o.proc), at: 0 };
        }
      }
      const started = Date.now();
      o.events({ type: 'rollback', title: intent.title, status: 'running' });
      await performUndo(undo, { root: o.root, backupDir: o.backupDir, tools: o.tools, createdNames, warn: (m) => { res.warnings.push(m); o.events({ type: 'warn', message: m }); } });
      if (gate) restored.push({ ...gate, at: Date.now() });
      await record({ t: 'undone', step: intent.step, at: Date.now(), took: Date.now() - started });
      await o.afterRecord?.();
      res.undone++;
      o.events({ type: 'rollback', title: intent.title, status: 'undone' });
      return null;
    } catch (e) {
      return e;
    }
  };
  // An undo that failed is tried once more after all the others: on a full disk, the undos that free
  // space (manifests back, accounts removed) may have made the room it lacked. Undos are idempotent.
  const failed: typeof pending = [];
  for (const intent of pending) if ((await undoOne(intent)) !== null) failed.push(intent);
  for (const intent of failed) {
    const e = await undoOne(intent);
    if (e === null) continue;
    res.failures.push(`undo "${intent.title}": ${errorMessage(e)}`);
    res.manualSteps.push(manualStep(intent.undo as Undo, o.root, o.backupDir));
    o.events({ type: 'rollback', title: intent.title, status: 'failed', detail: errorMessage(e) });
  }
  // Components restored in reverse rollout order; wait for each under its original identity.
  for (const r of restored) {
    // The identity the restored manifest asks for (root when it sets none: kubeadm's images run as root).
    const uid = runsAsUid(parsePod(r.text, r.path)) ?? 0;
    const started = Date.now();
    o.events({ type: 'gate', component: r.component, status: 'waiting', detail: `restored; waiting for the kubelet to restart ${r.component} as uid ${uid}`, elapsedMs: 0 });
    try {
      const detail = await waitHealthy({ component: r.component, manifestPath: r.path, manifestText: r.text, uid, before: r.before, writtenAt: r.at, timeoutMs: o.timeoutMs, proc: o.proc, signal, onProgress: (last) => o.events({ type: 'gate', component: r.component, status: 'waiting', detail: last, elapsedMs: Date.now() - started }) });
      o.events({ type: 'gate', component: r.component, status: 'healthy', detail });
    } catch (e) {
      // Every change was undone; only its health is unknown. Not a rollback failure.
      res.unconfirmed.push({ component: r.component, reason: errorMessage(e), check: `crictl ps -a --name ${r.component}; journalctl -u kubelet` });
      o.events({ type: 'gate', component: r.component, status: 'unconfirmed', detail: errorMessage(e) });
    }
  }
  if (res.failures.length) res.manualSteps.push(`then run: ${rollbackCommandLine(o.root)} (it resumes from the journal in ${o.backupDir})`);
  await record({ t: 'rollback-done', at: o.now().toISOString(), failures: res.failures });
  return res;
}
