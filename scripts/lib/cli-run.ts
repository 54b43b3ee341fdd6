// Run the real CLI (bin/kubeadm-nonroot) as a child process against a sandbox root, the way an operator
// or a script would: no stdin and no terminal (so confirmation prompts refuse unless --yes), stdout and
// stderr captured apart. Shared by scripts/ and the tests (which import it from here).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { chmod, chown, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor holding bin/kubeadm-nonroot (from dist/scripts/lib or scripts/lib). */
export const REPO = ((): string => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const found = [path.resolve(here, '../../..'), path.resolve(here, '../..')].find((d) => existsSync(path.join(d, 'bin/kubeadm-nonroot')));
  if (!found) throw new Error(`bin/kubeadm-nonroot not found above ${here}`);
  return found;
})();
/**
 * bin/kubeadm-nonroot runs the one-file bundle dist/cli/kubeadm-nonroot.cjs, which only `npm run build`
 * makes (tsc alone rebuilds dist/src, not the bundle): a test of the CLI against an older bundle would
 * judge code that is no longer there. Refused, naming the newer file and the fix.
 */
export function staleBundle(repo: string): string | null {
  const bundle = path.join(repo, 'dist/cli/kubeadm-nonroot.cjs');
  if (!existsSync(bundle)) return `${bundle} does not exist: run "npm run build --silent" before the tests`;
  const built = statSync(bundle).mtimeMs;
  const newer = [path.join(repo, 'src'), path.join(repo, 'dist/src')].flatMap((dir) => (existsSync(dir) ? filesBelow(dir) : [])).find((f) => statSync(f).mtimeMs > built);
  return newer ? `${bundle} is older than ${newer}: the CLI under test would be stale; run "npm run build --silent" (tsc alone does not rebuild the bundle)` : null;
}

function freshBundle(bin: string): string {
  const stale = staleBundle(REPO);
  if (stale) throw new Error(stale);
  return bin;
}

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesBelow(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

export const BIN = freshBundle(path.join(REPO, 'bin/kubeadm-nonroot'));

export interface CliResult {
  /** Exit code; null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The child was SIGKILLed by the timeout below, not by the test or the tool: a slow run, not a result. */
  timedOut?: boolean;
}

export interface RunOptions {
  /** Kill the child (SIGKILL) after this long; the test then fails on code null. Default 60 s. */
  timeoutMs?: number;
  /** Variables added to (or replacing) the child's environment. */
  env?: NodeJS.ProcessEnv;
}

/** Start a Node script with captured output and stdin from /dev/null (not a TTY). */
export function startNode(script: string, args: string[], o: RunOptions = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // NO_COLOR: text output is compared as text. LC_ALL=C: shadow-utils messages are not translated.
    env: { ...process.env, NO_COLOR: '1', LC_ALL: 'C', ...o.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, o.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ...(timedOut ? { timedOut } : {}) });
    });
  });
  return { child, done };
}

/** kubeadm-nonroot ARGS, started now; `done` resolves when it has exited. */
export function startCli(args: string[], o: RunOptions = {}): { child: ChildProcess; done: Promise<CliResult> } {
  return startNode(BIN, args, o);
}

/** kubeadm-nonroot ARGS, to completion. */
export function runCli(args: string[], o: RunOptions = {}): Promise<CliResult> {
  return startCli(args, o).done;
}

/** One line describing a result, for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal}${r.timedOut ? ", sent by the test's timeout: the run was slow, not wrong" : ''})` : ''}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`;
}

/**
 * /run and /var/lib exist on every real node (FHS; /run is a tmpfs since systemd); the sandbox builder
 * only creates the directories the manifests name. Add them, root 0755, so that the tool's lock and
 * state directories land in existing parents, as they would on a node.
 */
export async function addSystemDirs(root: string): Promise<void> {
  for (const rel of ['run', 'var', 'var/lib']) {
    const p = path.join(root, rel);
    try {
      await mkdir(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    await chmod(p, 0o755);
    await chown(p, 0, 0);
  }
}
