/**
 * The runner (`npm run dev`, scripts/system.ts) with real processes: the Inngest server restarted
 * under a running system, a start after the runner was killed with `kill -9`, a port held by a
 * stranger, and Ctrl+C's stop of idle local nodes against real vm-agents.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { signNodeCallbackToken } from "@/lib/auth/tokens";
import { pinnedFetch } from "@/lib/nodes/pinned-tls";
import { localProvider, readLocalNodeRecord } from "@/lib/nodes/providers/local";
import { stopIdleLocalNodes } from "@/scripts/local-nodes";
import { groupMembers, running } from "@/scripts/procfs";
import { readRunState, runStateFile } from "@/scripts/run-state";
import { freePort, localAuthHeaders, startSystem, TEST_DIST_DIR } from "@/scripts/system";
import { Supervisor } from "@/scripts/supervisor";
import { startReceiver, testKey } from "@/vm-agent/test-support";
import { makeRepo } from "../harness/git";
import { GATED_AGENT_COMMAND, newGate, untilAgentWaits } from "../harness/gated-agent";
import { untilOutput } from "../harness/process-output";
import { untilFinished, watchTask } from "../harness/live-client";
import { startTestSystem } from "../harness/test-system";
import { SHARED_MACHINE_ENV } from "../harness/shared-machine";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Process groups this file started, killed at the end whatever happened. */
const groups = new Set<number>();
const tmuxSockets = new Set<string>();
const folders: string[] = [];
afterAll(() => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  for (const socket of tmuxSockets) {
    spawnSync("tmux", ["-L", socket, "kill-server"]);
    // tmux may leave its socket file behind; remove it once no server answers on it.
    const file = path.join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid!()}`, socket);
    if (spawnSync("tmux", ["-L", socket, "list-sessions"]).status !== 0) fs.rmSync(file, { force: true });
  }
  if (!process.env.KEEP_TEST_DATA) for (const dir of folders) fs.rmSync(dir, { recursive: true, force: true });
});

const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  folders.push(dir);
  return dir;
};

const exitOf = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
    : new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));

describe("the Inngest server under a running system", () => {
  it("is restarted after SIGKILL and the app registered again, so a submitted task runs", async () => {
    const system = await startTestSystem();
    try {
      const killed = system.pids().engine!;
      const restarted = system.restarted("engine");
      process.kill(killed, "SIGKILL");
      const restart = await restarted;

      expect(restart.pid).not.toBe(killed);
      expect(restart.error).toBeUndefined();
      expect(system.pids().engine).toBe(restart.pid);
      expect(running(killed)).toBe(false);
      expect((await fetch(`${system.inngestUrl}/health`)).status).toBe(200);
      // The new engine knows the app: an event it receives starts a run of our function, which moves the task on.
      const { status, body } = await system.api("POST", "/api/tasks", { repository: makeRepo(), prompt: "After the engine came back" });
      expect(status, JSON.stringify(body)).toBe(202);
      const watch = await watchTask(system, body.taskId);
      try {
        const moved = await watch.until((t) => t.status !== "queued", 60_000, "the task to leave queued");
        expect(["delegated", "in_progress", "completed"]).toContain(moved.status);
      } finally {
        watch.close();
      }
      // Let it finish, so the system stops with no work in flight.
      const { done } = await untilFinished(system, body.taskId, 90_000);
      expect(done.status, done.error ?? "").toBe("completed");
    } finally {
      await system.stop();
    }
  });
});

/** Log lines, and a wait for the first line matching a pattern. */
function logSink() {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  return {
    lines,
    log(line: string) {
      lines.push(line);
      for (const w of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
    until: (pattern: RegExp) =>
      lines.some((l) => pattern.test(l)) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pattern, resolve })),
  };
}

describe("the supervisor", () => {
  /** A process that prints "ready" and stays, or one that exits with code 3 at once, by launch number. */
  function flaky(serves: (launch: number) => boolean, log: (line: string) => void, backoff: { baseMs: number; maxMs: number; stableAfterMs: number }) {
    let launches = 0;
    const supervisor = new Supervisor({
      label: "Flaky",
      spawn: () => {
        const code = serves(++launches) ? "console.log('ready'); setInterval(() => {}, 60_000)" : "process.exit(3)";
        const child = spawn(process.execPath, ["-e", code], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
        groups.add(child.pid!);
        return child;
      },
      ready: (child) =>
        new Promise<void>((resolve, reject) => {
          child.stdout!.once("data", () => resolve());
          child.once("exit", (code) => reject(new Error(`exit code ${code} before it was ready`)));
        }),
      restartedWhat: "restarted",
      log,
      backoff,
    });
    return { supervisor, launches: () => launches };
  }

  it("restarts at once, backs off while the restarts fail, and restarts nothing once stopped", async () => {
    const sink = logSink();
    const { supervisor, launches } = flaky((n) => n === 1 || n >= 5, sink.log, { baseMs: 20, maxMs: 40, stableAfterMs: 60_000 });
    await supervisor.start();
    const first = supervisor.pid!;
    const restarted = supervisor.restarted();
    process.kill(first, "SIGKILL");
    const restart = await restarted;

    expect(launches()).toBe(5);
    expect(restart.pid).toBe(supervisor.pid);
    expect(sink.lines).toEqual([
      "Flaky exited (signal SIGKILL); restarting…",
      "Flaky did not come back (exit code 3 before it was ready); trying again in 20 ms…",
      "Flaky did not come back (exit code 3 before it was ready); trying again in 40 ms…",
      "Flaky did not come back (exit code 3 before it was ready); trying again in 40 ms…",
      `Flaky restarted in ${restart.ms} ms.`,
    ]);
    expect(restart.ms).toBeGreaterThanOrEqual(100);

    await supervisor.stop();
    await new Promise((r) => setImmediate(r));
    expect(running(restart.pid)).toBe(false);
    expect(launches()).toBe(5);
    expect(sink.lines).toHaveLength(5);
  });

  it("stop() during a backoff ends it at once, with nothing started again", async () => {
    const sink = logSink();
    const { supervisor, launches } = flaky((n) => n === 1, sink.log, { baseMs: 60_000, maxMs: 60_000, stableAfterMs: 60_000 });
    await supervisor.start();
    process.kill(supervisor.pid!, "SIGKILL");
    await sink.until(/trying again in 60 s…$/);
    const began = Date.now();
    await supervisor.stop();
    await new Promise((r) => setImmediate(r));
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(launches()).toBe(2);
    expect(sink.lines).toHaveLength(2);
  });
});

describe("the runner (scripts/dev.ts)", () => {
  type Runner = ChildProcess & { output: string };
  const runners: Runner[] = [];
  afterEach(() => {
    for (const runner of runners.splice(0)) if (runner.exitCode === null && runner.signalCode === null) runner.kill("SIGKILL");
  });

  async function runnerEnv() {
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    delete env.DATABASE_URL; // The embedded PGlite in DATA_DIR.
    delete env.DATABASE_WS_PROXY;
    return {
      ...env,
      PORT: String(await freePort()),
      INNGEST_PORT: String(await freePort()),
      DATA_DIR: tempDir("acp-runner-"),
      // The production build the global setup made: the runner's behaviour, without compiling the app on demand.
      NEXT_MODE: "start",
      NEXT_DIST_DIR: TEST_DIST_DIR,
      NODE_WARM_TIMEOUT: "0",
      ...SHARED_MACHINE_ENV,
    };
  }

  function startRunner(env: Record<string, string>): Runner {
    const runner = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", "dev.ts")], {
      cwd: ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    }) as Runner;
    runner.output = "";
    runner.stdout!.on("data", (d: Buffer) => (runner.output += d.toString()));
    runner.stderr!.on("data", (d: Buffer) => (runner.output += d.toString()));
    runners.push(runner);
    return runner;
  }

  const serving = (runner: Runner) => untilOutput(runner, (o) => o.includes("Press Ctrl+C to stop."), 180_000, "the system to serve");

  it("starts cleanly after the previous runner was killed with kill -9, and refuses to start twice", async () => {
    const env = await runnerEnv();
    const first = startRunner(env);
    await serving(first);
    // It says which mode it runs in, and how the person and their scripts get in.
    expect(first.output).toMatch(/Mode: +local \(one person, on this machine only\)/);
    const printed = /Sign in: +(http:\/\/127\.0\.0\.1:(\d+)\/sign-in\?token=\S+)\n/.exec(first.output);
    expect(printed?.[2], first.output).toBe(env.PORT);
    expect(first.output).toContain(`Authorization: Bearer $(cat ${env.DATA_DIR}/local-token)`);
    const signedIn = await fetch(printed![1]!, { redirect: "manual" });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("set-cookie")).toMatch(new RegExp(`^acp_session_${env.PORT}=acps_`));
    // Used, the printed link is spent; the admin command prints a new one while the system runs.
    expect((await fetch(printed![1]!, { redirect: "manual" })).headers.get("location")).toBe("/sign-in?error=used&next=%2F");
    const admin = spawnSync(process.execPath, ["--import", "tsx", "scripts/admin.ts", "sign-in-url"], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
    expect(admin.status, admin.stderr).toBe(0);
    expect(admin.stdout.trim()).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${env.PORT}/sign-in\\?token=`));
    expect((await fetch(admin.stdout.trim(), { redirect: "manual" })).headers.get("set-cookie")).toMatch(/^acp_session_\d+=acps_/);
    // Scripts: the token from the data folder, nothing without it.
    expect((await fetch(`http://127.0.0.1:${env.PORT}/api/tasks`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${env.PORT}/api/tasks`, { headers: localAuthHeaders(env.DATA_DIR) })).status).toBe(200);
    const left = readRunState(env.DATA_DIR)!;
    expect(left.runner.pid).toBe(first.pid);
    const leftPids = left.children.map((c) => c.pid);
    expect(left.children.map((c) => c.name).sort()).toEqual(["app", "engine"]);
    for (const pid of leftPids) groups.add(pid);

    first.kill("SIGKILL");
    await exitOf(first);
    // Its children run in their own process groups: they outlive it and hold the ports and the database.
    for (const pid of leftPids) expect(running(pid), `pid ${pid}`).toBe(true);

    const second = startRunner(env);
    await serving(second);
    const [app, engine] = ["app", "engine"].map((n) => left.children.find((c) => c.name === n)!.pid);
    expect(second.output).toContain(
      `Stopped the app (pid ${app}) and the Inngest server (pid ${engine}), left running by an earlier runner (pid ${first.pid}) that did not stop them.`,
    );
    for (const pid of leftPids) expect(groupMembers(pid), `group ${pid}`).toEqual([]);
    const now = readRunState(env.DATA_DIR)!;
    expect(now.runner.pid).toBe(second.pid);
    for (const child of now.children) groups.add(child.pid);
    expect((await fetch(`http://127.0.0.1:${env.PORT}/api/tasks`, { headers: localAuthHeaders(env.DATA_DIR) })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${env.INNGEST_PORT}/health`)).status).toBe(200);

    // A second runner on a folder whose runner is alive refuses, and leaves the live one alone.
    const third = startRunner(env);
    const refused = await exitOf(third);
    expect(refused.code).toBe(1);
    expect(third.output).toContain(`Another runner (pid ${second.pid}`);
    expect(third.output).toContain("DATA_DIR");
    expect((await fetch(`http://127.0.0.1:${env.PORT}/api/tasks`, { headers: localAuthHeaders(env.DATA_DIR) })).status).toBe(200);

    // The runner restarts the app too when it dies.
    const appPid = now.children.find((c) => c.name === "app")!.pid;
    process.kill(appPid, "SIGKILL");
    await untilOutput(second, (o) => /The app restarted and registered with the Inngest server again in \d+ ms/.test(o), 120_000, "the app to come back");
    const restartedApp = readRunState(env.DATA_DIR)!.children.find((c) => c.name === "app")!.pid;
    groups.add(restartedApp);
    expect(restartedApp).not.toBe(appPid);
    expect((await fetch(`http://127.0.0.1:${env.PORT}/api/tasks`, { headers: localAuthHeaders(env.DATA_DIR) })).status).toBe(200);

    // Ctrl+C stops everything it started and gives the folder back.
    const children = readRunState(env.DATA_DIR)!.children.map((c) => c.pid);
    second.kill("SIGINT");
    expect((await exitOf(second)).code).toBe(0);
    for (const pid of children) expect(groupMembers(pid), `group ${pid}`).toEqual([]);
    expect(fs.existsSync(runStateFile(env.DATA_DIR))).toBe(false);
  });

  it("leaves a node with a working agent running on Ctrl+C; the next start adopts it and the task completes there, its agent started once", async () => {
    const env = { ...(await runnerEnv()), SCRIPT_AGENT_COMMAND: GATED_AGENT_COMMAND, SESSION_IDLE_TIMEOUT: "0" };
    const appUrl = `http://127.0.0.1:${env.PORT}`;
    const first = startRunner(env);
    await serving(first);
    const app = { appUrl, authHeaders: localAuthHeaders(env.DATA_DIR) };
    for (const child of readRunState(env.DATA_DIR)!.children) groups.add(child.pid);
    const gate = newGate("Survives Ctrl+C");
    const submitted = await fetch(`${appUrl}/api/tasks`, {
      method: "POST",
      headers: { ...app.authHeaders, "content-type": "application/json" },
      body: JSON.stringify({ repository: makeRepo(), prompt: gate.prompt }),
    });
    expect(submitted.status).toBe(202);
    const { taskId } = (await submitted.json()) as { taskId: string };
    const working = await untilAgentWaits(app, taskId);
    const nodeId = working.node!.id;
    const daemon = readLocalNodeRecord(path.join(env.DATA_DIR, "nodes", nodeId))!;
    groups.add(daemon.pid);
    tmuxSockets.add(`acp-${nodeId}`);

    // Ctrl+C: the runner stops the app and the engine, and leaves the node with work running.
    first.kill("SIGINT");
    expect((await exitOf(first)).code).toBe(0);
    expect(first.output).toContain("1 node with work keeps running");
    expect(running(daemon.pid), "the busy node's daemon").toBe(true);

    // The next start takes the node back: the agent finishes, the task completes on the same node.
    const second = startRunner(env);
    await serving(second);
    for (const child of readRunState(env.DATA_DIR)!.children) groups.add(child.pid);
    gate.open();
    // The token is made once: the next start keeps it.
    expect(localAuthHeaders(env.DATA_DIR)).toEqual(app.authHeaders);
    const { done } = await untilFinished(app, taskId, 120_000);
    expect(done.status, done.error ?? "").toBe("completed");
    expect(done.node?.id).toBe(nodeId);
    expect(done.session?.id).toBe(working.session!.id);
    const output = await (await fetch(`${appUrl}/api/tasks/${taskId}/output?format=text`, { headers: app.authHeaders })).text();
    expect(output.match(/agent waiting for/g), "agent launches").toHaveLength(1);
    expect(output).toContain("agent done");
    second.kill("SIGINT");
    expect((await exitOf(second)).code).toBe(0);
  });

  it("fails at once naming the process that holds a port it needs, and how to choose another", async () => {
    const holder = spawn(process.execPath, ["-e", "const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port))"], {
      stdio: ["ignore", "pipe", "inherit"],
      detached: true,
    }) as Runner;
    groups.add(holder.pid!);
    holder.output = "";
    holder.stdout!.on("data", (d: Buffer) => (holder.output += d.toString()));
    await untilOutput(holder, (o) => /^\d+\n/.test(o), 10_000, "the holder to listen");
    const port = Number(holder.output.trim());

    const dataDir = tempDir("acp-port-");
    const started = Date.now();
    await expect(startSystem({ mode: "start", distDir: TEST_DIST_DIR, dataDir, appPort: port, log: () => undefined })).rejects.toThrow(
      new RegExp(`Port ${port} \\(the app\\) is in use by pid ${holder.pid} \\(.*node -e const s = require\\('net'\\).*\\)\\..*PORT=`),
    );
    await expect(startSystem({ mode: "start", distDir: TEST_DIST_DIR, dataDir, inngestPort: port, log: () => undefined })).rejects.toThrow(
      new RegExp(`Port ${port} \\(the Inngest server\\) is in use by pid ${holder.pid} .*INNGEST_PORT=`),
    );
    // Before anything was started, and the folder is free again.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(fs.existsSync(runStateFile(dataDir))).toBe(false);

    // The same through `npm run dev`: one clear line, exit code 1.
    const env = { ...(await runnerEnv()), PORT: String(port) };
    const runner = startRunner(env);
    expect((await exitOf(runner)).code).toBe(1);
    expect(runner.output).toContain(`Port ${port} (the app) is in use by pid ${holder.pid}`);
    expect(runner.output).toContain(`PORT=${port + 1}`);
    holder.kill("SIGKILL");
  });

  it("refuses to serve a network address in local mode, saying how to turn sign-in on", async () => {
    const env = { ...(await runnerEnv()), HOST: "0.0.0.0" };
    const runner = startRunner(env);
    expect((await exitOf(runner)).code).toBe(1);
    expect(runner.output).toMatch(/Could not start: invalid configuration: HOST: local mode is for the one person on this machine, so it listens only on a loopback address, not 0\.0\.0\.0; to serve a network, set AUTH_MODE=team/);
    expect(fs.existsSync(runStateFile(env.DATA_DIR))).toBe(false);
  });
});

