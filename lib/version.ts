/**
 * The package version (semver), the same in deno.json, package.json and CHANGELOG.md
 * (`deno task release` checks that they agree).
 * @module
 */

/** This release of heartbeat. */
export const VERSION = "0.6.0";
