// Unified diff of two texts, in the format of GNU `diff -u` with --label (no timestamps): what `plan`
// shows for every manifest edit. The line matching is the `diff` package's (jsdiff: Myers' O(ND)
// algorithm); only the output is formatted here, in GNU's notation (a hunk range count of 1 is left
// out), so a plan's diff reads like the `diff -u` an operator would run. Where a minimal diff is not
// unique (an inserted copy of a repeated line) jsdiff may place the change on another of the equal
// lines than GNU diff does; both are valid unified diffs of the same texts.
import { structuredPatch } from 'diff';

export function unifiedDiff(before: string, after: string, oldName: string, newName: string, context = 3): string {
  if (before === after) return '';
  const { hunks } = structuredPatch(oldName, newName, before, after, undefined, undefined, { context });
  if (hunks.length === 0) return '';
  const body = hunks.map((h) => `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@\n${h.lines.map((l) => `${l}\n`).join('')}`);
  return `--- ${oldName}\n+++ ${newName}\n${body.join('')}`;
}

/** GNU's range notation: "start,count", the count left out when it is 1, and an empty range named by the line before it. */
function range(start: number, count: number): string {
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}
