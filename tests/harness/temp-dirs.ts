/**
 * The temporary folders a test file makes through the harness (its repositories, gates and marks):
 * removed when the file is done (tests/harness/file-cleanup.ts), so a run leaves none behind in
 * /tmp. KEEP_TEST_DATA keeps them, to look at after a failure.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const made = new Set<string>();

/** A new folder under the system's temporary folder, named `<prefix>XXXXXX`, removed after the file. */
export function testTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes every folder `testTempDir` made since the last call. */
export function removeTestTempDirs() {
  if (process.env.KEEP_TEST_DATA) return;
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  made.clear();
}
