// Minimal terminal styling. Color only when asked for and the stream is a TTY; NO_COLOR
// (https://no-color.org) and --no-color turn it off.
export interface Style {
  add(s: string): string;
  change(s: string): string;
  remove(s: string): string;
  bad(s: string): string;
  warn(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const wrap = (on: string, off: string) => (s: string) => `\x1b[${on}m${s}\x1b[${off}m`;

export function makeStyle(color: boolean): Style {
  if (!color) {
    const id = (s: string) => s;
    return { add: id, change: id, remove: id, bad: id, warn: id, dim: id, bold: id };
  }
  return { add: wrap('32', '39'), change: wrap('33', '39'), remove: wrap('31', '39'), bad: wrap('31', '39'), warn: wrap('33', '39'), dim: wrap('2', '22'), bold: wrap('1', '22') };
}

export function wantColor(flag: boolean, stream: { isTTY?: boolean }): boolean {
  return flag && stream.isTTY === true && !process.env.NO_COLOR;
}
