// A TEST DOUBLE for the kubelet's static-pod handling. No kubelet or container runtime runs on the
// machines the tests run on (developers' and CI's), so this stands in for them, just far enough to
// prove a migration end to end: it watches a sandbox's manifests directory and runs each pod's command
// as a plain process with the identity and privileges the pod's securityContext asks for (setpriv.ts).
//
// What it copies from the kubelet (pkg/kubelet/config/file.go, pkg/kubelet/kuberuntime):
//   - polls the directory (the kubelet's file source re-lists it every 20 s and on inotify; here every
//     200 ms) and ignores dotfiles and directories, so a tool's ".name.tmp" is never run;
//   - a changed manifest replaces the pod: SIGTERM, wait for it to exit (SIGKILL after a grace period),
//     start anew; a removed manifest stops the pod; an invalid one is not run (and stops its old pod);
//   - a process that exits is restarted after a back-off that doubles (CrashLoopBackOff: the kubelet
//     starts at 10 s and caps at 5 min; here 0.5 s and 5 s, so a test does not wait minutes), reset once
//     a run lasted 10 s.
// What differs, on purpose:
//   - only pods whose binary (basename of command[0]) is on PATH run — on the test machines that is
//     etcd — the others are reported as not runnable, so a sandbox may hold just etcd.yaml;
//   - path-valued arguments are rewritten to the sandbox: a container path is mapped to its HOST path
//     through the pod's volumeMounts and hostPath volumes (pod-reading.ts: the runner's own reading of
//     the pod, NOT the tool's parsePod/mapToHost, so that a mistake there cannot hide here), then
//     prefixed with the sandbox root. "--data-dir=/var/lib/etcd" with the etcd-data
//     volume at /var/lib/etcd becomes "--data-dir=<root>/var/lib/etcd". A path under no hostPath mount
//     would be inside the image; it is left as it is and logged. Only values starting with "/" are
//     touched, so URLs, names and numbers stay verbatim — which is what the tool's health gate matches;
//   - the process gets a minimal environment (PATH only: the test's ETCD_* variables must not leak in)
//     and the sandbox root as its working directory; no namespaces, cgroups or seccomp (setpriv.ts);
//   - no probes: the runner never kills a pod for failing its liveness probe (the gate probes itself).
// Each pod runs in its own process group (detached), so stop() can kill everything it started, and a
// process 'exit' hook SIGKILLs any group still alive if the test process ends without calling stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, appendFileSync, closeSync, constants, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hostPathOf, readPod, type PodReading } from '../../scripts/lib/pod-reading.js';
import { privilegesOf, setprivArgs, SETPRIV, type Privileges } from './setpriv.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunnerOptions {
  /** Host path of the sandbox root. */
  root: string;
  /** NODE path of the static-pod directory (default /etc/kubernetes/manifests). */
  manifestsDir?: string;
  /** Host path of the log file that gets the pods' stdout/stderr and the runner's own events (default: a new temp file). */
  log?: string;
  pollMs?: number;
  /** Restart back-off after an exit: first delay and cap, ms (default 500 / 5000). */
  backoff?: { initialMs: number; maxMs: number };
  /** Grace period between SIGTERM and SIGKILL when stopping a pod, ms (default 10000). */
  graceMs?: number;
  /** PATH used to find pod binaries and given to the pods (default this process's PATH). */
  path?: string;
}

export type PodState = 'starting' | 'running' | 'backoff' | 'not-runnable' | 'invalid';

export interface PodStatus {
  /** File name in the manifests dir, e.g. "etcd.yaml". */
  file: string;
  /** metadata.name, or "" when the manifest does not parse. */
  name: string;
  state: PodState;
  /** PID of the running process (setpriv execs the pod's binary in place, so it is the binary's PID). */
  pid: number | null;
  /** How many times the process was started for this manifest content. */
  starts: number;
  /** The command as run (paths rewritten to the sandbox), or [] when it does not run. */
  argv: string[];
  /** What it runs as, or null when it does not run. */
  privileges: Privileges | null;
  /** Why it does not run, or how the last run ended. */
  reason: string | null;
}

export interface Runner {
  /** Host path of the log. */
  logPath: string;
  /** The log's text (pods' output and runner events), for printing when a test fails. */
  readLog(): string;
  pods(): PodStatus[];
  /** Resolves with the first status of `file` for which `pred` holds; rejects after timeoutMs with the log's tail. */
  waitFor(file: string, pred: (p: PodStatus) => boolean, timeoutMs: number, what: string): Promise<PodStatus>;
  /** Stop every pod (SIGTERM, then SIGKILL after the grace period) and stop watching. */
  stop(): Promise<void>;
}

