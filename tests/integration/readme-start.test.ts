/**
 * The README's first command, `npm start`, the way a user runs it: in a checkout with no build,
 * it builds the app for production, then serves it with the engine and the embedded database; a
 * task runs through it; the next start serves the same build; after a source file changed, the
 * start builds again. The checkout is a copy of this one (its files as they are now, the packages
 * linked, not copied), so the test never writes into the project's own folders.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SOURCES_RECORD } from "@/scripts/app-build";
import { readRunState, runStateFile } from "@/scripts/run-state";
import { freePort, localAuthHeaders } from "@/scripts/system";
import { makeRepo } from "../harness/git";
import { stopLeftoverNodes } from "../harness/leftover-nodes";
import { untilOutput } from "../harness/process-output";
import { untilFinished, watchTask } from "../harness/live-client";
import type { TaskDetail } from "@/lib/contracts/api";
import { SHARED_MACHINE_ENV } from "../harness/shared-machine";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BUILD_MS = 600_000;

type Runner = ChildProcess & { output: string; dataDir: string };
const runners: Runner[] = [];
const folders: string[] = [];
afterAll(() => {
  // A runner the test left running (it failed half-way): its app and engine lead process groups of their own.
  for (const runner of runners) {
    if (runner.exitCode !== null || runner.signalCode !== null) continue;
    for (const pid of [...(readRunState(runner.dataDir)?.children.map((c) => c.pid) ?? []), runner.pid!]) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  }
  // The nodes of a task the test left open (it failed half-way) lead process groups of their own too.
  for (const runner of runners) stopLeftoverNodes(runner.dataDir);
  if (!process.env.KEEP_TEST_DATA) for (const dir of folders) fs.rmSync(dir, { recursive: true, force: true });
});

/** A checkout of the project as it is now: its tracked and new files, `node_modules` hard-linked. */
function checkout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-readme-"));
  folders.push(dir);
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
    .split("\0")
    .filter((file) => file && fs.existsSync(path.join(ROOT, file)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  }
  // Hard links on the same disk: a second `npm install` would take minutes and the registry.
  execFileSync("cp", ["-al", path.join(ROOT, "node_modules"), path.join(dir, "node_modules")]);
  return dir;
}

