// The semver functions the tool uses, imported one by one: semver's index loads all of its ~50 modules
// (ranges, comparators, their regular expressions) on every run, where these three need a handful.
import gte from 'semver/functions/gte.js';
import lt from 'semver/functions/lt.js';
import valid from 'semver/functions/valid.js';

export const semver = { gte, lt, valid };
