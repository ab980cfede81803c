/**
 * Starts the whole system on one machine: the Next.js app (which opens the embedded database and
 * migrates it) and the Inngest server pointed at it. Used by `npm run dev` and by the tests.
 *
 * The runner supervises what it started: an Inngest server that exits unexpectedly is started
 * again on the same port and the app registered with it again (so is the app in `dev` mode).
 * `<dataDir>/run/system.json` records the runner and its children, so a start after the runner
 * was killed (`kill -9`) stops what it left, and a second runner on a live folder refuses.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildApp as buildProductionApp, staleBuildReason } from "./app-build";
import { engineDir, engineKeys } from "./engine-keys";
import { migrateDatabase } from "./migrate";
import { ensureInngestBinary, inngestDevArgs, inngestStartArgs } from "./inngest-bin.mjs";
import { ensureNodePackages } from "./node-packages";
import { freePort } from "../lib/net";
import { parseConfig } from "../lib/config";
import { setting } from "../lib/contracts/settings";
import { ensureDir, prepareDataDir, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../lib/data-dir";
import { isLoopbackAddress } from "../lib/net";
import { ensureLocalToken, readLocalToken, signInUrl } from "../lib/auth/local";
import { describePortHolder, portHolder, portIsFree } from "./procfs";

const PORT_RELEASE_WAIT_MS = 5_000;
/** How long `next start` keeps an idle connection open (see where the app is started). */
const APP_IDLE_CONNECTION_MS = 65_000;
import { claimDataDir, readRunState, recordProcess, releaseDataDir, writeRunState } from "./run-state";
import { Supervisor, type Restart } from "./supervisor";

export { freePort };

export type SystemOptions = {
  /** `dev` runs `next dev`; `start` serves a production build from `distDir`. */
  mode: "dev" | "start";
  appPort?: number;
  inngestPort?: number;
  dataDir: string;
  distDir?: string;
  env?: Record<string, string>;
  /** Where each process's output goes; defaults to inherit (the terminal). */
  logDir?: string;
  log?: (line: string) => void;
  /**
   * Restart the app when it exits unexpectedly; default: in `dev` mode only (tests that serve a
   * build may stop the app on purpose). The Inngest server is always restarted.
   */
  superviseApp?: boolean;
};

export type SystemProcess = "engine" | "app";

/** Where a client reaches the app, and what it sends to be let in (local mode: the local token). */
export type AppClient = {
  appUrl: string;
  /** `Authorization: Bearer <DATA_DIR/local-token>` in local mode; nothing in team mode (each person has their own). */
  authHeaders: Record<string, string>;
};

/**
 * What a script on this machine sends to a local-mode control plane with this data folder: its
 * local token, read from the owner-only file the control plane made there.
 */
export function localAuthHeaders(dataDir: string): Record<string, string> {
  const token = readLocalToken(dataDir);
  if (!token) throw new Error(`no local token in ${dataDir} yet: the control plane makes it when it starts`);
  return { authorization: `Bearer ${token}` };
}

export type RunningSystem = AppClient & {
  inngestUrl: string;
  env: Record<string, string>;
  /** The pids of the processes serving now (each leads its own process group). */
  pids(): { app: number | undefined; engine: number | undefined };
  /** Resolves after the next restart of that process has completed (the engine: and the app is registered again). */
  restarted(which: SystemProcess): Promise<Restart>;
  /** Local mode: a one-time link that signs a browser in (and goes on to `next`), as `npm start` prints. */
  signInUrl(next?: string): string;
  stop(): Promise<void>;
};

const ROOT = path.resolve(import.meta.dirname, "..");

/** Where the tests and benchmarks keep their production build, apart from `next dev`'s `.next`. */
export const TEST_DIST_DIR = ".next-test";

/**
 * The build the tests and benchmarks serve: built again only when its sources changed
 * (scripts/app-build.ts), and not even checked when SKIP_NEXT_BUILD says the caller just built it.
 */
export function buildApp(distDir = TEST_DIST_DIR) {
  if (setting("SKIP_NEXT_BUILD")) return;
  if (staleBuildReason(distDir)) buildProductionApp(distDir);
}