function npmStart(cwd: string, env: Record<string, string>): Runner {
  const runner = spawn("npm", ["start"], { cwd, env: env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"], detached: true }) as Runner;
  runner.output = "";
  runner.dataDir = path.join(cwd, ".data");
  for (const stream of [runner.stdout!, runner.stderr!]) stream.on("data", (d: Buffer) => (runner.output += d.toString()));
  runners.push(runner);
  return runner;
}

/** Resolves when the runner's output says it serves; fails with that output when it exits first or the time is up. */
const serving = (runner: Runner, timeoutMs: number) => untilOutput(runner, (output) => output.includes("Press Ctrl+C to stop."), timeoutMs, "npm start to serve");

/**
 * Ctrl+C: the terminal signals npm and the runner alike (one process group); npm exits by the same
 * signal once the runner has stopped. The runner stopped cleanly when it gave its data folder back.
 */
async function stop(runner: Runner, dataDir: string) {
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => runner.once("exit", (code, signal) => resolve({ code, signal })));
  process.kill(-runner.pid!, "SIGINT");
  const { code, signal } = await exit;
  expect(code === 0 || signal === "SIGINT", `npm exited with ${code ?? signal}:\n${runner.output.slice(-2_000)}`).toBe(true);
  expect(runner.output).toContain("Stopping…");
  expect(fs.existsSync(runStateFile(dataDir)), "the runner gave its data folder back").toBe(false);
}

/** How long the person takes to write a follow-up. */
const PERSON_TYPES_MS = 45_000;
/** The promise of ARCHITECTURE.md's race rule: a callback recorded, the run's next step started within a second. */
const PROMISE_MS = 1_000;
const between = (from: string | null | undefined, to: string | null | undefined) => (from && to ? Date.parse(to) - Date.parse(from) : Number.NaN);

/** The workspace's /ready → the agent's start, and the turn's completion → the run's next step, each within the second. */
function expectOneSecondPromise(task: TaskDetail) {
  const step = (name: string) => task.steps.find((s) => s.step === name);
  const ready = between(task.workspace?.readyAt, step("agent_session")?.startedAt);
  const completion = between(task.session?.endedAt, step("running")?.endedAt);
  expect(ready, "workspace /ready recorded → agent_session started (ms)").toBeLessThanOrEqual(PROMISE_MS);
  expect(completion, "completion recorded → the run's next step (ms)").toBeLessThanOrEqual(PROMISE_MS);
}

describe("npm start (the README's first command)", () => {
  it("builds the app on the first start, serves it with a task running through, reuses the build, and builds again when a source changed", async () => {
    const dir = checkout();
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    // A user's machine has none of the test suite's settings: the embedded defaults.
    for (const name of ["DATABASE_URL", "DATABASE_WS_PROXY", "NEXT_DIST_DIR", "NEXT_MODE", "SKIP_NEXT_BUILD", "DATA_DIR"]) delete env[name];
    Object.assign(env, { PORT: String(await freePort()), INNGEST_PORT: String(await freePort()), NODE_WARM_TIMEOUT: "0", ...SHARED_MACHINE_ENV });
    const appUrl = `http://127.0.0.1:${env.PORT}`;
    // The embedded default: the checkout's own .data folder.
    const dataDir = path.join(dir, ".data");

    // First start: no build yet.
    const first = npmStart(dir, env);
    await serving(first, BUILD_MS);
    expect(first.output).toContain("Building the app for production (no production build in .next yet)");
    expect(first.output).toMatch(/App: +http:\/\/127\.0\.0\.1:\d+/);
    expect(fs.existsSync(path.join(dir, ".next", SOURCES_RECORD))).toBe(true);
    // It serves the build, not `next dev`: no development folder was made.
    expect(fs.existsSync(path.join(dir, ".next", "dev"))).toBe(false);

    // A task as a user's script submits it (with the token in the data folder) runs through: its turn ends, the person finishes it.
    const app = { appUrl, authHeaders: localAuthHeaders(dataDir) };
    const json = { ...app.authHeaders, "content-type": "application/json" };
    const submitted = await fetch(`${appUrl}/api/tasks`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ repository: makeRepo(), prompt: "README's first command" }),
    });
    expect(submitted.status).toBe(202);
    const { taskId } = (await submitted.json()) as { taskId: string };
    const watch = await watchTask(app, taskId);
    try {
      const waiting = await watch.until((t) => t.executionStep === "awaiting_followup" && t.idleUntil !== null, 120_000, "the agent's turn to end");
      expectOneSecondPromise(waiting);
      // A slow person: longer than the wait's first slice (READY_RECHECK_INTERVAL, 30 s) and fifteen
      // of the supervisor's passes, and the task still waits for them, with the same deadline (it
      // completed after 14.8 s when the supervisor's re-wakes ate the wait's slices).
      await new Promise((resolve) => setTimeout(resolve, PERSON_TYPES_MS));
      const still = await (await fetch(`${appUrl}/api/tasks/${taskId}`, { headers: app.authHeaders })).json();
      expect(still).toMatchObject({ status: "in_progress", executionStep: "awaiting_followup", idleUntil: waiting.idleUntil });
      expect(first.output).not.toContain("woke runs that missed their agent's completion");
      // Their follow-up runs as the next turn, and its end is taken up within the second too.
      const sent = await fetch(`${appUrl}/api/tasks/${taskId}/messages`, { method: "POST", headers: json, body: JSON.stringify({ body: "And a second turn" }) });
      expect(sent.status).toBeLessThan(300);
      const second = await watch.until((t) => t.executionStep === "awaiting_followup" && t.messages.some((m) => m.status === "delivered"), 120_000, "the second turn to end");
      expectOneSecondPromise(second);
    } finally {
      watch.close();
    }
    const finish = await fetch(`${appUrl}/api/tasks/${taskId}/finish`, { method: "POST", headers: json, body: "{}" });
    expect(finish.status).toBeLessThan(300);
    const { done } = await untilFinished(app, taskId, 60_000);
    expect(done.status, done.error ?? "").toBe("completed");
    await stop(first, dataDir);

    // Second start: the same sources, the same build.
    const built = fs.readFileSync(path.join(dir, ".next", "BUILD_ID"), "utf8");
    const second = npmStart(dir, env);
    await serving(second, 120_000);
    expect(second.output).toContain("The production build in .next is up to date.");
    expect(second.output).not.toContain("Building the app");
    expect((await fetch(`${appUrl}/api/tasks/${taskId}`, { headers: app.authHeaders })).status).toBe(200);
    await stop(second, dataDir);
    expect(fs.readFileSync(path.join(dir, ".next", "BUILD_ID"), "utf8")).toBe(built);

    // A source changed: the next start builds again, naming it, and serves the change.
    const layout = path.join(dir, "app", "layout.tsx");
    fs.writeFileSync(layout, fs.readFileSync(layout, "utf8").replace('template: "%s · Agent Control Plane"', 'template: "%s · Changed since the build"'));
    const third = npmStart(dir, env);
    await serving(third, BUILD_MS);
    expect(third.output).toMatch(/Building the app for production \(1 source file changed since the build of .+ \(app\/layout\.tsx\)\)/);
    expect(fs.readFileSync(path.join(dir, ".next", "BUILD_ID"), "utf8")).not.toBe(built);
    // The person opens the sign-in link it printed, then the page.
    const link = /Sign in: +(\S+)/.exec(third.output)![1]!;
    const cookie = (await fetch(link, { redirect: "manual" })).headers.get("set-cookie")!.split(";")[0]!;
    expect(await (await fetch(`${appUrl}/settings`, { headers: { cookie } })).text()).toContain("<title>Settings · Changed since the build</title>");
    await stop(third, dataDir);
  }, 1_800_000);
});
