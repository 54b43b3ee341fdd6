// Unified diff of two texts, in the format of GNU `diff -u` (with --label, so no timestamps).
//
// The line matching is Myers' O(ND) algorithm ("An O(ND) Difference Algorithm and Its Variations",
// 1986). A minimal diff is often not unique (which of two equal lines was inserted?), so the change
// runs are then slid the way GNU diffutils does it (analyze.c, shift_boundaries): merge runs where
// possible, otherwise move each run as far down as it goes. That makes the output match
// `diff -u` on manifest edits, which the tests check against the real tool. On inputs full of
// repeated lines GNU diff may still pick other (sometimes longer) matches: it searches from both
// ends (diffseq.h) and drops "confusing" frequent lines first (analyze.c, discard_confusing_lines).
// This diff is always minimal, and always a valid unified diff.

/** A line and whether it ends with a newline: GNU diff treats "x" at EOF without one as a different line from "x\n". */
interface Line {
  text: string;
  eol: boolean;
}

export function unifiedDiff(before: string, after: string, oldName: string, newName: string, context = 3): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  const keyOf = internKeys();
  const ka = a.map(keyOf);
  const kb = b.map(keyOf);
  // GNU diff analyses only the differing middle plus `context` lines (its "horizon") of the identical
  // prefix and suffix (io.c, find_identical_ends), so a change run can slide at most that far into them.
  let prefix = 0;
  while (prefix < ka.length && prefix < kb.length && ka[prefix] === kb[prefix]) prefix++;
  let suffix = 0;
  while (suffix < ka.length - prefix && suffix < kb.length - prefix && ka[ka.length - 1 - suffix] === kb[kb.length - 1 - suffix]) suffix++;
  const from = Math.max(0, prefix - context);
  const cut = Math.max(0, suffix - context);
  const wa = ka.slice(from, ka.length - cut);
  const wb = kb.slice(from, kb.length - cut);
  const [wChangedA, wChangedB] = compare(wa, wb);
  shiftBoundaries(wa, wChangedA, wChangedB);
  shiftBoundaries(wb, wChangedB, wChangedA);
  const changedA = new Array<boolean>(ka.length).fill(false);
  const changedB = new Array<boolean>(kb.length).fill(false);
  wChangedA.forEach((c, i) => (changedA[from + i] = c));
  wChangedB.forEach((c, i) => (changedB[from + i] = c));
  const groups = changeGroups(changedA, changedB);
  if (groups.length === 0) return '';
  let out = `--- ${oldName}\n+++ ${newName}\n`;
  for (const hunk of hunks(groups, context)) out += renderHunk(hunk, a, b, context);
  return out;
}

function splitLines(text: string): Line[] {
  if (text === '') return [];
  const parts = text.split('\n');
  const lastHasEol = parts[parts.length - 1] === '';
  if (lastHasEol) parts.pop();
  return parts.map((t, i) => ({ text: t, eol: i < parts.length - 1 || lastHasEol }));
}

/** Map each distinct line (text + newline flag) to a small integer, so comparisons are cheap. */
function internKeys(): (l: Line) => number {
  const ids = new Map<string, number>();
  return (l) => {
    const k = (l.eol ? '1' : '0') + l.text;
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    return id;
  };
}

/**
 * Myers' greedy forward search over the lines between the common prefix and suffix, then a backtrack
 * through the saved frontiers; returns per-line "changed" flags. Memory is O(D²) for D differing lines
 * (only the live diagonals -d..d of each frontier are kept), which is nothing for manifests.
 */
function compare(a: number[], b: number[]): [boolean[], boolean[]] {
  const changedA = new Array<boolean>(a.length).fill(false);
  const changedB = new Array<boolean>(b.length).fill(false);
  let lo = 0;
  while (lo < a.length && lo < b.length && a[lo] === b[lo]) lo++;
  let hiA = a.length;
  let hiB = b.length;
  while (hiA > lo && hiB > lo && a[hiA - 1] === b[hiB - 1]) {
    hiA--;
    hiB--;
  }
  const n = hiA - lo;
  const m = hiB - lo;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  /** trace[d] holds diagonals -d..d of the frontier reached after d-1 edits. */
  const trace: Int32Array[] = [];
  const eq = (x: number, y: number) => a[lo + x] === b[lo + y];
  let done = max === 0;
  for (let d = 0; !done; d++) {
    trace.push(v.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && eq(x, y)) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        done = true;
        break;
      }
    }
  }
  // Walk back from (n, m): the d-th edit came from diagonal k+1 (an insertion) or k-1 (a deletion).
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const prev = trace[d]!;
    const at = (k: number) => prev[k + d]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
    }
    if (down) changedB[lo + --y] = true;
    else changedA[lo + --x] = true;
    x = prevX;
    y = prevY;
  }
  return [changedA, changedB];
}

