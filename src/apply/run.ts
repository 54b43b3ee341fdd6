// The apply runner: journal → steps → health gates, with automatic rollback on any failure, timeout
// or signal. Both the cause and any rollback failure reach the caller — never one swallowed by the
// other (kubeadm's rollbackOldManifests dropped its errs in several versions: cmd/kubeadm/app/phases/upgrade/staticpods.go).
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorMessage, isOutOfSpace, RefusedError, RollbackFailedError, RolledBackError } from '../errors.js';
import type { Component } from '../model/components.js';
import { hasChanges } from '../plan/summary.js';
import { PLAN_KIND, type Plan } from '../plan/types.js';
import { shadowUtils, type AccountTools } from './accounts.js';
import { confinedHostPath, safeHostPath } from '../paths.js';
import { syncDir, writeDurable } from '../fs/atomic.js';
import { xattrToolsMissing } from '../fs/xattr.js';
import { chownTree } from './fsops.js';
import { pidsOf, waitHealthy, type GateSpec } from './gates.js';
import { Journal } from '../state/journal.js';
import { isOwnTempFor } from '../state/journal-check.js';
import { rollbackJournal } from './rollback.js';
import { rollbackCommandLine } from './rollback-hint.js';
import { backupDir as backupDirOf, backupId, STATE_DIR } from '../state/locations.js';
import { buildSteps, type Step } from './steps.js';
import { checkFreeSpace, ROLLBACK_RESERVE_BYTES, ROLLBACK_RESERVE_FILE } from './space.js';
import { VERSION } from '../version.js';
import { nextRecord, operatorName, parseRecord, readRecordText, recordHostPath, writeRecord, type RecordInputs } from '../state/record.js';

export type ApplyEvent =
  | { type: 'begin'; backupId: string; resumed: boolean }
  /** `running` as a step starts (a recursive chown may take minutes), then `done` or `skipped`. */
  | { type: 'step'; title: string; status: 'running' | 'done' | 'skipped' }
  /** A health gate: `waiting` repeats with the elapsed time and the last observation while it waits. */
  | { type: 'gate'; component: Component; status: 'waiting' | 'healthy' | 'skipped' | 'unconfirmed'; detail: string; elapsedMs?: number }
  | { type: 'rollback'; title: string; status: 'running' | 'undone' | 'failed'; detail?: string }
  | { type: 'warn'; message: string };

export interface RunOptions {
  root: string;
  /** Wait for health gates after each component (false with --no-wait). */
  wait: boolean;
  timeoutMs: number;
  proc: string;
  signal: AbortSignal;
  /** Aborted: the rollback after a failure stops waiting for restored components' health (a second Ctrl-C). */
  gateSignal?: AbortSignal;
  now: () => Date;
  events: (e: ApplyEvent) => void;
  tools?: AccountTools;
  /**
   * What the migration record is made from (src/state/record.ts): written, journaled, as the run's last
   * change before it commits. Absent: the record is left alone.
   */
  record?: RecordInputs;
  /** Test hook: called after each journal record is written (durable, or made durable by the next one: src/state/journal.ts); used to kill the process at every point. */
  afterRecord?: () => Promise<void> | void;
}

export interface ApplyResult {
  outcome: 'applied' | 'nothing-to-do';
  backupId: string | null;
  steps: Array<{ title: string; status: 'done' | 'skipped' }>;
  gates: Array<{ component: Component; detail: string }>;
}

