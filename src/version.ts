// Kept in source, not read from package.json at run time: the bundled single executable has no
// package.json beside it (cli-stack.md §1 pitfalls). scripts/check-version keeps them equal (test).
export const VERSION = '0.1.0';