/** Waits until `url` answers (any HTTP status counts), or the process exits, or the deadline passes. */
async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number, name: string) {
  const deadline = Date.now() + timeoutMs;
  let exited = child.exitCode !== null || child.signalCode !== null;
  child.once("exit", () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${name} exited before it answered at ${url}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${name} did not answer at ${url} within ${timeoutMs} ms`);
}

function output(options: SystemOptions, name: string): "inherit" | number {
  if (!options.logDir) return "inherit";
  // Owner-only: the logs may sit in the data folder, which agents on this machine pass through.
  ensureDir(options.logDir, PRIVATE_DIR_MODE);
  return fs.openSync(path.join(options.logDir, `${name}.log`), "a", PRIVATE_FILE_MODE);
}

/** Fails at once, naming what holds a port the system needs and how to pick another. */
async function checkPorts(ports: { port: number; what: string; variable: string }[]) {
  for (const { port, what, variable } of ports) {
    if (await portIsFree(port)) continue;
    // A socket no process holds belongs to one that just died (a killed runner's child being torn
    // down): the kernel frees it in a moment. Only a port still held after that is refused.
    const until = Date.now() + PORT_RELEASE_WAIT_MS;
    while (portHolder(port).pid === undefined && Date.now() < until && !(await portIsFree(port))) await new Promise((r) => setTimeout(r, 100));
    if (await portIsFree(port)) continue;
    throw new Error(
      `Port ${port} (${what}) is in use by ${describePortHolder(port)}. ` +
        `Stop that process, or choose another port for ${what} with ${variable}=<port> (for example ${variable}=${port + 1}).`,
    );
  }
}

/** Registers the app's functions with the Inngest server (the app answers PUT /api/inngest by syncing). */
async function register(appUrl: string, signal?: AbortSignal) {
  const timeout = AbortSignal.timeout(30_000);
  const sync = await fetch(`${appUrl}/api/inngest`, { method: "PUT", signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  if (!sync.ok) throw new Error(`registering the app with Inngest failed: ${sync.status} ${await sync.text()}`);
}

/** After a restart: register again, retrying while the other process may be coming back too. */
async function registerAgain(appUrl: string, signal: AbortSignal, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await register(appUrl, signal);
    } catch (error) {
      if (signal.aborted) throw new Error("the system is stopping");
      if (Date.now() >= deadline) throw new Error(`the app could not be registered again: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const log = options.log ?? ((line: string) => console.error(line));
  // Bad settings stop the start here, each named, before anything runs.
  const settings = parseConfig({ ...process.env, ...options.env });
  const appPort = options.appPort ?? (await freePort());
  const inngestPort = options.inngestPort ?? (await freePort());
  // The runner and the engine reach the app on this machine: through loopback unless it listens on one address only.
  const appHost = ["0.0.0.0", "::"].includes(settings.HOST) || isLoopbackAddress(settings.HOST) ? "127.0.0.1" : settings.HOST;
  const appUrl = `http://${appHost.includes(":") ? `[${appHost}]` : appHost}:${appPort}`;
  const inngestUrl = `http://127.0.0.1:${inngestPort}`;
  // Local nodes' agents run on this machine: the data folder is theirs to pass through, not to read.
  const dataDir = prepareDataDir(options.dataDir);
  // Local mode's credential, made before the app starts so the runner can print a sign-in link.
  const localToken = settings.AUTH_MODE === "local" ? ensureLocalToken(dataDir) : undefined;

  // Refuse a live runner's folder; stop what a killed one left (it holds the ports and the database).
  await claimDataDir(dataDir, { appUrl, inngestUrl }, log);
  const supervisors: { name: SystemProcess; supervisor: Supervisor; command: string }[] = [];
  const recordChildren = () => {
    const state = readRunState(dataDir);
    if (!state || state.runner.pid !== process.pid) return;
    const children = supervisors.flatMap(({ name, supervisor, command }) => {
      const pid = supervisor.pid;
      if (pid === undefined) return [];
      const earlier = state.children.find((c) => c.name === name);
      return [{ name, ...recordProcess(pid, earlier, command) }];
    });
    writeRunState(dataDir, { ...state, children });
  };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await Promise.all(supervisors.map(({ supervisor }) => supervisor.stop()));
      releaseDataDir(dataDir);
    })());

  try {
    await checkPorts([
      { port: appPort, what: "the app", variable: "PORT" },
      { port: inngestPort, what: "the Inngest server", variable: "INNGEST_PORT" },
    ]);
    if (settings.NODE_PROVIDER === "local") await ensureNodePackages(log);
    const binary = await ensureInngestBinary({ log });
    const selfHosted = settings.ENGINE_MODE === "self-hosted";
    const keys = selfHosted ? engineKeys(dataDir, settings) : undefined;

    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      NEXT_TELEMETRY_DISABLED: "1",
      APP_URL: appUrl,
      DATA_DIR: dataDir,
      // The SDK signs and checks requests unless it is told the engine is a dev server.
      ...(keys ? { INNGEST_DEV: "0", INNGEST_SIGNING_KEY: keys.signingKey, INNGEST_EVENT_KEY: keys.eventKey } : { INNGEST_DEV: inngestUrl }),
      INNGEST_BASE_URL: inngestUrl,
      INNGEST_LEGACY_SERVER: binary.legacy ? "1" : "0",
      ...(options.distDir ? { NEXT_DIST_DIR: options.distDir } : {}),
      ...options.env,
    };
    const launch = (name: string, command: string, args: string[]) => () => {
      const out = output(options, name);
      const child = spawn(command, args, {
        cwd: ROOT,
        env: env as NodeJS.ProcessEnv,
        detached: true,
        stdio: ["ignore", out, out],
      });
      if (typeof out === "number") fs.closeSync(out);
      // A failed spawn shows as an exit (code null) to the supervisor; keep it from being thrown.
      child.on("error", (error) => log(`could not start ${name}: ${error.message}`));
      return child;
    };

    const backoff = { baseMs: 1_000, maxMs: settings.RESTART_BACKOFF_MAX, stableAfterMs: settings.RESTART_STABLE_AFTER };
    // The app keeps idle connections well past any client's own idle limit (Node's fetch: 4 s; browsers
    // and proxies: up to 60 s), so a client never sends a request on a socket the app is closing that
    // moment ("other side closed", seen on a busy machine with Node's default of 5 s).
    const keepAlive = options.mode === "start" ? ["--keepAliveTimeout", String(APP_IDLE_CONNECTION_MS)] : [];
    const nextArgs = [path.join(ROOT, "node_modules", "next", "dist", "bin", "next"), options.mode, "-p", String(appPort), "-H", settings.HOST, ...keepAlive];
    const app = new Supervisor({
      label: "The app",
      spawn: launch("next", process.execPath, nextArgs),
      ready: (child) => waitForHttp(`${appUrl}/api/inngest`, child, 180_000, "the Next.js app"),
      afterRestart: (signal) => registerAgain(appUrl, signal),
      restartedWhat: "restarted and registered with the Inngest server again",
      backoff,
      supervise: options.superviseApp ?? options.mode === "dev",
      log,
      onChange: recordChildren,
    });
    supervisors.push({ name: "app", supervisor: app, command: [process.execPath, ...nextArgs].join(" ") });
    // A shared PostgreSQL is migrated by the deploy step, here before the app; the app only checks it.
    if (settings.DATABASE_URL) await migrateDatabase({ ...env, DATA_DIR: dataDir }, log);
    log(`Starting the app on ${appUrl} (next ${options.mode})…`);
    await app.start();

    const engineState = path.join(engineDir(dataDir), "state");
    if (selfHosted) ensureDir(engineState, PRIVATE_DIR_MODE);
    const inngestArgs = selfHosted ? inngestStartArgs({ port: inngestPort, sqliteDir: engineState }) : inngestDevArgs({ port: inngestPort });
    const engine = new Supervisor({
      label: "Inngest server",
      spawn: launch("inngest", binary.path, inngestArgs),
      ready: (child) => waitForHttp(`${inngestUrl}/health`, child, 60_000, "the Inngest server"),
      // Exactly what the first start does: the server knows no app until the app registers.
      afterRestart: (signal) => registerAgain(appUrl, signal),
      restartedWhat: "restarted and the app re-registered",
      backoff,
      log,
      onChange: recordChildren,
    });
    supervisors.push({ name: "engine", supervisor: engine, command: [binary.path, ...inngestArgs].join(" ") });
    log(`Starting the Inngest server on ${inngestUrl} (${selfHosted ? "inngest start: signed, state in DATA_DIR/engine" : "inngest dev"})…`);
    await engine.start();

    // Register the app's functions with the server now rather than on its first poll.
    await register(appUrl);
    // Opening the database runs the migrations; do it before the first user waits on it.
    const warm = await fetch(`${appUrl}/api/health`);
    if (!warm.ok) throw new Error(`the app did not start: GET /api/health answered ${warm.status} ${await warm.text()}`);
    // Both serve: record their command lines as they read now (Next.js renames its process once it runs).
    recordChildren();
    return {
      appUrl,
      authHeaders: localToken ? { authorization: `Bearer ${localToken}` } : {},
      signInUrl: (next?: string) => {
        if (!localToken) throw new Error("team mode signs in with GitHub, not with a one-time link");
        return signInUrl(appUrl, localToken, settings.LOCAL_SIGN_IN_TTL, next);
      },
      inngestUrl,
      env,
      pids: () => ({ app: app.pid, engine: engine.pid }),
      restarted: (which) => (which === "engine" ? engine : app).restarted(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
