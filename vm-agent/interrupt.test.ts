/**
 * Interrupting a running turn (the control plane's, for a task whose spend budget ran out), through
 * the real daemon: real tmux, real git, the agent's real processes. The script agent runs its prompt
 * as a shell script, so each turn does exactly what the test says; the control plane's calls go
 * through its own client (lib/nodes/vm-agent-client.ts) or as it makes them.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AgentCompletedCallback, AgentSessionState } from "../lib/contracts/vm-agent";
import { vmAgentClient } from "../lib/nodes/vm-agent-client";
import { git, makeRepo } from "../tests/harness/git";
import { sharedTempDir } from "../tests/harness/shared-dir";
import { RecordStore } from "./state/records";
import { SessionRecord } from "./state/schemas";
import { daemonProcess, gone, startReceiver, startTestAgent, testKey, waitForFile, workspaceRequest, type TestAgentOptions } from "./test-support";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const RUN_PROMPT = 'eval "$AGENT_PROMPT"';
const REASON = "the task's spend budget of $5.00 is spent";
const interruptPath = (sessionId: string, workspaceId = "w_1") => `/workspaces/${workspaceId}/agent-sessions/${sessionId}/interrupt`;

/** A ready workspace on an in-process daemon; the control plane's client for it, with the same key. */
async function readyWorkspace(settings: TestAgentOptions = {}) {
  const receiver = await startReceiver();
  const key = await testKey();
  const agent = await startTestAgent(receiver.url, { key, SCRIPT_AGENT_COMMAND: RUN_PROMPT, ...settings });
  cleanups.push(receiver.close, agent.close);
  const repo = makeRepo();
  await agent.request("POST", "/workspaces", workspaceRequest(repo));
  await receiver.next(/w_1\/ready$/);
  const client = vmAgentClient({ endpoint: agent.base, nodeId: agent.config.NODE_ID, certificateFingerprint: agent.certificateFingerprint, key: key.key, tokenTtlMs: 60_000, timeoutMs: 10_000 });
  return { receiver, agent, repo, client, key };
}

/** Where a test's agent leaves its pid and its checks leave their marks (outside the worktree: not committed). */
function marksDir() {
  const dir = sharedTempDir("vm-agent-interrupt-");
  return { dir, pid: path.join(dir, "agent.pid"), checks: path.join(dir, "checks"), signalled: path.join(dir, "signalled") };
}

const completions = (receiver: Awaited<ReturnType<typeof startReceiver>>, sessionId: string) => receiver.received.filter((r) => r.path.endsWith(`/${sessionId}/completed`));

