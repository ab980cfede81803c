import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * A temporary folder any user may write (sticky, like /tmp): for a test's gates and marks, which
 * agents and setup scripts touch while running as their workspace's own user on a root node.
 */
export function sharedTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o1777);
  return dir;
}
