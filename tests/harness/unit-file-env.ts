/**
 * After each unit file, the environment goes back to the one its worker started with. The unit
 * workers run many files each in one module graph (no isolation: a file's imports are not loaded
 * again for the next), so a setting one file changed and left must not reach the next.
 */
import { afterAll } from "vitest";

const saved = globalThis as typeof globalThis & { unitWorkerEnv?: Record<string, string | undefined> };
saved.unitWorkerEnv ??= { ...process.env };
const initial = saved.unitWorkerEnv;

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in initial)) delete process.env[name];
  Object.assign(process.env, initial);
});