/**
 * GNU diffutils' shift_boundaries, for one side: slide each run of changed lines up to merge with an
 * earlier run, then down as far as equal lines allow; finally back up to line up with a change in the
 * other file when one was passed on the way.
 */
function shiftBoundaries(equivs: number[], changed: boolean[], otherChanged: boolean[]): void {
  // GNU's arrays carry a 0 sentinel on each side; `at` reads out-of-range positions as "unchanged".
  const at = (arr: boolean[], i: number): boolean => i >= 0 && i < arr.length && arr[i] === true;
  const end = changed.length;
  let i = 0;
  let j = 0;
  for (;;) {
    // Find the start of the next run of changes, tracking the corresponding point j in the other file.
    while (i < end && !changed[i]) {
      while (at(otherChanged, j++));
      i++;
    }
    if (i === end) return;
    let start = i;
    while (at(changed, ++i));
    while (at(otherChanged, j)) j++;
    let runLength: number;
    let corresponding: number;
    do {
      runLength = i - start;
      // Move the run back while the line before it equals its last line (merges with earlier runs).
      while (start > 0 && equivs[start - 1] === equivs[i - 1]) {
        changed[--start] = true;
        changed[--i] = false;
        while (at(changed, start - 1)) start--;
        while (at(otherChanged, --j));
      }
      // The last end of this run that lines up with a run of changes in the other file (end = none).
      corresponding = at(otherChanged, j - 1) ? i : end;
      // Then forward while its first line equals the line after it: as far down as it goes.
      while (i !== end && equivs[start] === equivs[i]) {
        changed[start++] = false;
        changed[i++] = true;
        while (at(changed, i)) i++;
        while (at(otherChanged, ++j)) corresponding = i;
      }
    } while (runLength !== i - start);
    // Prefer the position that lines up with a change in the other file, if one was passed.
    while (corresponding < i) {
      changed[--start] = true;
      changed[--i] = false;
      while (at(otherChanged, --j));
    }
  }
}

/** A change: `delCount` lines of a at `aStart` replaced by `insCount` lines of b at `bStart` (0-based). */
interface Group {
  aStart: number;
  delCount: number;
  bStart: number;
  insCount: number;
}

function changeGroups(changedA: boolean[], changedB: boolean[]): Group[] {
  const groups: Group[] = [];
  let i = 0;
  let j = 0;
  while (i < changedA.length || j < changedB.length) {
    if (!changedA[i] && !changedB[j]) {
      i++;
      j++;
      continue;
    }
    const g: Group = { aStart: i, delCount: 0, bStart: j, insCount: 0 };
    while (changedA[i]) {
      i++;
      g.delCount++;
    }
    while (changedB[j]) {
      j++;
      g.insCount++;
    }
    groups.push(g);
  }
  return groups;
}

/** Changes separated by at most 2*context unchanged lines share a hunk (their contexts would touch). */
function hunks(groups: Group[], context: number): Group[][] {
  const out: Group[][] = [];
  for (const g of groups) {
    const cur = out[out.length - 1];
    const last = cur?.[cur.length - 1];
    if (cur && last && g.aStart - (last.aStart + last.delCount) <= 2 * context) cur.push(g);
    else out.push([g]);
  }
  return out;
}

function renderHunk(groups: Group[], a: Line[], b: Line[], context: number): string {
  const first = groups[0]!;
  const last = groups[groups.length - 1]!;
  const aFrom = Math.max(0, first.aStart - context);
  const aTo = Math.min(a.length, last.aStart + last.delCount + context);
  const bFrom = first.bStart - (first.aStart - aFrom);
  const bTo = bFrom + (aTo - aFrom) + groups.reduce((s, g) => s + g.insCount - g.delCount, 0);
  let out = `@@ -${range(aFrom, aTo - aFrom)} +${range(bFrom, bTo - bFrom)} @@\n`;
  let i = aFrom;
  let j = bFrom;
  for (const g of groups) {
    for (; i < g.aStart; i++, j++) out += line(' ', a[i]!);
    for (let n = 0; n < g.delCount; n++) out += line('-', a[i++]!);
    for (let n = 0; n < g.insCount; n++) out += line('+', b[j++]!);
  }
  for (; i < aTo; i++, j++) out += line(' ', a[i]!);
  return out;
}

/** GNU's range notation: "start,count", the count left out when it is 1, and an empty range named by the line before it. */
function range(from: number, count: number): string {
  if (count === 0) return `${from},0`;
  return count === 1 ? `${from + 1}` : `${from + 1},${count}`;
}

function line(prefix: string, l: Line): string {
  return `${prefix}${l.text}\n${l.eol ? '' : '\\ No newline at end of file\n'}`;
}
