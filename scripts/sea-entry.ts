// Entry of the single executable (SEA). scripts/build-sea.ts bundles it with esbuild into ONE CommonJS
// file: Node's SEA runs its main script as CommonJS (no ESM entry, no top-level await; cli-stack.md §4),
// and inside a SEA `require()` reaches only built-in modules, so every import below must be bundled.
//
// NODE_OPTIONS. The executable runs as root. A NODE_OPTIONS left in an operator's shell, kept by sudo's
// env_keep, or set for other Node tools by a CI runner or Ansible's `environment:` would otherwise apply
// to it: "--require x.js" runs x.js as root before this file, "--inspect" opens a debugger port that
// runs code as root (measured on Node 20 in cli-stack.md §4: a preload ran inside the SEA). Two layers:
//   1. the SEA config sets "execArgvExtension": "none" (Node >= 22.20, nodejs/node#59560), so the
//      embedded Node ignores NODE_OPTIONS at startup. Only this layer can stop a preload: by the time
//      any JavaScript here runs, a preload would already have run;
//   2. the first statement below removes it from the environment, so no child process (useradd,
//      groupadd, an operator's hook, a future `node` child) inherits it.
delete process.env.NODE_OPTIONS;

// Replaced by esbuild `define` at build time (scripts/build-sea.ts); absent when this file runs unbundled.
declare const __KUBEADM_NONROOT_COMMIT__: string | undefined;
const COMMIT = typeof __KUBEADM_NONROOT_COMMIT__ === 'string' ? __KUBEADM_NONROOT_COMMIT__ : 'unknown';

/**
 * What `--version` prints in the executable: the tool version first (so `cut -d' ' -f1` still gives it),
 * then the embedded Node and the commit it was built from — what an operator needs to tell two
 * executables with the same tool version apart, or to check the Node inside for a security release.
 */
function seaVersionText(toolVersion: string): string {
  return `${toolVersion} (node ${process.version} linux-${process.arch}, commit ${COMMIT})`;
}

async function start(): Promise<void> {
  // main.ts passes its VERSION to commander's Command#version(); wrapping that one public method here
  // changes what --version prints in the executable only, wherever commander accepts the flag, without
  // touching main.ts (`node bin/kubeadm-nonroot --version` keeps printing the bare version).
  const { Command } = await import('commander');
  const version = Command.prototype.version;
  Command.prototype.version = function (this: InstanceType<typeof Command>, str?: string, ...rest: unknown[]) {
    if (str === undefined) return (version as (this: unknown) => string | undefined).call(this);
    return (version as (this: unknown, ...a: unknown[]) => unknown).call(this, seaVersionText(str), ...rest);
  } as typeof version;
  // Imported after the setup above: main.js runs the CLI as soon as it is evaluated.
  await import('../src/cli/main.js');
}

start().catch((e: unknown) => {
  process.stderr.write(`kubeadm-nonroot: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
