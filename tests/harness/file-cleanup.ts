/** After each test file: the temporary folders it made through the harness (temp-dirs.ts). */
import { afterAll } from "vitest";
import { removeTestTempDirs } from "./temp-dirs";

// Registered before the file's own hooks, so it runs after them (Vitest runs after-hooks as a stack):
// the systems and nodes that used the folders are stopped by then.
afterAll(removeTestTempDirs);