/** Absolute path of `binary`'s basename on `searchPath`, executable, or null. */
export function findOnPath(binary: string, searchPath: string): string | null {
  const base = path.posix.basename(binary);
  if (!base) return null;
  for (const dir of searchPath.split(':').filter(Boolean)) {
    const candidate = path.join(dir, base);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** One container path → host path inside the sandbox, or null when no hostPath volume carries it. */
function sandboxPath(pod: PodReading, root: string, containerPath: string): string | null {
  const mapped = hostPathOf(pod, containerPath);
  return mapped === null ? null : path.join(root, mapped);
}

/**
 * The pod's argv with every absolute path (a bare argument, a `--flag=value` value, or an element of a
 * comma-separated value) mapped to the sandbox; unmapped paths are returned so the caller can log them.
 */
export function sandboxArgv(pod: PodReading, root: string): { argv: string[]; unmapped: string[] } {
  const unmapped: string[] = [];
  const mapValue = (value: string): string =>
    value
      .split(',')
      .map((element) => {
        if (!element.startsWith('/') || element.startsWith('//')) return element;
        const host = sandboxPath(pod, root, element);
        if (host === null) unmapped.push(element);
        return host ?? element;
      })
      .join(',');
  const argv = pod.argv.map((arg, i) => {
    if (i === 0) return arg;
    const m = /^(--?[^=]+=)(.*)$/s.exec(arg);
    return m ? m[1] + mapValue(m[2]) : mapValue(arg);
  });
  return { argv, unmapped };
}

interface Entry {
  file: string;
  text: string;
  status: PodStatus;
  child: ChildProcess | null;
  /** The binary and arguments to exec (argv[0] the resolved binary). */
  exec: string[] | null;
  timer: NodeJS.Timeout | null;
  startedAt: number;
  backoffMs: number;
  /** Set once the runner decided to stop this entry: its exits are no longer restarted. */
  retired: boolean;
}

export function startRunner(o: RunnerOptions): Runner {
  const manifestsHost = path.join(o.root, o.manifestsDir ?? '/etc/kubernetes/manifests');
  const logPath = o.log ?? path.join(mkdtempSync(path.join(tmpdir(), 'kubeadm-nonroot-runner-')), 'pods.log');
  const logFd = openSync(logPath, 'a', 0o600);
  const pollMs = o.pollMs ?? 200;
  const backoff = o.backoff ?? { initialMs: 500, maxMs: 5000 };
  const graceMs = o.graceMs ?? 10_000;
  const searchPath = o.path ?? process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';
  const entries = new Map<string, Entry>();
  let stopped = false;
  let loop: NodeJS.Timeout | null = null;
  let ticking: Promise<void> = Promise.resolve();

  const note = (msg: string): void => {
    appendFileSync(logFd, `[runner ${new Date().toISOString()}] ${msg}\n`);
  };

  // Last resort when the test process ends without stop(): no etcd may outlive the tests.
  const killAllSync = (): void => {
    for (const e of entries.values()) {
      const pid = e.child?.pid;
      if (pid && e.child!.exitCode === null && e.child!.signalCode === null) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  };
  process.on('exit', killAllSync);

  function launch(e: Entry): void {
    if (stopped || e.retired || !e.exec || !e.status.privileges) return;
    e.timer = null;
    const args = [...setprivArgs(e.status.privileges), '--', ...e.exec];
    const child = spawn(SETPRIV, args, {
      cwd: o.root,
      env: { PATH: searchPath, ...(process.arch === 'arm64' ? { ETCD_UNSUPPORTED_ARCH: 'arm64' } : {}) },
      stdio: ['ignore', logFd, logFd],
      detached: true, // its own process group: stop() signals the whole group
    });
    e.child = child;
    e.startedAt = Date.now();
    e.status.starts++;
    e.status.state = 'starting';
    e.status.pid = child.pid ?? null;
    e.status.reason = null;
    note(`${e.file}: started pid ${child.pid} as uid ${e.status.privileges.uid} gid ${e.status.privileges.gid}: setpriv ${args.join(' ')}`);
    // setpriv execs the binary in place; once /proc shows it, the pod is running.
    const markRunning = setInterval(() => {
      if (e.child !== child || child.exitCode !== null || child.signalCode !== null) return clearInterval(markRunning);
      try {
        const cmd = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')[0];
        if (cmd === e.exec![0]) {
          e.status.state = 'running';
          clearInterval(markRunning);
        }
      } catch {
        clearInterval(markRunning);
      }
    }, 20);
    child.on('error', (err) => note(`${e.file}: could not start: ${err.message}`));
    child.on('exit', (code, signal) => {
      clearInterval(markRunning);
      if (e.child !== child) return;
      e.child = null;
      e.status.pid = null;
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      e.status.reason = how;
      note(`${e.file}: pid ${child.pid} ${how}`);
      if (e.retired || stopped) return;
      // CrashLoopBackOff: double the delay after each exit, unless the run was long enough to reset it.
      if (Date.now() - e.startedAt >= 10_000) e.backoffMs = backoff.initialMs;
      const delay = e.backoffMs;
      e.backoffMs = Math.min(e.backoffMs * 2, backoff.maxMs);
      e.status.state = 'backoff';
      note(`${e.file}: restarting in ${delay} ms`);
      e.timer = setTimeout(() => launch(e), delay);
    });
  }

  async function retire(e: Entry, why: string): Promise<void> {
    e.retired = true;
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    const child = e.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    note(`${e.file}: stopping pid ${child.pid} (${why})`);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const signalGroup = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* the group is gone */
      }
    };
    signalGroup('SIGTERM');
    const killer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
    await exited;
    clearTimeout(killer);
    // Anything the pod left in its group (it forked and the leader exited) goes too.
    signalGroup('SIGKILL');
  }

  function newEntry(file: string, text: string): Entry {
    const status: PodStatus = { file, name: '', state: 'invalid', pid: null, starts: 0, argv: [], privileges: null, reason: null };
    const e: Entry = { file, text, status, child: null, exec: null, timer: null, startedAt: 0, backoffMs: backoff.initialMs, retired: false };
    let pod: PodReading;
    try {
      pod = readPod(text);
      if (!pod.name) throw new Error('a static pod needs metadata.name');
    } catch (err) {
      status.reason = (err as Error).message;
      note(`${file}: not run: ${status.reason}`);
      return e;
    }
    status.name = pod.name;
    const binary = pod.argv[0] ? findOnPath(pod.argv[0], searchPath) : null;
    if (binary === null) {
      status.state = 'not-runnable';
      status.reason = pod.argv[0] ? `${path.posix.basename(pod.argv[0])} is not on PATH` : 'the container has no command';
      note(`${file}: not run: ${status.reason}`);
      return e;
    }
    const { argv, unmapped } = sandboxArgv(pod, o.root);
    if (unmapped.length) note(`${file}: left as they are (under no hostPath volume, i.e. inside the image): ${unmapped.join(', ')}`);
    e.exec = [binary, ...argv.slice(1)];
    status.argv = e.exec;
    status.privileges = privilegesOf(pod);
    return e;
  }

  async function sync(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(manifestsHost);
    } catch (err) {
      names = [];
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') note(`cannot list ${manifestsHost}: ${(err as Error).message}`);
    }
    const seen = new Set<string>();
    for (const file of names.sort()) {
      if (file.startsWith('.')) continue; // the kubelet ignores dotfiles (pkg/kubelet/config/file.go)
      let text: string;
      try {
        if (!(await stat(path.join(manifestsHost, file))).isFile()) continue;
        text = await readFile(path.join(manifestsHost, file), 'utf8');
      } catch {
        continue; // replaced or removed while we looked: the next poll sees the new state
      }
      seen.add(file);
      const old = entries.get(file);
      if (old && old.text === text) continue;
      if (old) await retire(old, 'its manifest changed');
      if (stopped) return;
      const e = newEntry(file, text);
      entries.set(file, e);
      if (old) note(`${file}: manifest changed; starting the new pod`);
      launch(e);
    }
    for (const [file, e] of entries) {
      if (seen.has(file)) continue;
      await retire(e, 'its manifest was removed');
      entries.delete(file);
    }
  }

  const schedule = (): void => {
    if (stopped) return;
    loop = setTimeout(() => {
      ticking = sync()
        .catch((err) => note(`sync failed: ${(err as Error).message}`))
        .finally(schedule);
    }, pollMs);
  };
  ticking = sync().catch((err) => note(`sync failed: ${(err as Error).message}`)).finally(schedule);

  const pods = (): PodStatus[] => [...entries.values()].map((e) => ({ ...e.status, argv: [...e.status.argv] }));

  return {
    logPath,
    readLog: () => readFileSync(logPath, 'utf8'),
    pods,
    async waitFor(file, pred, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const p = pods().find((x) => x.file === file);
        if (p && pred(p)) return p;
        if (Date.now() >= deadline) {
          const tail = readFileSync(logPath, 'utf8').split('\n').slice(-40).join('\n');
          throw new Error(`${file}: ${what} not seen within ${timeoutMs} ms (now ${JSON.stringify(p ?? null)}); log ${logPath} ends:\n${tail}`);
        }
        await sleep(50);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (loop) clearTimeout(loop);
      await ticking;
      await Promise.all([...entries.values()].map((e) => retire(e, 'runner stopped')));
      entries.clear();
      process.off('exit', killAllSync);
      note('stopped');
      closeSync(logFd);
    },
  };
}
