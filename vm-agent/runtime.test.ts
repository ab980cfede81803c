/**
 * The runtime rules of the node (issue 5): real tmux on a private socket per test, real
 * processes, real git. The agent here holds until the test creates its release file.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { git, makeRepo } from "../tests/harness/git";
import { alive } from "./runtime/processes";
import { daemonProcess, startReceiver, startTestAgent, testKey, waitForFile } from "./test-support";
import { sharedTempDir } from "../tests/harness/shared-dir";

const HOLD = 'f="${AGENT_PROMPT#hold:}"; echo "$$" > "$f.pid"; while [ ! -e "$f" ]; do sleep 0.05; done; echo done > held.txt';
const releaseDir = sharedTempDir("vm-agent-release-");
let seq = 0;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const workspace = (repository: string, id = "w_1") => ({ workspaceId: id, taskId: "t_1", repository, branch: "agents/rt-1", callbackToken: "cb-token" });

function holdFile() {
  return path.join(releaseDir, `hold-${++seq}`);
}


async function readyAgent(overrides = {}) {
  const receiver = await startReceiver();
  const agent = await startTestAgent(receiver.url, { SCRIPT_AGENT_COMMAND: HOLD, ...overrides });
  cleanups.push(receiver.close, agent.close);
  const repo = makeRepo();
  await agent.request("POST", "/workspaces", workspace(repo));
  await receiver.next(/w_1\/ready$/);
  return { receiver, agent, repo };
}

/** Starts a held session and resolves with the agent's pid once it runs. */
async function heldSession(agent: Awaited<ReturnType<typeof startTestAgent>>, sessionId = "s_1") {
  const release = holdFile();
  const answer = await agent.request("POST", `/workspaces/w_1/agent-sessions/${sessionId}/start`, { agent: "script", prompt: `hold:${release}`, callbackToken: "cb" });
  expect(answer.status).toBe(202);
  await waitForFile(`${release}.pid`);
  return { release: () => fs.writeFileSync(release, "go"), pid: Number(fs.readFileSync(`${release}.pid`, "utf8")) };
}

describe("launch", () => {
  it("runs the agent in a tmux session on the vm-agent's socket, marked as ours", async () => {
    const { agent } = await readyAgent();
    const { release } = await heldSession(agent);
    const sessions = await agent.tmux.list();
    expect(sessions).toEqual([expect.objectContaining({ name: "acp-s_1", owner: agent.config.NODE_ID, generation: "1" })]);
    // A repeat of the start is the same session, not a second one.
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: "hold:x", callbackToken: "cb" });
    expect(await agent.tmux.list()).toHaveLength(1);
    release();
  });

  it("refuses a launch while the workspace is stopping", async () => {
    const { agent } = await readyAgent();
    const runtime = agent.agent.manager.runtime;
    let finishStop!: () => void;
    const stopping = runtime.whileStopping("w_1", () => new Promise<void>((resolve) => (finishStop = resolve)));
    const refused = await agent.request("POST", "/workspaces/w_1/agent-sessions/s_2/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    expect(refused.status).toBe(409);
    finishStop();
    await stopping;
  });
});

