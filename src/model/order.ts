// The one string order for everything the tool sorts (plan entries, findings, problems): UTF-16 code
// units, like Go's sort.Strings for the ASCII paths and names it sorts. Not localeCompare: its order
// follows the operator's locale (LANG), so two nodes could render the same plan differently, and the
// first call loads ICU collation data (~5 ms of a `plan`).
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