describe("interrupting a running turn", () => {
  it("ends the turn as a person's C-c would: its work so far is committed and pushed, no checks run, and the next prompt runs as turn 2", async () => {
    const { receiver, agent, repo, client } = await readyWorkspace();
    const marks = marksDir();
    // The task's checks leave a mark each time they run.
    const checks = [`echo ran >> '${marks.checks}'`];
    const prompt = `echo before > BEFORE.md; echo $$ > '${marks.pid}'; exec sleep 600`;
    expect(await client.startAgentSession("w_1", "s_1", { agent: "script", prompt, callbackToken: "cb", secrets: {}, checks })).toEqual({ sessionId: "s_1", status: "running" });
    await waitForFile(marks.pid);
    const pid = Number(fs.readFileSync(marks.pid, "utf8"));

    const asked = Date.now();
    expect(await agent.request("POST", interruptPath("s_1"), { turn: 1, reason: REASON })).toEqual({ status: 202, body: { sessionId: "s_1", status: "running" } });
    // Sent again (the control plane retried): nothing more is done (the turn may be ending by now).
    const repeat = await agent.request("POST", interruptPath("s_1"), { turn: 1, reason: REASON });
    expect(repeat).toMatchObject({ status: 200, body: { sessionId: "s_1" } });
    expect(["running", "completing", "completed"]).toContain(repeat.body.status);

    const done = await receiver.next(/s_1\/completed$/);
    // It ended at the interrupt, not after the 600 s it meant to sleep, nor after the grace (10 s by default).
    expect(Date.now() - asked).toBeLessThan(10_000);
    const body = AgentCompletedCallback.parse(done.body);
    // SIGINT's exit code is the interrupt's doing, not an error; the work is kept, so the turn succeeded.
    expect(body).toMatchObject({ messageId: "s_1-t1-completed", turn: 1, outcome: "succeeded", exitCode: 130, pushed: true, interrupted: { reason: REASON } });
    expect(body.error).toBeUndefined();
    expect(body.checks).toBeUndefined();
    expect(fs.existsSync(marks.checks)).toBe(false);
    // What it wrote before the interrupt is in the pushed commit.
    expect(git(repo, "rev-parse", "agents/test-1")).toBe(body.commit);
    expect(git(repo, "show", `${body.commit}:BEFORE.md`)).toBe("before");
    expect(gone(pid)).toBe(true);
    expect(await agent.tmux.list()).toEqual([]);

    // The session's state carries the same completion; an interrupt of the ended turn is a no-op.
    const state = AgentSessionState.parse((await agent.request("GET", "/workspaces/w_1/agent-sessions/s_1")).body);
    expect(state).toEqual({ sessionId: "s_1", workspaceId: "w_1", status: "completed", turn: 1, completion: done.body });
    expect(await client.interruptAgentSession("w_1", "s_1", { turn: 1, reason: REASON })).toEqual({ sessionId: "s_1", status: "completed" });

    // The session goes on: the next prompt is turn 2, a normal turn again, with its checks.
    expect((await client.promptAgentSession("w_1", "s_1", { prompt: "echo after > AFTER.md", callbackToken: "cb2", secrets: {}, turn: 2 }))?.status).toBe("running");
    const second = AgentCompletedCallback.parse((await receiver.nth(/s_1\/completed$/, 2)).body);
    expect(second).toMatchObject({ messageId: "s_1-t2-completed", turn: 2, outcome: "succeeded", exitCode: 0, pushed: true, checks: { source: "task", passed: true } });
    expect(second.interrupted).toBeUndefined();
    expect(fs.readFileSync(marks.checks, "utf8")).toBe("ran\n");
    expect(git(repo, "show", `${second.commit}:BEFORE.md`)).toBe("before");
    expect(git(repo, "show", `${second.commit}:AFTER.md`)).toBe("after");
    // An interrupt naming a turn that is not the current one does nothing.
    expect(await agent.request("POST", interruptPath("s_1"), { turn: 1, reason: REASON })).toEqual({ status: 200, body: { sessionId: "s_1", status: "completed" } });
    expect(await agent.request("POST", interruptPath("s_1"), { turn: 3, reason: REASON })).toEqual({ status: 200, body: { sessionId: "s_1", status: "completed" } });
    expect(completions(receiver, "s_1")).toHaveLength(2);
  }, 90_000);

  it("kills an agent that outlives its grace after the interrupt, and still keeps its work", async () => {
    const { receiver, agent, repo } = await readyWorkspace({ INTERRUPT_GRACE: 1_000 });
    const marks = marksDir();
    // It ignores SIGINT (its sleeps inherit that), so only the kill ends it.
    const prompt = `trap '' INT; echo before > BEFORE.md; echo $$ > '${marks.pid}'; while :; do sleep 0.1; done`;
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt, callbackToken: "cb" });
    await waitForFile(marks.pid);
    const pid = Number(fs.readFileSync(marks.pid, "utf8"));

    const asked = Date.now();
    expect((await agent.request("POST", interruptPath("s_1"), { turn: 1, reason: REASON })).status).toBe(202);
    const done = AgentCompletedCallback.parse((await receiver.next(/s_1\/completed$/)).body);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(1_000);
    expect(done).toMatchObject({ outcome: "succeeded", exitCode: null, pushed: true, interrupted: { reason: REASON } });
    expect(done.error).toBeUndefined();
    expect(git(repo, "show", `${done.commit}:BEFORE.md`)).toBe("before");
    expect(gone(pid)).toBe(true);
    // Killed at the daemon's request, not lost: the workspace stays usable and the session goes on.
    expect((await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/prompt", { prompt: "echo after > AFTER.md", callbackToken: "cb", turn: 2 })).status).toBe(202);
    expect((await receiver.nth(/s_1\/completed$/, 2)).body).toMatchObject({ turn: 2, outcome: "succeeded", exitCode: 0 });
  }, 60_000);

  it("is refused when malformed, for an unknown session, or without a token for the workspace", async () => {
    const { agent } = await readyWorkspace();
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: "echo quick > QUICK.md", callbackToken: "cb" });
    expect(await agent.request("POST", interruptPath("s_1"), { turn: 1 })).toMatchObject({ status: 422, body: { field: "reason" } });
    expect(await agent.request("POST", interruptPath("s_1"), { turn: 1, reason: "" })).toMatchObject({ status: 422, body: { field: "reason" } });
    expect(await agent.request("POST", interruptPath("s_1"), { turn: 1, reason: "x".repeat(501) })).toMatchObject({ status: 422, body: { field: "reason" } });
    expect(await agent.request("POST", interruptPath("s_1"), { turn: 0, reason: REASON })).toMatchObject({ status: 422, body: { field: "turn" } });
    expect(await agent.request("POST", interruptPath("s_none"), { turn: 1, reason: REASON })).toMatchObject({ status: 404, body: { error: expect.stringContaining("s_none") } });
    expect(await agent.request("POST", interruptPath("s_1", "w_none"), { turn: 1, reason: REASON })).toMatchObject({ status: 404, body: { error: expect.stringContaining("w_none") } });
    expect((await agent.request("POST", interruptPath("s_1"), { turn: 1, reason: REASON }, "")).status).toBe(401);
    const otherWorkspace = `Bearer ${await agent.token({ workspaceId: "w_2" })}`;
    expect((await agent.request("POST", interruptPath("s_1"), { turn: 1, reason: REASON }, otherWorkspace)).status).toBe(403);
  });
});