describe("Ctrl+C's stop of idle local nodes", () => {
  it("stops local nodes with no workspaces, leaves busy ones and strangers alone", async () => {
    const dataDir = tempDir("acp-nodes-");
    const receiver = await startReceiver();
    const { key, publicJwk } = await testKey();
    const provider = localProvider({ dataDir, rootDir: ROOT, stopGraceMs: 2_000 });
    const create = async (nodeId: string) =>
      provider.create({
        nodeId,
        userId: "local",
        controlPlaneUrl: receiver.url,
        credential: { kind: "callback", token: await signNodeCallbackToken(key, { nodeId }, 600_000) },
        publicJwk,
      });
    const suffix = `${process.pid}-${Date.now()}`;
    const idle = [`idle-a-${suffix}`, `idle-b-${suffix}`];
    for (const nodeId of idle) tmuxSockets.add(`acp-${nodeId}`);
    try {
      const created = await Promise.all(idle.map(create));
      for (const c of created) groups.add(Number(c.providerServerId.slice(4)));
      await Promise.all(idle.map((nodeId) => receiver.next(new RegExp(`/api/nodes/${nodeId}/ready$`))));

      // node.json says where each serves; the vm-agent's log file is in its environment.
      const record = readLocalNodeRecord(path.join(dataDir, "nodes", idle[0]!))!;
      expect(record).toMatchObject({ pid: Number(created[0]!.providerServerId.slice(4)), endpoint: created[0]!.endpoint });
      expect(record.endpoint).toBe(`https://127.0.0.1:${record.port}`);
      expect(Number.isNaN(Date.parse(record.startedAt))).toBe(false);
      expect(fs.readFileSync(path.join(dataDir, "nodes", idle[0]!, "vm-agent.pid"), "utf8")).toBe(String(record.pid));
      const environ = fs.readFileSync(`/proc/${record.pid}/environ`, "utf8").split("\0");
      expect(environ).toContain(`VM_AGENT_LOG_FILE=${path.join(dataDir, "nodes", idle[0]!, "vm-agent.log")}`);
      // Creating a node whose vm-agent runs returns that one rather than starting a second.
      expect(await create(idle[0]!)).toEqual(created[0]);
      const node = { id: idle[0]!, provider: "local", providerServerId: created[0]!.providerServerId };
      expect(provider.isRunning!(node)).toBe(true);
      // A pid that is not (or no longer) a vm-agent of ours does not count.
      expect(provider.isRunning!({ id: idle[0]!, provider: "local", providerServerId: `pid:${process.pid}` })).toBe(false);
      expect(provider.isRunning!({ id: idle[1]!, provider: "local", providerServerId: created[0]!.providerServerId })).toBe(false);

      // A tmux server of an idle node (agents' sessions outlive the daemon) goes with it.
      spawnSync("tmux", ["-L", `acp-${idle[0]}`, "new-session", "-d", "-s", "left", "sleep 600"]);
      expect(spawnSync("tmux", ["-L", `acp-${idle[0]}`, "has-session", "-t", "left"]).status).toBe(0);

      // A node with work: its records hold a running workspace (its command line is a vm-agent's, as the check wants).
      const busyId = `busy-${suffix}`;
      const fakeDir = tempDir("acp-fake-node-");
      fs.mkdirSync(path.join(fakeDir, "vm-agent"));
      fs.writeFileSync(
        path.join(fakeDir, "vm-agent", "main.ts"),
        `const http = require("node:http");
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ status: "ok" }));
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`,
      );
      const busy = spawn(process.execPath, ["--import", "tsx", path.join(fakeDir, "vm-agent", "main.ts")], {
        cwd: ROOT,
        env: { ...process.env, NODE_ID: busyId },
        stdio: ["ignore", "pipe", "inherit"],
        detached: true,
      }) as ChildProcess & { output: string };
      groups.add(busy.pid!);
      busy.output = "";
      busy.stdout!.on("data", (d: Buffer) => (busy.output += d.toString()));
      await untilOutput(busy, (o) => /^\d+\n/.test(o), 30_000, "the busy node to listen");
      const busyPort = Number(busy.output.trim());
      fs.mkdirSync(path.join(dataDir, "nodes", busyId), { recursive: true });
      fs.writeFileSync(
        path.join(dataDir, "nodes", busyId, "node.json"),
        JSON.stringify({ pid: busy.pid, port: busyPort, endpoint: `https://127.0.0.1:${busyPort}`, startedAt: new Date().toISOString() }),
      );
      fs.mkdirSync(path.join(dataDir, "nodes", busyId, "work", "state", "workspaces"), { recursive: true });
      fs.writeFileSync(
        path.join(dataDir, "nodes", busyId, "work", "state", "workspaces", "w_busy.json"),
        JSON.stringify({ id: "w_busy", taskId: "t_busy", repository: "/tmp/busy", branch: "agents/busy-1", callbackToken: "cb", status: "running" }),
      );
      // A record whose pid is alive but is not a vm-agent (a recycled pid): never touched.
      fs.mkdirSync(path.join(dataDir, "nodes", "stranger"), { recursive: true });
      fs.writeFileSync(
        path.join(dataDir, "nodes", "stranger", "node.json"),
        JSON.stringify({ pid: process.pid, port: 1, endpoint: "https://127.0.0.1:1", startedAt: new Date().toISOString() }),
      );

      const lines: string[] = [];
      const result = await stopIdleLocalNodes({ dataDir, log: (l) => lines.push(l) });

      expect(result.stopped.sort()).toEqual([...idle].sort());
      expect(result.busy).toEqual([busyId]);
      expect(result.unreadable).toEqual([]);
      expect(lines).toEqual(["Stopped 2 idle local nodes; 1 node with work keeps running."]);
      for (const c of created) expect(groupMembers(Number(c.providerServerId.slice(4)))).toEqual([]);
      expect(provider.isRunning!(node)).toBe(false);
      expect(spawnSync("tmux", ["-L", `acp-${idle[0]}`, "has-session", "-t", "left"]).status).not.toBe(0);
      expect(running(busy.pid!)).toBe(true);

      // Creating a stopped node again starts a new daemon on the same work folder.
      const again = await create(idle[0]!);
      groups.add(Number(again.providerServerId.slice(4)));
      expect(again.providerServerId).not.toBe(created[0]!.providerServerId);
      const readyAgain = await receiver.nth(new RegExp(`/api/nodes/${idle[0]}/ready$`), 2);
      expect(provider.isRunning!({ id: idle[0]!, provider: "local", providerServerId: again.providerServerId })).toBe(true);
      // Over the certificate it reported, which it kept across the restart.
      const pin = String(readyAgain.body.certificateFingerprint);
      expect(pin).toBe(String((await receiver.nth(new RegExp(`/api/nodes/${idle[0]}/ready$`), 1)).body.certificateFingerprint));
      expect((await pinnedFetch({ id: idle[0]!, certificateFingerprint: pin }, new URL("/health", again.endpoint))).status).toBe(200);
      await provider.destroy({ id: idle[0]!, provider: "local", providerServerId: again.providerServerId });
      expect(provider.isRunning!({ id: idle[0]!, provider: "local", providerServerId: again.providerServerId })).toBe(false);
    } finally {
      await receiver.close();
    }
  });
});