describe("restart", () => {
  it("an agent keeps running through kill -9 of the vm-agent; the restarted one adopts it and reports once", async () => {
    const receiver = await startReceiver();
    const daemon = await daemonProcess(receiver, { SCRIPT_AGENT_COMMAND: HOLD });
    cleanups.push(receiver.close, daemon.cleanup);

    const first = await daemon.start();
    expect(await daemon.call(first.endpoint, "POST", "/workspaces", workspace(makeRepo()))).toBe(202);
    await receiver.next(/w_1\/ready$/);
    const release = holdFile();
    expect(await daemon.call(first.endpoint, "POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: `hold:${release}`, callbackToken: "cb" })).toBe(202);
    await waitForFile(`${release}.pid`);
    const agentPid = Number(fs.readFileSync(`${release}.pid`, "utf8"));

    await daemon.killHard(first.child);
    expect(alive(agentPid)).toBe(true); // the agent did not notice

    await daemon.start();
    fs.writeFileSync(release, "go");
    const done = await receiver.next(/agent-sessions\/s_1\/completed$/);
    expect(done.body).toMatchObject({ outcome: "succeeded", exitCode: 0 });
    expect(receiver.received.filter((r) => r.path.endsWith("/s_1/completed"))).toHaveLength(1);
  });

  it("reaps our unrecorded tmux sessions at start-up and never touches foreign ones", async () => {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const key = await testKey();
    const first = await startTestAgent(receiver.url, { key });
    cleanups.push(first.close);
    const ours = "acp-orphan";
    const foreign = "someone-elses";
    await first.tmux.newSession({ name: ours, cwd: os.tmpdir(), command: ["sleep", "600"] });
    await first.tmux.setOption(ours, "@acp-owner", first.config.NODE_ID);
    await first.tmux.newSession({ name: foreign, cwd: os.tmpdir(), command: ["sleep", "600"] });
    await first.detach();

    const second = await startTestAgent(receiver.url, { key, workDir: first.workDir, NODE_ID: first.config.NODE_ID });
    cleanups.push(second.detach);
    const names = (await second.tmux.list()).map((s) => s.name);
    expect(names).toEqual([foreign]);
  });

  it("a session that vanished while the vm-agent was down is reported failed and its workspace errors", async () => {
    const { agent, receiver } = await readyAgent();
    const { pid } = await heldSession(agent);
    await agent.detach();
    await agent.tmux.killSession("acp-s_1");
    process.kill(pid, "SIGKILL");

    const restarted = await startTestAgent(receiver.url, { workDir: agent.workDir, NODE_ID: agent.config.NODE_ID, SCRIPT_AGENT_COMMAND: HOLD });
    cleanups.push(restarted.detach);
    const done = await receiver.next(/s_1\/completed$/);
    expect(done.body).toMatchObject({ outcome: "failed" });
    expect(String(done.body.error)).toMatch(/vanished|exited/);
  });
});

describe("delete", () => {
  it("refuses unpushed work with 409 and stops nothing; forced, it leaves no session, process, worktree or branch", async () => {
    const { agent } = await readyAgent({ GIT_PUSH: "never" });
    const { pid, release } = await heldSession(agent);
    const worktree = path.join(agent.workDir, "workspaces", "w_1", "repo");
    fs.writeFileSync(path.join(worktree, "unsaved.txt"), "work in progress\n");

    const refused = await agent.request("DELETE", "/workspaces/w_1");
    expect(refused.status).toBe(409);
    expect(alive(pid)).toBe(true);
    expect(await agent.tmux.hasSession("acp-s_1")).toBe(true);

    const forced = await agent.request("DELETE", "/workspaces/w_1?force=true");
    expect(forced.status).toBe(200);
    expect(await agent.tmux.list()).toEqual([]);
    expect(alive(pid)).toBe(false);
    expect(fs.existsSync(path.join(agent.workDir, "workspaces", "w_1"))).toBe(false);
    expect((await agent.request("DELETE", "/workspaces/w_1")).status).toBe(404);
    release();
  });

  it("deletes a clean workspace whose branch is pushed without force", async () => {
    const { agent, receiver, repo } = await readyAgent({ SCRIPT_AGENT_COMMAND: "echo hi > hi.txt" });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_p/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    const done = await receiver.next(/s_p\/completed$/);
    expect(done.body.pushed).toBe(true);
    expect(git(repo, "rev-parse", "agents/rt-1")).toBe(done.body.commit);
    expect((await agent.request("DELETE", "/workspaces/w_1")).status).toBe(200);
  });
});

describe("outbox", () => {
  it("delivers a callback once the control plane comes back, across a vm-agent restart", async () => {
    let down = true;
    const receiver = await startReceiver((p) => (down && p.endsWith("/workspaces/w_1/ready") ? 503 : 200));
    cleanups.push(receiver.close);
    const first = await startTestAgent(receiver.url);
    cleanups.push(first.close);
    await first.request("POST", "/workspaces", workspace(makeRepo()));
    // Wait until the first attempt was refused, then stop the vm-agent with the callback pending.
    await new Promise<void>((resolve) => {
      const check = () => ((receiver.attempts.get("/api/workspaces/w_1/ready") ?? 0) > 0 ? resolve() : setTimeout(check, 10));
      check();
    });
    await first.detach();
    expect(first.outbox.size()).toBe(1);

    down = false;
    const second = await startTestAgent(receiver.url, { workDir: first.workDir, NODE_ID: first.config.NODE_ID });
    cleanups.push(second.detach);
    const ready = await receiver.next(/w_1\/ready$/);
    expect(ready.body.branch).toBe("agents/rt-1");
    expect(receiver.received.filter((r) => r.path.endsWith("/workspaces/w_1/ready"))).toHaveLength(1);
  });
});

describe("stress", () => {
  it("leaves no tmux session or agent process after many parallel launch, stop and delete cycles", async () => {
    const receiver = await startReceiver();
    const agent = await startTestAgent(receiver.url, { SCRIPT_AGENT_COMMAND: "echo $$ > agent.pid; exec sleep 600", STOP_GRACE: 300 });
    cleanups.push(receiver.close, agent.close);
    const repo = makeRepo();
    const pids: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        for (let round = 0; round < 3; round++) {
          const id = `w_s${lane}_${round}`;
          const sid = `s_${lane}_${round}`;
          await agent.request("POST", "/workspaces", workspace(repo, id));
          await receiver.next(new RegExp(`${id}/ready$`));
          const started = await agent.request("POST", `/workspaces/${id}/agent-sessions/${sid}/start`, { agent: "script", prompt: "x", callbackToken: "cb" });
          expect(started.status, JSON.stringify(started.body)).toBe(202);
          const pidFile = path.join(agent.workDir, "workspaces", id, "repo", "agent.pid");
          await waitForFile(pidFile);
          pids.push(Number(fs.readFileSync(pidFile, "utf8")));
          // Alternate the two ways out: stop then delete, or a forced delete of a running agent.
          if (round % 2 === 0) expect((await agent.request("POST", `/workspaces/${id}/stop`, {})).status).toBe(200);
          expect((await agent.request("DELETE", `/workspaces/${id}?force=true`)).status).toBe(200);
        }
      }),
    );
    expect(await agent.tmux.list()).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
    expect(fs.readdirSync(path.join(agent.workDir, "workspaces"))).toEqual([]);
  }, 120_000);
});