describe("an interrupt across a daemon restart", () => {
  it("survives kill -9 of the daemon between the interrupt and the turn's end: the restarted daemon kills the agent at its grace's end and reports the turn interrupted, once", async () => {
    const receiver = await startReceiver();
    const daemon = await daemonProcess(receiver, { SCRIPT_AGENT_COMMAND: RUN_PROMPT, INTERRUPT_GRACE: "4s" });
    cleanups.push(receiver.close, daemon.cleanup);
    const marks = marksDir();
    const first = await daemon.start();
    const repo = makeRepo();
    expect(await daemon.call(first.endpoint, "POST", "/workspaces", workspaceRequest(repo))).toBe(202);
    await receiver.next(/w_1\/ready$/);
    // It notes the SIGINT and goes on working: only the kill at the grace's end stops it.
    const prompt = `trap "echo got >> '${marks.signalled}'" INT; echo before > BEFORE.md; echo $$ > '${marks.pid}'; while :; do sleep 0.1; done`;
    const checks = [`echo ran >> '${marks.checks}'`];
    expect(await daemon.call(first.endpoint, "POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt, callbackToken: "cb", checks })).toBe(202);
    await waitForFile(marks.pid);
    const pid = Number(fs.readFileSync(marks.pid, "utf8"));

    expect(await daemon.answer(first.endpoint, "POST", interruptPath("s_1"), { turn: 1, reason: REASON })).toEqual({ status: 202, body: { sessionId: "s_1", status: "running" } });
    await waitForFile(marks.signalled);
    await daemon.killHard(first.child);
    expect(gone(pid)).toBe(false); // the agent outlived the daemon

    const second = await daemon.start();
    const done = AgentCompletedCallback.parse((await receiver.next(/s_1\/completed$/)).body);
    expect(done).toMatchObject({ turn: 1, outcome: "succeeded", exitCode: null, pushed: true, interrupted: { reason: REASON } });
    expect(done.checks).toBeUndefined();
    expect(fs.existsSync(marks.checks)).toBe(false);
    expect(git(repo, "show", `${done.commit}:BEFORE.md`)).toBe("before");
    expect(gone(pid)).toBe(true);
    // Signalled once (the restarted daemon did not send it again), reported once, and a repeat is a no-op.
    expect(fs.readFileSync(marks.signalled, "utf8")).toBe("got\n");
    expect(await daemon.answer(second.endpoint, "POST", interruptPath("s_1"), { turn: 1, reason: REASON })).toEqual({ status: 200, body: { sessionId: "s_1", status: "completed" } });
    expect(completions(receiver, "s_1")).toHaveLength(1);
  }, 90_000);

  it("signals the agent after a restart when the daemon died between recording the interrupt and sending it", async () => {
    const { receiver, agent, repo, key } = await readyWorkspace();
    const marks = marksDir();
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: `echo before > BEFORE.md; echo $$ > '${marks.pid}'; exec sleep 600`, callbackToken: "cb" });
    await waitForFile(marks.pid);
    const pid = Number(fs.readFileSync(marks.pid, "utf8"));
    await agent.detach();
    // What a daemon that died right after recording the request leaves: the interrupt on the session's record, no signal sent.
    const sessions = new RecordStore(path.join(agent.workDir, "state", "sessions"), SessionRecord);
    sessions.put("s_1", { ...sessions.get("s_1")!, interrupt: { reason: REASON } });
    expect(gone(pid)).toBe(false);

    const restarted = await startTestAgent(receiver.url, { key, workDir: agent.workDir, NODE_ID: agent.config.NODE_ID, SCRIPT_AGENT_COMMAND: RUN_PROMPT });
    cleanups.push(restarted.detach);
    const done = AgentCompletedCallback.parse((await receiver.next(/s_1\/completed$/)).body);
    expect(done).toMatchObject({ outcome: "succeeded", exitCode: 130, pushed: true, interrupted: { reason: REASON } });
    expect(git(repo, "show", `${done.commit}:BEFORE.md`)).toBe("before");
    expect(gone(pid)).toBe(true);
    expect(completions(receiver, "s_1")).toHaveLength(1);
  }, 60_000);
});