/** Apply a plan, or continue an unfinished run (`resume`), so that rollback still restores the true original state. */
export async function applyPlan(plan: Plan, o: RunOptions, resume?: { id: string; journal: Journal }): Promise<ApplyResult> {
  const result: ApplyResult = { outcome: 'nothing-to-do', backupId: resume?.id ?? null, steps: [], gates: [] };
  if (!hasChanges(plan) && !resume) return result;
  const tools = o.tools ?? shadowUtils(o.root);
  const missing = await xattrToolsMissing();
  if (missing) throw new RefusedError(`${missing}; nothing was changed`);
  const id = resume?.id ?? backupId(o.now());
  const dir = backupDirOf(o.root, id);
  let journal: Journal;
  if (resume) {
    journal = resume.journal;
    await journal.record({ t: 'resume', at: o.now().toISOString(), pid: process.pid });
    // A step killed between its temp file's fchown/fsync and the rename leaves the temp file behind; this
    // run redoes the step with a new one, so the old one would be left forever (a copy of a secret).
    // (Found next to the target under THIS root: the recorded host path is wrong if the root moved.)
    for (const { done, undo: u } of journal.intents()) {
      // Only the tool's own temp name for that very file (the journal is input: src/state/journal-check.ts).
      if (!done && u && 'temp' in u && u.temp && isOwnTempFor(u.path, u.temp)) await rm(join(safeHostPath(o.root, dirname(u.path)), basename(u.temp)), { force: true });
    }
  } else {
    await checkFreeSpace(plan, o.root);
    journal = await beginRun(plan, dir, o);
  }
  await o.afterRecord?.();
  result.backupId = id;
  o.events({ type: 'begin', backupId: id, resumed: !!resume });
  const seq0 = journal.intents().length;
  const steps = buildSteps(plan);
  try {
    for (const [i, step] of steps.entries()) {
      if (o.signal.aborted) throw new Error(`interrupted (${String(o.signal.reason ?? 'signal')})`);
      await runStep(step, `${seq0 + i + 1}:${step.id}`, plan, journal, dir, tools, o, result);
    }
    if (resume && o.wait) await gateEarlierManifests(plan, journal, o, result);
    if (o.record) await writeRecordStep(o.record, `${seq0 + steps.length + 1}:record`, id, journal, dir, o);
    await journal.record({ t: 'commit', at: o.now().toISOString() });
    result.outcome = 'applied';
    return result;
  } catch (cause) {
    const why = errorMessage(cause);
    let rb: Awaited<ReturnType<typeof rollbackJournal>>;
    try {
      rb = await rollbackJournal(journal, { ...o, backupDir: dir, tools, reason: why });
    } catch (e) {
      rb = { undone: 0, failures: [`rollback stopped: ${errorMessage(e)}`], manualSteps: [`${rollbackCommandLine(o.root)} (it resumes from the journal in ${dir})`], warnings: [], unconfirmed: [] };
    }
    if (rb.failures.length > 0) {
      throw new RollbackFailedError(`apply failed: ${why}; rollback failed too`, rb.failures, rb.manualSteps);
    }
    const health = rb.unconfirmed.length ? `; restored, health unconfirmed: ${rb.unconfirmed.map((u) => u.component).join(', ')}` : '';
    throw new RolledBackError(`apply failed and was rolled back (backup ${id}): ${why}${health}`, cause, rb.unconfirmed);
  }
}

/**
 * Create the run's backup directory with its plan, the reserve for its rollback and the journal's begin
 * record. Nothing on the node has changed yet: when this fails (a full disk the preflight could not
 * foresee), what it created is removed again and a full disk is a refusal (exit 2), not a failure.
 */
async function beginRun(plan: Plan, dir: string, o: RunOptions): Promise<Journal> {
  // mkdir -p gives EVERY directory it creates the mode: parents that do not exist yet (/var/lib on a
  // bare root) must stay traversable (0755) for everyone else; only the tool's own state is 0700.
  const stateParent = dirname(confinedHostPath(o.root, STATE_DIR));
  const created = [await mkdir(stateParent, { recursive: true, mode: 0o755 }), await mkdir(dir, { recursive: true, mode: 0o700 })];
  try {
    await writeDurable(join(dir, 'plan.json'), JSON.stringify(plan, null, 2) + '\n');
    await writeDurable(join(dir, ROLLBACK_RESERVE_FILE), Buffer.alloc(ROLLBACK_RESERVE_BYTES));
    await syncDir(dirname(dir)); // the backup directory's own entry
    const journal = await Journal.create(dir);
    await journal.record({ t: 'begin', op: plan.kind === PLAN_KIND ? 'apply' : 'revert', at: o.now().toISOString(), pid: process.pid, fingerprint: plan.fingerprint, tool: VERSION });
    return journal;
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    for (const first of created.reverse()) if (first) await removeEmptyUpTo(dirname(dir), first);
    if (isOutOfSpace(e)) throw new RefusedError(`no space left to record the run in ${dirname(dir)} (${errorMessage(e)}); nothing was changed. Free some space there and run again`);
    throw e;
  }
}

/** rmdir `deepest` and its parents up to and including `top` (the first directory mkdir -p created), while empty. */
async function removeEmptyUpTo(deepest: string, top: string): Promise<void> {
  for (let d = deepest; d.startsWith(top); d = dirname(d)) {
    const gone = await rmdir(d).then(
      () => true,
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
    );
    if (!gone || d === top) return;
  }
}

