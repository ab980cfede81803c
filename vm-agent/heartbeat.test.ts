import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { makeRepo } from "../tests/harness/git";
import { CONTRACT_VERSION, NodeHeartbeatCallback } from "../lib/contracts/vm-agent";
import { Heartbeat } from "./heartbeat";
import { createLogger } from "./log";
import { daemonProcess, startReceiver, startTestAgent, waitForFile, workspaceRequest } from "./test-support";
import { sharedTempDir } from "../tests/harness/shared-dir";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Seen = { authorization: string | undefined; body: unknown; closed: Promise<void> };

/** A control plane that answers heartbeats as `mode` says: at once with a status, or never. */
async function heartbeatServer() {
  const requests: Seen[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let open = 0;
  const state = { mode: "hang" as "hang" | number, maxOpen: 0 };
  const server = http.createServer(async (request, response) => {
    open++;
    state.maxOpen = Math.max(state.maxOpen, open);
    const closed = new Promise<void>((resolve) => response.once("close", () => resolve()));
    void closed.then(() => open--);
    let text = "";
    for await (const chunk of request) text += chunk;
    requests.push({ authorization: request.headers.authorization, body: JSON.parse(text), closed });
    for (const w of waiters.filter((w) => requests.length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    if (state.mode !== "hang") response.writeHead(state.mode).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/nodes/n_1/heartbeat`),
    requests,
    state,
    /** Resolves once the `count`th request has arrived. */
    arrived: (count: number) => new Promise<void>((resolve) => (requests.length >= count ? resolve() : waiters.push({ count, resolve }))),
  };
}

const body = async (): Promise<NodeHeartbeatCallback> => ({ cpuPercent: 1, memoryPercent: 2, diskPercent: 3, workspaces: 0, sessions: [], version: "t", contractVersion: CONTRACT_VERSION });

function recordingLog() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const log = createLogger((entry) => lines.push(entry));
  return { log, lines };
}

describe("the heartbeat loop", () => {
  it("sends the first heartbeat at once, with the node's token", async () => {
    const server = await heartbeatServer();
    server.state.mode = 200;
    const heartbeat = new Heartbeat({ url: server.url, token: "node-token", intervalMs: 60_000, requestTimeoutMs: 5_000, body, log: recordingLog().log });
    cleanups.push(() => heartbeat.stop());
    heartbeat.start();
    // The interval is a minute: only a heartbeat sent at start arrives within the test's time.
    await server.arrived(1);
    expect(server.requests[0]).toMatchObject({ authorization: "Bearer node-token", body: await body() });
  });

  it("tells when the control plane took one (so the outbox sends again what it gave up on), and not when it refused one", async () => {
    const server = await heartbeatServer();
    server.state.mode = 503;
    let delivered = 0;
    const heartbeat = new Heartbeat({ url: server.url, token: "t", intervalMs: 10, requestTimeoutMs: 5_000, body, log: recordingLog().log, onDelivered: () => delivered++ });
    cleanups.push(() => heartbeat.stop());
    heartbeat.start();
    await server.arrived(2);
    expect(delivered).toBe(0);
    server.state.mode = 200;
    await expect.poll(() => delivered).toBeGreaterThan(0);
  });

  it("has one heartbeat in flight at most, gives up a hung one at the timeout, and warns at most once a minute", async () => {
    const server = await heartbeatServer();
    const { log, lines } = recordingLog();
    let clock = 0;
    const heartbeat = new Heartbeat({ url: server.url, token: "t", intervalMs: 10, requestTimeoutMs: 300, body, log, now: () => clock });
    cleanups.push(() => heartbeat.stop());
    heartbeat.start();
    await server.arrived(1);
    await server.requests[0]!.closed;
    // 300 ms went by at a 10 ms interval, and still the hung heartbeat was the only one.
    expect(server.requests).toHaveLength(1);
    await server.arrived(2);
    expect(lines).toEqual([{ level: "warn", msg: "heartbeat failed", fields: expect.objectContaining({ failuresSinceLastWarning: 1, error: expect.stringMatching(/abort|timeout/i) }) }]);
    await server.arrived(3);
    // The second failure came within the minute: not logged.
    expect(lines).toHaveLength(1);
    clock += 61_000;
    await server.arrived(4);
    expect(lines).toHaveLength(2);
    expect(lines[1]!.fields.failuresSinceLastWarning).toBe(2);
    // The control plane answers again: one line says so.
    server.state.mode = 200;
    await server.arrived(6);
    expect(lines.slice(2)).toEqual([{ level: "info", msg: "heartbeat delivered again", fields: expect.any(Object) }]);
    expect(server.state.maxOpen).toBe(1);
  });

  it("counts an error answer as a failure", async () => {
    const server = await heartbeatServer();
    server.state.mode = 503;
    const { log, lines } = recordingLog();
    const heartbeat = new Heartbeat({ url: server.url, token: "t", intervalMs: 10, requestTimeoutMs: 5_000, body, log });
    cleanups.push(() => heartbeat.stop());
    heartbeat.start();
    await server.arrived(2);
    expect(lines[0]).toMatchObject({ level: "warn", fields: { error: expect.stringContaining("503") } });
  });

  it("stop() abandons the heartbeat in flight without a warning; interval 0 sends none", async () => {
    const server = await heartbeatServer();
    const { log, lines } = recordingLog();
    const heartbeat = new Heartbeat({ url: server.url, token: "t", intervalMs: 10, requestTimeoutMs: 30_000, body, log });
    heartbeat.start();
    await server.arrived(1);
    await heartbeat.stop();
    await server.requests[0]!.closed;
    expect(lines).toEqual([]);

    let asked = 0;
    const counting = () => (asked++, body());
    const off = new Heartbeat({ url: server.url, token: "t", intervalMs: 0, requestTimeoutMs: 1_000, log, body: counting });
    off.start();
    // A started heartbeat gathers its first body at once (synchronously); a disabled one never does.
    expect(asked).toBe(0);
    const on = new Heartbeat({ url: server.url, token: "t", intervalMs: 10, requestTimeoutMs: 1_000, log, body: counting });
    on.start();
    expect(asked).toBe(1);
    await on.stop();
  });
});

describe("heartbeats of a real vm-agent", () => {
  it("carry the node token, plausible figures and the session while its agent works", async () => {
    const receiver = await startReceiver();
    const gate = sharedTempDir("vm-agent-gate-");
    const command = `echo up > "${gate}/started"; while [ ! -e "${gate}/open" ]; do sleep 0.05; done`;
    const agent = await startTestAgent(receiver.url, { HEARTBEAT_INTERVAL: 100, SCRIPT_AGENT_COMMAND: command });
    cleanups.push(receiver.close, agent.close, () => fs.rmSync(gate, { recursive: true, force: true }));
    const heartbeat = new RegExp(`/api/nodes/${agent.config.NODE_ID}/heartbeat$`);
    const first = await receiver.next(heartbeat);
    expect(first.authorization).toBe("Bearer node-callback-token");
    expect(first.body).toMatchObject({ workspaces: 0, sessions: [] });

    await agent.request("POST", "/workspaces", workspaceRequest(makeRepo()));
    await receiver.next(/w_1\/ready$/);
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    await waitForFile(path.join(gate, "started"));
    const working = await receiver.until((r) => heartbeat.test(r.path) && JSON.stringify(r.body.sessions).includes("s_1"));
    const parsed = NodeHeartbeatCallback.parse(working.body);
    expect(parsed).toMatchObject({ workspaces: 1, sessions: [{ sessionId: "s_1", workspaceId: "w_1", status: "running" }], contractVersion: CONTRACT_VERSION });
    for (const figure of [parsed.cpuPercent, parsed.memoryPercent, parsed.diskPercent]) expect(figure).toBeGreaterThanOrEqual(0);
    expect(parsed.memoryPercent).toBeGreaterThan(0);
    expect(parsed.diskPercent).toBeGreaterThan(0);
    expect(working.authorization).toBe("Bearer node-callback-token");

    fs.writeFileSync(path.join(gate, "open"), "");
    await receiver.next(/s_1\/completed$/);
    // The next heartbeat may have been gathered before the completion; the one after it was not.
    const count = receiver.received.filter((r) => heartbeat.test(r.path)).length;
    expect((await receiver.nth(heartbeat, count + 2)).body).toMatchObject({ workspaces: 1, sessions: [] });
  });

  it("start from main.ts once the node is ready, with its node callback token", async () => {
    const receiver = await startReceiver();
    const daemon = await daemonProcess(receiver, { HEARTBEAT_INTERVAL: "100ms" });
    cleanups.push(receiver.close, daemon.cleanup);
    await daemon.start();
    const ready = await receiver.next(new RegExp(`/api/nodes/${daemon.nodeId}/ready$`));
    const beat = await receiver.next(new RegExp(`/api/nodes/${daemon.nodeId}/heartbeat$`));
    expect(beat.authorization).toBe(ready.authorization);
    expect(NodeHeartbeatCallback.safeParse(beat.body).success).toBe(true);
  });
});
