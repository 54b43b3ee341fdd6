// Command-line flags of a control-plane container, read the way the components' flag parser
// (spf13/pflag) reads them. kubeadm always writes `--name=value`, one list item per flag
// (cmd/kubeadm/app/util/arguments.go ArgumentsToCommand). With the v1beta4 config (kubeadm 1.31+)
// extraArgs is a name/value LIST, so a flag can appear more than once (kubeadm v1beta4 Arg type):
// keep every occurrence, in order, instead of folding them into a map.
import type { Flag } from './pod.types.js';

/**
 * Every `--name=value` or bare `--name` item of argv, in order, repeats included.
 * argv[0] (the binary) and any item not starting with `--` are skipped; a bare flag does not consume
 * the next item (kubeadm never writes `--name value`). A lone `--` ends flag parsing, as in pflag.
 */
export function parseFlags(argv: readonly string[]): Flag[] {
  const flags: Flag[] = [];
  for (let index = 0; index < argv.length; index++) {
    const item = argv[index];
    if (item === '--') break;
    if (!item.startsWith('--') || item.length === 2) continue;
    const eq = item.indexOf('=');
    flags.push(
      eq === -1
        ? { name: item, value: null, index }
        : { name: item.slice(0, eq), value: item.slice(eq + 1), index },
    );
  }
  return flags;
}

/** Every value given to `name` ("--data-dir"), in argv order; a bare occurrence counts as "". */
export function flagValues(flags: readonly Flag[], name: string): string[] {
  return flags.filter((f) => f.name === name).map((f) => f.value ?? '');
}

/**
 * The effective value of a single-valued flag: the LAST occurrence wins, as pflag's Set overwrites
 * a string/int flag each time it is given. null when the flag is absent; "" for a bare `--name`.
 */
export function lastFlag(flags: readonly Flag[], name: string): string | null {
  for (let i = flags.length - 1; i >= 0; i--) {
    if (flags[i].name === name) return flags[i].value ?? '';
  }
  return null;
}