async function runStep(step: Step, jid: string, plan: Plan, journal: Journal, dir: string, tools: AccountTools, o: RunOptions, result: ApplyResult): Promise<void> {
  const isManifest = step.phase !== 'accounts' && step.phase !== 'files';
  const component = isManifest ? (step.phase as Component) : null;
  const manifest = component ? plan.manifests.find((m) => m.component === component)! : null;
  const before = manifest && o.wait ? await pidsOf(component!, manifest.after, manifest.path, o.proc) : new Set<number>();
  const prepared = await step.prepare({ root: o.root, backupDir: dir, tools, warn: (message) => o.events({ type: 'warn', message }) });
  if (!prepared) {
    result.steps.push({ title: step.title, status: 'skipped' });
    o.events({ type: 'step', title: step.title, status: 'skipped' });
    return;
  }
  await journal.record({ t: 'intent', step: jid, title: step.title, undo: prepared.undo, at: Date.now() });
  await o.afterRecord?.();
  o.events({ type: 'step', title: step.title, status: 'running' });
  await prepared.run();
  const writtenAt = Date.now();
  await journal.record({ t: 'done', step: jid, at: writtenAt });
  await o.afterRecord?.();
  result.steps.push({ title: step.title, status: 'done' });
  o.events({ type: 'step', title: step.title, status: 'done' });
  if (!component || !manifest) return;
  if (!o.wait) {
    o.events({ type: 'gate', component, status: 'skipped', detail: '--no-wait' });
    return;
  }
  const identity = plan.components.find((c) => c.component === component)?.identity;
  // Only when migrating: the tree step ran (and was journaled) before this manifest; a revert changes files after.
  const writeDirs = plan.kind !== PLAN_KIND ? [] : plan.files.filter((f) => f.access === 'write' && f.readers.includes(component) && f.action !== 'create-directory');
  const onOldGone = writeDirs.length
    ? async () => {
        for (const f of writeDirs) await chownTree(o.root, f.path, null, [f.desired.uid, f.desired.gid], { skipUnsafe: true });
      }
    : undefined;
  // userNamespaces only: no identity; the image's user, root inside the pod's own user namespace.
  const userNamespace = plan.userNamespaces !== undefined && plan.kind === PLAN_KIND;
  await gate(`waiting for the kubelet to restart ${component} as uid ${identity?.uid ?? 0}${userNamespace ? ' in a user namespace' : ''}`, { component, manifestPath: manifest.path, manifestText: manifest.after, uid: identity?.uid ?? 0, gid: identity?.gid ?? 0, userNamespace, before, writtenAt, onOldGone }, journal, o, result);
}

/**
 * The migration record, written as a journaled change like any other: the previous record is saved in
 * the backup dir first, so a rollback of this run (asked for, or after a crash before the commit) puts
 * it back. Last before the commit: a record never says "migrated" for a run that did not finish.
 */
async function writeRecordStep(input: RecordInputs, jid: string, runId: string, journal: Journal, dir: string, o: RunOptions): Promise<void> {
  const previousText = readRecordText(o.root);
  const previous = previousText === null ? null : parseRecord(previousText, recordHostPath(o.root));
  const next = nextRecord(input, previous, { runId, at: o.now(), by: operatorName(), toolVersion: VERSION });
  if (!next) return;
  const saved = previousText === null ? null : `record.${jid.split(':')[0]}.json`;
  if (saved !== null) await writeDurable(join(dir, saved), previousText!);
  await journal.record({ t: 'intent', step: jid, title: 'write the migration record', undo: { kind: 'restore-record', runId, saved }, at: Date.now() });
  await o.afterRecord?.();
  await writeRecord(o.root, next);
  await journal.record({ t: 'done', step: jid, at: Date.now() });
  await o.afterRecord?.();
}

/** Wait for a component's health gate, showing progress, and record it (journal, result, events). */
async function gate(waiting: string, g: Omit<GateSpec, 'timeoutMs' | 'proc' | 'signal' | 'onProgress'>, journal: Journal, o: RunOptions, result: ApplyResult): Promise<void> {
  const { component } = g;
  o.events({ type: 'gate', component, status: 'waiting', detail: waiting, elapsedMs: 0 });
  const started = Date.now();
  const onProgress = (last: string) => o.events({ type: 'gate', component, status: 'waiting', detail: last, elapsedMs: Date.now() - started });
  const detail = await waitHealthy({ ...g, timeoutMs: o.timeoutMs, proc: o.proc, signal: o.signal, onProgress });
  await journal.record({ t: 'gate', component, ok: true, detail });
  result.gates.push({ component, detail });
  o.events({ type: 'gate', component, status: 'healthy', detail });
}

/**
 * A resumed run does not rewrite the manifests the interrupted run wrote already (they are as planned),
 * so their steps are skipped — but their health gates may never have passed. Gate every component whose
 * manifest this run's journal wrote and for which no gate succeeded.
 */
async function gateEarlierManifests(plan: Plan, journal: Journal, o: RunOptions, result: ApplyResult): Promise<void> {
  const gated = new Set(journal.entries.flatMap((r) => (r.t === 'gate' && r.ok ? [r.component] : [])));
  const doneAt = new Map(journal.entries.flatMap((r) => (r.t === 'done' ? [[r.step, r.at] as const] : [])));
  for (const i of journal.intents()) {
    const undo = i.undo;
    if (undo?.kind !== 'restore-manifest') continue;
    const c = plan.components.find((x) => x.manifest === undo.path);
    const userNamespace = plan.userNamespaces !== undefined && plan.kind === PLAN_KIND;
    // userNamespaces only plans no identity: the image's user, root inside the pod's namespace.
    const id = c?.identity ?? (userNamespace && c?.migrate ? { uid: 0, gid: 0 } : null);
    if (!c || !id || gated.has(c.component)) continue;
    const text = await readFile(safeHostPath(o.root, c.manifest), 'utf8');
    await gate(`written by the interrupted run; waiting for ${c.component} to run as uid ${id.uid}`, { component: c.component, manifestPath: c.manifest, manifestText: text, uid: id.uid, gid: id.gid, userNamespace, before: new Set(), writtenAt: doneAt.get(i.step) ?? 0 }, journal, o, result);
    gated.add(c.component);
  }
}
