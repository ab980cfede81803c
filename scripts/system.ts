/**
 * Starts the whole system on one machine: the Next.js app (which opens the embedded database and
 * migrates it) and the Inngest server pointed at it. Used by `npm run dev` and by the tests.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureInngestBinary, inngestDevArgs } from "./inngest-bin.mjs";
import { freePort } from "../lib/net";

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
};

export type RunningSystem = {
  appUrl: string;
  inngestUrl: string;
  env: Record<string, string>;
  stop(): Promise<void>;
};

const ROOT = path.resolve(import.meta.dirname, "..");

/** Where the tests and benchmarks keep their production build, apart from `next dev`'s `.next`. */
export const TEST_DIST_DIR = ".next-test";

/** Builds the app for `next start` into `distDir`, unless SKIP_NEXT_BUILD says a build is already there. */
export function buildApp(distDir = TEST_DIST_DIR) {
  if (process.env.SKIP_NEXT_BUILD) return;
  execFileSync(process.execPath, [path.join(ROOT, "node_modules/next/dist/bin/next"), "build"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, NEXT_DIST_DIR: distDir, NEXT_TELEMETRY_DISABLED: "1" },
  });
}


/** Waits until `url` answers (any HTTP status counts), or the process exits, or the deadline passes. */
async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number, name: string) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
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
  fs.mkdirSync(options.logDir, { recursive: true });
  return fs.openSync(path.join(options.logDir, `${name}.log`), "a");
}

async function stopProcess(child: ChildProcess, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // Gone.
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const log = options.log ?? ((line: string) => console.error(line));
  const appPort = options.appPort ?? (await freePort());
  const inngestPort = options.inngestPort ?? (await freePort());
  const appUrl = `http://127.0.0.1:${appPort}`;
  const inngestUrl = `http://127.0.0.1:${inngestPort}`;
  const binary = await ensureInngestBinary({ log });

  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NEXT_TELEMETRY_DISABLED: "1",
    APP_URL: appUrl,
    DATA_DIR: path.resolve(options.dataDir),
    INNGEST_DEV: inngestUrl,
    INNGEST_BASE_URL: inngestUrl,
    INNGEST_LEGACY_SERVER: binary.legacy ? "1" : "0",
    ...(options.distDir ? { NEXT_DIST_DIR: options.distDir } : {}),
    ...options.env,
  };
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.reverse().map((c) => stopProcess(c)));
  };

  try {
    const nextBin = path.join(ROOT, "node_modules", "next", "dist", "bin", "next");
    const nextArgs = [nextBin, options.mode, "-p", String(appPort), "-H", "127.0.0.1"];
    const next = spawn(process.execPath, nextArgs, {
      cwd: ROOT,
      env: env as NodeJS.ProcessEnv,
      detached: true,
      stdio: ["ignore", output(options, "next"), output(options, "next")],
    });
    children.push(next);
    log(`Starting the app on ${appUrl} (next ${options.mode})…`);
    await waitForHttp(`${appUrl}/api/inngest`, next, 180_000, "the Next.js app");

    const inngest = spawn(binary.path, inngestDevArgs({ port: inngestPort }), {
      cwd: ROOT,
      env: env as NodeJS.ProcessEnv,
      detached: true,
      stdio: ["ignore", output(options, "inngest"), output(options, "inngest")],
    });
    children.push(inngest);
    log(`Starting the Inngest server on ${inngestUrl}…`);
    await waitForHttp(`${inngestUrl}/health`, inngest, 60_000, "the Inngest server");

    // Register the app's functions with the server now rather than on its first poll.
    const sync = await fetch(`${appUrl}/api/inngest`, { method: "PUT" });
    if (!sync.ok) throw new Error(`registering the app with Inngest failed: ${sync.status} ${await sync.text()}`);
    // Opening the database runs the migrations; do it before the first user waits on it.
    const warm = await fetch(`${appUrl}/api/tasks`);
    if (!warm.ok) throw new Error(`the app did not start: GET /api/tasks answered ${warm.status} ${await warm.text()}`);
    return { appUrl, inngestUrl, env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
