/**
 * The whole system on the embedded defaults — PGlite under .data/, the Inngest server on :8288
 * (its dashboard there too) and the app on :3000. `npm start` (the README's first command) serves
 * a production build, built on the first start and again when the sources changed
 * (scripts/app-build.ts); `npm run dev` runs `next dev` instead, with hot reload, for working on
 * the project. The mode is the first argument; NEXT_MODE overrides it.
 *
 * Ctrl+C (SIGINT, SIGTERM, SIGHUP) first stops the local nodes that have no work, then the app
 * and the Inngest server; nodes with work keep running and the next start adopts them. A second
 * Ctrl+C while stopping kills what is left at once.
 */
import path from "node:path";
import { parseConfig, type Config } from "../lib/config";
import { setting } from "../lib/contracts/settings";
import { toInngestDuration } from "../lib/duration";
import { ensureAppBuild } from "./app-build";
import { stopIdleLocalNodes } from "./local-nodes";
import { stopProcessGroup } from "./procfs";
import { readRunState, releaseDataDir } from "./run-state";
import { startSystem, type RunningSystem } from "./system";

const log = (line: string) => console.error(line);
let settings: Config;
try {
  // A bad setting stops the start here, named with what it takes, before anything runs. Empty is
  // unset (lib/contracts/settings.ts): `DATA_DIR=` is .data, not the current folder.
  settings = parseConfig(process.env);
} catch (error) {
  log(`\n  Could not start: ${(error as Error).message}\n`);
  process.exit(1);
}
const dataDir = path.resolve(settings.DATA_DIR);
// `start` serves the production build in NEXT_DIST_DIR (.next); `dev` runs `next dev` (in .next/dev).
const mode = setting("NEXT_MODE") ?? process.argv[2] ?? "dev";
if (mode !== "dev" && mode !== "start") {
  console.error(`NEXT_MODE must be "dev" or "start", not "${mode}".`);
  process.exit(1);
}

let system: RunningSystem | undefined;

/** Ctrl+C while starting: stop what has started so far (system.json lists it as it starts). */
async function abandonStart() {
  const state = readRunState(dataDir);
  if (!state || state.runner.pid !== process.pid) return;
  await Promise.all(state.children.map((child) => stopProcessGroup(child.pid)));
  releaseDataDir(dataDir);
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (stopping) {
      // Asked twice: no more waiting on graceful exits.
      const pids = system ? Object.values(system.pids()) : (readRunState(dataDir)?.children.map((c) => c.pid) ?? []);
      for (const pid of pids) {
        try {
          if (pid !== undefined) process.kill(-pid, "SIGKILL");
        } catch {
          // Gone already.
        }
      }
      process.exit(130);
    }
    stopping = true;
    log("Stopping…");
    void (async () => {
      try {
        await stopIdleLocalNodes({ dataDir, log });
      } catch (error) {
        log(`Could not stop idle local nodes: ${(error as Error).message}`);
      }
      if (system) await system.stop();
      else await abandonStart();
      process.exit(system ? 0 : 130);
    })();
  });
}

try {
  const distDir = setting("NEXT_DIST_DIR") ?? ".next";
  // SKIP_NEXT_BUILD: the caller built it (the test command builds once for every suite, and a
  // runner started by a test must not rebuild a build other tests are serving).
  if (mode === "start" && !setting("SKIP_NEXT_BUILD")) ensureAppBuild(distDir, log);
  system = await startSystem({
    mode,
    distDir,
    appPort: settings.PORT,
    inngestPort: settings.INNGEST_PORT,
    dataDir,
    // The runner restarts the app too if it dies; the tests that call startSystem themselves decide.
    superviseApp: true,
    log,
  });
} catch (error) {
  log(`\n  Could not start: ${(error as Error).message}\n`);
  process.exit(1);
}

const authMode = settings.AUTH_MODE === "team" ? "team (sign-in required)" : "local (one person, on this machine only)";
// Relative to here when it is below (the default .data), else in full.
const dataFolder = path.relative(process.cwd(), dataDir).startsWith("..") ? dataDir : path.relative(process.cwd(), dataDir) || ".";
// Local mode: the way in for the browser (once, for LOCAL_SIGN_IN_TTL) and for scripts.
const signIn =
  settings.AUTH_MODE === "local"
    ? `
  Sign in:           ${system.signInUrl()}
                     (works once, for ${toInngestDuration(settings.LOCAL_SIGN_IN_TTL)}; a new one: npm run admin -- sign-in-url)
  Scripts:           Authorization: Bearer $(cat ${path.join(dataFolder, "local-token")})
`
    : "";
console.error(`
  Mode:              ${authMode}
  App:               ${system.appUrl}
  Inngest dashboard: ${system.inngestUrl}
  Database:          ${settings.DATABASE_URL ? "DATABASE_URL" : `embedded PGlite in ${path.join(dataFolder, "pglite")}`}
${signIn}
  Press Ctrl+C to stop.
`);
