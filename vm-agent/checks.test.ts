/**
 * The repository's checks after each turn, through the real daemon: a script agent, real git, real
 * processes as the workspace's user, and the completion and output callbacks as the control plane
 * receives them.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeRepo } from "../tests/harness/git";
import { TurnChecks } from "../lib/contracts/checks";
import { readCheckMarker } from "../lib/contracts/checks";
import { sharedTempDir } from "../tests/harness/shared-dir";
import { daemonProcess, startReceiver, startTestAgent, workspaceRequest, type TestAgentOptions } from "./test-support";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The script agent runs its prompt as a shell script, so each turn does exactly what the test says. */
async function workspaceWith(files: Record<string, string>, settings: TestAgentOptions = {}, executable: string[] = []) {
  const receiver = await startReceiver();
  const agent = await startTestAgent(receiver.url, { SCRIPT_AGENT_COMMAND: 'eval "$AGENT_PROMPT"', ...settings });
  cleanups.push(receiver.close, agent.close);
  await agent.request("POST", "/workspaces", workspaceRequest(makeRepo(files, { executable })));
  await receiver.next(/w_1\/ready$/);
  return { agent, receiver, worktree: path.join(agent.workDir, "workspaces", "w_1", "repo") };
}
const startSession = (prompt: string, extra: Record<string, unknown> = {}) => ({ agent: "script", prompt, callbackToken: "cb", ...extra });

/** Every output line the daemon shipped for the session, in order. */
const shippedLines = (receiver: Awaited<ReturnType<typeof startReceiver>>, sessionId: string) =>
  receiver.received
    .filter((r) => r.path.endsWith(`/${sessionId}/output`))
    .sort((a, b) => (a.body.offset as number) - (b.body.offset as number))
    .flatMap((r) => r.body.lines as string[]);

/** Whether a process whose command line contains `text` is running on this machine. */
const processesWith = (text: string) => spawnSync("pgrep", ["-f", text]).status === 0;

