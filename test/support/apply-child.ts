// A child process for the crash tests: runs an apply or a rollback on a sandbox root through the CLI's
// own command functions (runApply, runRollback: lock, config, discover, plan, run; saying yes, no
// progress display, no signal handling), and SIGKILLs itself right after the Nth durable journal
// record, through the runner's afterRecord hook (src/apply/run.ts) — a kill at a known instant, with no
// test-only switch in the product. SIGKILL cannot be caught: no finally block, no lock release, no
// rollback runs, exactly as with a power cut or the OOM killer.
//
//   node dist/test/support/apply-child.js ROOT apply N      fresh apply (the root must have no unfinished run)
//   node dist/test/support/apply-child.js ROOT rollback N   roll back the latest run not yet rolled back
//
// N = 0 never kills. If the run ends before the Nth record, the child prints {"records": count} on
// stdout and exits 0, so the caller can tell "killed" (signal SIGKILL) from "finished early".
//
// Kills INSIDE a step, whatever the step's implementation (test/integration/crash.test.ts):
//   ROOT apply-announce     never kills itself: writes "record N" on stdout (synchronously) after each
//                           durable record, so the PARENT can SIGKILL it at a chosen time into a step
//                           (e.g. while a large data dir is being re-owned);
//   ROOT apply-rename K     SIGKILLs itself at the start of the Kth rename(2) of the run — the instant
//                           between a temp file's fchown/fchmod/fsync and its rename over the target
//                           (an atomic publish). Node's rename functions are wrapped in this process
//                           only (module.syncBuiltinESMExports makes ES-module imports see the wrapper).
//                           The summary line also counts the renames: {"records": n, "renames": r}.
//   ROOT apply-orphan N     after the Nth durable record, the next program the run starts (e.g. the chown
//                           of a tree step) is stopped (SIGSTOP) at once and left behind: the child
//                           writes "orphan PID" on stdout (synchronously) and SIGKILLs itself. Node's
//                           spawn is wrapped as rename is above. The stopped program is what a run
//                           killed mid-step leaves running (children run in their own session,
//                           src/exec.ts), frozen so that the caller decides when it goes on (SIGCONT).
//   ROOT apply-fill N DIR   fills the filesystem of DIR (a file DIR/.filler-mid written until ENOSPC)
//                           right after the Nth durable record, and lets the run go on: the next write
//                           that needs space fails as on a disk someone else filled. The error's class
//                           name is printed: "apply-child: RolledBackError: …".
import childProcess from 'node:child_process';
import fs, { writeSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { runApply, type RunControl } from '../../src/commands/apply.js';
import { runRollback } from '../../src/commands/rollback.js';

async function main(): Promise<void> {
  // `node --test dist/test/` (npm test) runs every .js file under a directory named test, this one
  // included, without arguments: then there is nothing to do, and it must not count as a failure.
  if (process.argv.length <= 2) return;
  const [root, how, nText = '0'] = process.argv.slice(2);
  const n = Number(nText);
  if (!root || !['apply', 'rollback', 'apply-announce', 'apply-rename', 'apply-orphan', 'apply-fill'].includes(how!) || !Number.isInteger(n) || n < 0) {
    throw new Error('usage: apply-child.js ROOT apply|rollback N | ROOT apply-announce | ROOT apply-rename K | ROOT apply-orphan N | ROOT apply-fill N DIR');
  }
  const fillDir = how === 'apply-fill' ? process.argv[5] : undefined;
  const mode = how === 'rollback' ? 'rollback' : 'apply';
  const killAfter = how === 'apply' || how === 'rollback' ? n : 0;
  let records = 0;
  const afterRecord = (): void => {
    records++;
    if (how === 'apply-announce') writeSync(1, `record ${records}\n`);
    if (records === killAfter) process.kill(process.pid, 'SIGKILL');
    if (fillDir && records === n) fillUp(fillDir);
  };
  let renames = 0;
  if (how === 'apply-rename') {
    const killAt = (): void => {
      if (++renames === n) process.kill(process.pid, 'SIGKILL');
    };
    const { rename } = fs.promises;
    const { rename: renameCb, renameSync } = fs;
    fs.promises.rename = (a, b) => (killAt(), rename(a, b));
    fs.rename = ((a: fs.PathLike, b: fs.PathLike, cb: fs.NoParamCallback) => (killAt(), renameCb(a, b, cb))) as typeof fs.rename;
    fs.renameSync = (a, b) => (killAt(), renameSync(a, b));
    syncBuiltinESMExports();
  }
  if (how === 'apply-orphan') {
    const { spawn } = childProcess;
    childProcess.spawn = ((...args: Parameters<typeof spawn>) => {
      const started = spawn(...args);
      if (records >= n && started.pid !== undefined) {
        process.kill(started.pid, 'SIGSTOP');
        writeSync(1, `orphan ${started.pid}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
      return started;
    }) as typeof spawn;
    syncBuiltinESMExports();
  }
  // The operator says yes; the run gets no signal and shows no progress.
  const hooks = {
    note: (m: string) => process.stderr.write(`${m}\n`),
    confirm: async () => true,
    run: <T>(_ready: unknown, change: (control: RunControl) => Promise<T>) => change({ signal: new AbortController().signal, events: () => undefined }),
  };
  const common = { root, wait: false, timeoutMs: 1000, proc: '/proc', afterRecord };
  if (mode === 'apply') {
    const out = await runApply({ ...common, verb: 'apply', config: null, dryRun: false, grants: [] }, hooks);
    if (out.outcome === 'blocked') throw new Error(`plan blocked: ${out.plan.problems.map((p) => p.code).join(', ')}`);
  } else {
    const out = await runRollback({ ...common, keepAccounts: false }, hooks);
    if (out.outcome === 'nothing-to-do') throw new Error('nothing to roll back');
  }
  process.stdout.write(JSON.stringify({ records, renames }) + '\n');
}

/** Write DIR/.filler-mid until the filesystem refuses (ENOSPC): nothing is left for anyone. */
function fillUp(dir: string): void {
  const fd = fs.openSync(`${dir}/.filler-mid`, 'a');
  const chunk = Buffer.alloc(4096);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
}

main().catch((e) => {
  process.stderr.write(`apply-child: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
  process.exitCode = 1;
});
