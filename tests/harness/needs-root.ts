/**
 * Tests that need root (creating Unix users, running as another user, root's capabilities). As
 * another user they are skipped, and the output says which by name: vitest's default reporter
 * lists no skipped test, so the skip is also written to stderr when the file is collected.
 */
import { describe } from "vitest";

export const asRoot = process.getuid?.() === 0;

/** `describe(name + " (needs root)")`, skipped (saying so) when the tests do not run as root. */
export function describeNeedingRoot(name: string, tests: () => void) {
  const titled = `${name} (needs root)`;
  if (!asRoot) process.stderr.write(`skipped, not root: ${titled}\n`);
  describe.skipIf(!asRoot)(titled, tests);
}
