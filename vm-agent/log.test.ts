import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, daemonLogger, fileSink, RotatingFile } from "./log";
import { daemonProcess, startReceiver } from "./test-support";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function folder() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-log-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The files of the log, oldest first, and their text. */
function logFiles(file: string) {
  const names = fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith(path.basename(file)));
  const rank = (n: string) => Number(n.slice(path.basename(file).length + 1) || 0);
  return names.sort((a, b) => rank(b) - rank(a)).map((n) => ({ name: n, text: fs.readFileSync(path.join(path.dirname(file), n), "utf8") }));
}

describe("the vm-agent's log file", () => {
  it("rotates past the limit and keeps at most N old files, the newest lines in order", () => {
    const file = path.join(folder(), "vm-agent.log");
    const log = new RotatingFile(file, 100, 3);
    const lines = Array.from({ length: 50 }, (_, i) => `line ${String(i).padStart(2, "0")} ........\n`);
    for (const line of lines) log.write(line);
    log.close();
    const files = logFiles(file);
    expect(files.map((f) => f.name)).toEqual(["vm-agent.log.3", "vm-agent.log.2", "vm-agent.log.1", "vm-agent.log"]);
    for (const { text } of files) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(100);
    // What is left is the newest part of the log, whole lines, nothing skipped.
    const kept = files.map((f) => f.text).join("");
    expect(lines.join("").endsWith(kept)).toBe(true);
    expect(kept.startsWith("line ")).toBe(true);
    expect(kept.length).toBeGreaterThan(300);
  });

  it("keeps only the current file with KEEP 0, and gives a line longer than the limit a file of its own", () => {
    const file = path.join(folder(), "vm-agent.log");
    const log = new RotatingFile(file, 50, 0);
    for (let i = 0; i < 10; i++) log.write(`short ${i}\n`);
    log.write(`${"x".repeat(80)}\n`);
    log.close();
    expect(logFiles(file)).toEqual([{ name: "vm-agent.log", text: `${"x".repeat(80)}\n` }]);
  });

  it("counts what a previous daemon left in the file", () => {
    const file = path.join(folder(), "vm-agent.log");
    fs.writeFileSync(file, "a".repeat(90));
    const log = new RotatingFile(file, 100, 2);
    log.write("twenty bytes long..\n");
    log.close();
    expect(logFiles(file).map((f) => f.text)).toEqual(["a".repeat(90), "twenty bytes long..\n"]);
  });

  it("writes JSON lines through fileSink", () => {
    const file = path.join(folder(), "vm-agent.log");
    const rotating = new RotatingFile(file, 1_000, 1);
    createLogger(fileSink(rotating)).warn("heartbeat failed", { attempt: 2 });
    rotating.close();
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toMatchObject({ level: "warn", msg: "heartbeat failed", attempt: 2, time: expect.any(String) });
  });

  it("puts the node's id on every line, a child's bound ids on each of its lines, and drops what is below the configured level", () => {
    const file = path.join(folder(), "vm-agent.log");
    const log = daemonLogger({ NODE_ID: "n_1", VM_AGENT_LOG_LEVEL: "warn", VM_AGENT_LOG_FILE: file, VM_AGENT_LOG_MAX_BYTES: 10_000, VM_AGENT_LOG_KEEP: 1 });
    const workspace = log.child({ workspaceId: "w_1", taskId: "t_1" });
    log.info("below the level");
    log.warn("node line");
    workspace.child({ sessionId: "s_1" }).error("session line", { exitCode: 2 });
    workspace.warn("a line's own field wins", { taskId: "t_other" });
    workspace.debug("below the level too");
    const entries = fs.readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toEqual([
      { time: expect.any(String), level: "warn", msg: "node line", nodeId: "n_1" },
      { time: expect.any(String), level: "error", msg: "session line", nodeId: "n_1", workspaceId: "w_1", taskId: "t_1", sessionId: "s_1", exitCode: 2 },
      { time: expect.any(String), level: "warn", msg: "a line's own field wins", nodeId: "n_1", workspaceId: "w_1", taskId: "t_other" },
    ]);
  });

  it("is where main.ts logs when VM_AGENT_LOG_FILE is set, and stays within its bounds", async () => {
    const file = path.join(folder(), "logs", "vm-agent.log");
    const receiver = await startReceiver();
    const daemon = await daemonProcess(receiver, { VM_AGENT_LOG_FILE: file, VM_AGENT_LOG_MAX_BYTES: "200", VM_AGENT_LOG_KEEP: "1", HEARTBEAT_INTERVAL: "0" });
    cleanups.push(receiver.close, daemon.cleanup);
    const { child } = await daemon.start();
    // SIGTERM makes it log that it stops, after the line that it listens: two lines at least.
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    const files = logFiles(file);
    expect(files.map((f) => f.name)).toEqual(["vm-agent.log.1", "vm-agent.log"]);
    const entries = files.flatMap((f) => f.text.trim().split("\n")).map((l) => JSON.parse(l) as { msg: string });
    expect(entries.map((e) => e.msg)).toContain("vm-agent stopping");
    for (const { text } of files) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(200);
  });
});