/** Waits for a condition, looking every 50 ms, up to 20 s. */
async function until(condition: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const FAILING_UNTIL_FIXED = JSON.stringify({ name: "demo", scripts: { test: "test -f FIXED || { echo 'FIXED is missing' >&2; exit 1; }" } });

describe("checks after each turn", () => {
  it("runs package.json's test script on the turn's commit, reports it failing with its output, and passing once a follow-up fixes it", async () => {
    const { agent, receiver } = await workspaceWith({ "package.json": FAILING_UNTIL_FIXED });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", startSession("echo notes > NOTES.md"));
    const first = await receiver.nth(/s_1\/completed$/, 1);
    // The agent's turn succeeded: the checks failing is evidence, not a failed turn.
    expect(first.body.outcome).toBe("succeeded");
    const failed = TurnChecks.parse(first.body.checks);
    expect(failed).toMatchObject({ source: "package.json", passed: false });
    expect(failed.commands).toHaveLength(1);
    expect(failed.commands[0]).toMatchObject({ command: "npm test", timedOut: false });
    expect(failed.commands[0]!.exitCode).not.toBe(0);
    expect(failed.commands[0]!.outputTail).toContain("FIXED is missing");
    // The check's lines went out live with the session's output, between its markers.
    const lines = shippedLines(receiver, "s_1");
    const start = lines.findIndex((l) => readCheckMarker(l)?.phase === "start");
    const end = lines.findIndex((l) => readCheckMarker(l)?.phase === "end");
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    expect(lines.slice(start + 1, end)).toContain("FIXED is missing");
    expect(readCheckMarker(lines[end]!)).toMatchObject({ command: "npm test", exitCode: failed.commands[0]!.exitCode });

    expect((await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/prompt", { prompt: "touch FIXED", callbackToken: "cb" })).status).toBe(202);
    const second = await receiver.nth(/s_1\/completed$/, 2);
    expect(TurnChecks.parse(second.body.checks)).toMatchObject({ source: "package.json", passed: true, commands: [{ command: "npm test", exitCode: 0 }] });
  }, 90_000);

  it("runs the task's own checks in place of the repository's, each of them, as the workspace's user, killing what outlives CHECK_TIMEOUT", async () => {
    const { agent, receiver } = await workspaceWith({ "package.json": FAILING_UNTIL_FIXED }, { CHECK_TIMEOUT: 3_000 });
    const checks = ["id -un", "exit 3", "sleep 60", "echo never"];
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", startSession("echo a > A.md", { checks }));
    const done = await receiver.next(/s_1\/completed$/);
    const result = TurnChecks.parse(done.body.checks);
    expect(result.source).toBe("task");
    expect(result.passed).toBe(false);
    expect(result.commands.map((c) => c.command)).toEqual(checks);
    const [who, exit3, slow, never] = result.commands;
    expect(who!.exitCode).toBe(0);
    // On a root node each workspace has its own user; the checks run as it, never as root.
    if (process.getuid?.() === 0) expect(who!.outputTail).toMatch(/^acp[0-9a-f]{12}$/);
    expect(exit3!.exitCode).toBe(3);
    expect(slow).toMatchObject({ exitCode: null, timedOut: true });
    expect(slow!.durationMs).toBeLessThan(30_000);
    expect(never).toMatchObject({ exitCode: null, timedOut: true, outputTail: expect.stringContaining("not run") });
  }, 90_000);

  it("prefers .agent/checks.sh, treats one that links out of the worktree as absent, and reports none when nothing is declared", async () => {
    const script = await workspaceWith({ ".agent/checks.sh": "echo checked\n", "package.json": FAILING_UNTIL_FIXED });
    await script.agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", startSession("echo a > A.md"));
    expect(TurnChecks.parse((await script.receiver.next(/s_1\/completed$/)).body.checks)).toMatchObject({ source: ".agent/checks.sh", passed: true, commands: [{ command: "bash .agent/checks.sh", exitCode: 0, outputTail: "checked" }] });

    // The agent turns the script into a link to a file of the node's: it is not run (the package's test is).
    const linked = await workspaceWith({ ".agent/checks.sh": "echo checked\n", "package.json": FAILING_UNTIL_FIXED });
    await linked.agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", startSession("rm .agent/checks.sh && ln -s /etc/shadow .agent/checks.sh"));
    expect(TurnChecks.parse((await linked.receiver.next(/s_1\/completed$/)).body.checks)).toMatchObject({ source: "package.json", passed: false });

    const none = await workspaceWith({ "package.json": JSON.stringify({ scripts: { test: 'echo "Error: no test specified" && exit 1' } }) });
    await none.agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", startSession("echo a > A.md"));
    expect(TurnChecks.parse((await none.receiver.next(/s_1\/completed$/)).body.checks)).toEqual({ source: "none", commands: [], passed: true });
    expect(fs.existsSync(path.join(none.worktree, "A.md"))).toBe(true);
  }, 120_000);

  it("stops the running checks when the workspace is stopped (a cancel), leaves nothing running and reports nothing", async () => {
    const { agent, receiver } = await workspaceWith({});
    const marker = `acp-check-${process.pid}-${Date.now()}`;
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", startSession("echo a > A.md", { checks: [`echo ${marker}; exec sleep 120`, "echo never"] }));
    // The check has started once its first line was shipped.
    await until(() => shippedLines(receiver, "s_1").includes(marker), "the check's first line");
    expect((await agent.request("POST", "/workspaces/w_1/stop")).status).toBe(200);
    await until(() => !processesWith("sleep 120"), "the check's process gone");
    await until(async () => (await agent.request("GET", "/workspaces/w_1/agent-sessions/s_1")).body.status === "stopped", "the session stopped");
    expect(receiver.received.filter((r) => r.path.endsWith("/s_1/completed"))).toEqual([]);
  }, 60_000);

  it("survives kill -9 of the daemon while the checks run: the restarted daemon runs them again and reports the turn once", async () => {
    const gate = sharedTempDir("checks-gate-");
    const receiver = await startReceiver();
    const daemon = await daemonProcess(receiver, { SCRIPT_AGENT_COMMAND: 'eval "$AGENT_PROMPT"' });
    cleanups.push(receiver.close, daemon.cleanup);
    const first = await daemon.start();
    await daemon.call(first.endpoint, "POST", "/workspaces", workspaceRequest(makeRepo()));
    await receiver.next(/w_1\/ready$/);
    // The first run of the check says it started and waits for the gate; the second passes through it.
    const check = `echo run >> '${gate}/runs'; while [ ! -e '${gate}/open' ]; do sleep 0.05; done; echo checked`;
    await daemon.call(first.endpoint, "POST", "/workspaces/w_1/agent-sessions/s_1/start", startSession("echo a > A.md", { checks: [check] }));
    await until(() => fs.existsSync(path.join(gate, "runs")), "the check started");
    await daemon.killHard(first.child);
    fs.writeFileSync(path.join(gate, "open"), "");
    await daemon.start();
    const done = await receiver.next(/s_1\/completed$/);
    expect(TurnChecks.parse(done.body.checks)).toMatchObject({ source: "task", passed: true, commands: [{ exitCode: 0, outputTail: "checked" }] });
    expect(fs.readFileSync(path.join(gate, "runs"), "utf8").trim().split("\n").length).toBeGreaterThanOrEqual(2);
    expect(receiver.received.filter((r) => r.path.endsWith("/s_1/completed"))).toHaveLength(1);
  }, 90_000);

  it("runs no checks after a turn whose agent failed", async () => {
    const { agent, receiver } = await workspaceWith({ "package.json": FAILING_UNTIL_FIXED });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", startSession("echo a > A.md; exit 4"));
    const done = await receiver.next(/s_1\/completed$/);
    expect(done.body).toMatchObject({ outcome: "failed", exitCode: 4 });
    expect(done.body.checks).toBeUndefined();
  }, 60_000);
});