describe("the control plane unreachable for 20 s during completion", () => {
  it("delivers the completion when it comes back", async () => {
    const OUTAGE_MS = 4_000;
    const receiver = await startReceiver();
    // Attempts 0.2 s, 0.6 s, 1.4 s, 3 s, 4.6 s … after the first: the policy bridges a 4 s outage
    // (the shape of the defaults, a fifth of their time). Jitter is pinned to its ceiling so the
    // schedule, and this test, are deterministic.
    const retryPolicy = { maxAttempts: 8, maxElapsedMs: 120_000, baseDelayMs: 200, maxDelayMs: 1_600, requestTimeoutMs: 2_000, random: () => 0.999 };
    const agent = await startTestAgent(receiver.url, { SCRIPT_AGENT_COMMAND: HOLD, retryPolicy });
    cleanups.push(receiver.close, agent.close);
    await agent.request("POST", "/workspaces", workspace(makeRepo()));
    await receiver.next(/w_1\/ready$/);
    const { release } = await heldSession(agent);

    await receiver.goDown();
    const downAt = Date.now();
    release(); // the agent finishes while nothing answers
    const backIn = setTimeout(() => void receiver.comeBack(), OUTAGE_MS);
    cleanups.push(() => clearTimeout(backIn));

    const done = await receiver.next(/s_1\/completed$/);
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(OUTAGE_MS);
    expect(done.body).toMatchObject({ outcome: "succeeded", exitCode: 0 });
    expect(receiver.received.filter((r) => r.path.endsWith("/s_1/completed"))).toHaveLength(1);
  }, 60_000);
});
