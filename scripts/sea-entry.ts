// Entry of the single executable (SEA). scripts/build-sea.ts bundles it with esbuild into ONE CommonJS
// file: Node's SEA runs its main script as CommonJS (no ESM entry, no top-level await; Node's doc/api/single-executable-applications.md),
// and inside a SEA `require()` reaches only built-in modules, so every import below must be bundled.
//
// NODE_OPTIONS. The executable runs as root. A NODE_OPTIONS left in an operator's shell, kept by sudo's
// env_keep, or set for other Node tools by a CI runner or Ansible's `environment:` would otherwise apply
// to it: "--require x.js" runs x.js as root before this file, "--inspect" opens a debugger port that
// runs code as root (measured on Node 20: a preload ran inside the SEA). Two layers:
//   1. the SEA config sets "execArgvExtension": "none" (Node >= 22.20, nodejs/node#59560), so the
//      embedded Node ignores NODE_OPTIONS at startup. Only this layer can stop a preload: by the time
//      any JavaScript here runs, a preload would already have run;
//   2. the first statement below removes it from the environment, so no child process (useradd,
//      groupadd, an operator's hook, a future `node` child) inherits it.
delete process.env.NODE_OPTIONS;

// --version text (embedded Node, commit) comes from src/version.ts, whose commit constant the build
// defines. Imported dynamically so the deletion above runs first: main.js runs the CLI when evaluated.
import('../src/cli/main.js').catch((e: unknown) => {
  process.stderr.write(`kubeadm-nonroot: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
