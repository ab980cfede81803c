import fs from "node:fs";
import { testTempDir } from "./temp-dirs";

/**
 * A temporary folder any user may write (sticky, like /tmp): for a test's gates and marks, which
 * agents and setup scripts touch while running as their workspace's own user on a root node.
 */
export function sharedTempDir(prefix: string): string {
  const dir = testTempDir(prefix);
  fs.chmodSync(dir, 0o1777);
  return dir;
}
