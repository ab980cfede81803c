/**
 * A workspace's way out, end to end on a local node run as root: its setup script runs in the
 * workspace's own network namespace, whose only way out is the daemon's proxy. An allowed host
 * answers; a host off the allow-list, the control plane, the engine, the cloud metadata address and
 * this machine's own address are refused, and each refusal reaches the task's view with its count.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskDetail } from "@/lib/contracts/api";
import { makeRepo } from "../harness/git";
import { hostAddress } from "../harness/host-address";
import { untilFinished } from "../harness/live-client";
import { sharedTempDir } from "../harness/shared-dir";
import { startTestSystem, type TestSystem } from "../harness/test-system";

const root = process.getuid?.() === 0;

let system: TestSystem;
let allowed: http.Server;
let allowedHost: string;
const allowedRequests: string[] = [];

beforeAll(async () => {
  if (!root) return;
  allowed = http.createServer((request, response) => {
    allowedRequests.push(request.url ?? "");
    response.end("allowed-answer");
  });
  await new Promise<void>((resolve) => allowed.listen(0, hostAddress(), resolve));
  allowedHost = `${hostAddress()}:${(allowed.address() as AddressInfo).port}`;
  system = await startTestSystem();
});
afterAll(async () => {
  await system?.stop();
  allowed?.close();
});

/** Runs a task whose setup script is `setup` (its probes written to a file the test reads) and returns the task and the probes. */
async function taskWithSetup(setup: string[], egress?: string): Promise<{ done: TaskDetail; probes: Record<string, string> }> {
  const out = sharedTempDir("acp-egress-probes-");
  const repo = makeRepo({ ".agent/setup.sh": ["{", ...setup, `} > '${out}/probes' 2>&1`].join("\n") + "\n" });
  const { status, body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: "Reach out", ...(egress ? { egress } : {}) });
  expect(status, JSON.stringify(body)).toBe(202);
  const { done } = await untilFinished(system, (body as { taskId: string }).taskId, 90_000);
  expect(done.status, done.error ?? "").toBe("completed");
  const lines = fs.readFileSync(path.join(out, "probes"), "utf8").trim().split("\n");
  return { done, probes: Object.fromEntries(lines.filter((line) => line.includes("=")).map((line) => line.split("=", 2) as [string, string])) };
}

/** curl's status for `url`, through the workspace's proxy (its environment names it) or, with `direct`, past it. */
const curl = (name: string, url: string, direct = false) => `echo "${name}=$(curl -s -o /dev/null -m 5 -w '%{http_code}' ${direct ? "--noproxy '*' " : ""}'${url}')"`;

describe.runIf(root)("a workspace's egress on a local node run as root (needs root)", () => {
  it("reaches an allowed host through the proxy; the control plane, the engine, metadata, this machine and a host off the list are refused and shown with their counts", async () => {
    const settings = await system.api("PUT", "/api/settings/network", { defaultPolicy: "allow-list", allowHosts: [allowedHost], allowPrivate: [hostAddress()] });
    expect(settings.status, JSON.stringify(settings.body)).toBe(200);
    const app = new URL(system.appUrl);
    const { done, probes } = await taskWithSetup([
      curl("allowed", `http://${allowedHost}/from-the-workspace`),
      curl("off-list-1", "https://blocked.example/"),
      curl("off-list-2", "https://blocked.example/"),
      curl("off-list-3", "https://blocked.example/"),
      curl("control-plane", `http://127.0.0.1:${app.port}/api/tasks`),
      curl("engine", "http://127.0.0.1:8288/v0/gql"),
      curl("metadata", "http://169.254.169.254/hetzner/v1/metadata"),
      curl("control-plane-direct", `http://127.0.0.1:${app.port}/api/tasks`, true),
      curl("allowed-direct", `http://${allowedHost}/direct`, true),
    ]);
    // The proxy answers a refusal with 403; past the proxy nothing answers at all (no route out).
    expect(probes).toEqual({
      allowed: "200",
      "off-list-1": "000",
      "off-list-2": "000",
      "off-list-3": "000",
      "control-plane": "403",
      engine: "403",
      metadata: "403",
      "control-plane-direct": "000",
      "allowed-direct": "000",
    });
    expect(allowedRequests).toEqual(["/from-the-workspace"]);
    expect(done.network).toMatchObject({ policy: "allow-list", enforcement: { mode: "namespaces", reason: null } });
    const refusals = Object.fromEntries(done.network.refusals.map((r) => [`${r.host}:${r.port}`, { reason: r.reason, count: r.count }]));
    expect(refusals).toEqual({
      "blocked.example:443": { reason: "policy", count: 3 },
      // The control plane's host (APP_URL's) is never reachable, by name, whatever the policy.
      [`127.0.0.1:${app.port}`]: { reason: "denied", count: 1 },
      "127.0.0.1:8288": { reason: "denied", count: 1 },
      "169.254.169.254:80": { reason: "policy", count: 1 },
    });
  }, 150_000);

  it("lets nothing out under `none`, and anything public under `full` but never this machine", async () => {
    const none = await taskWithSetup([curl("allowed", `http://${allowedHost}/under-none`)], "none");
    expect(none.probes).toEqual({ allowed: "403" });
    expect(none.done.network.refusals).toEqual([expect.objectContaining({ host: hostAddress(), reason: "policy", count: 1 })]);
    const app = new URL(system.appUrl);
    const full = await taskWithSetup([curl("allowed", `http://${allowedHost}/under-full`), curl("control-plane", `http://127.0.0.1:${app.port}/api/tasks`), curl("metadata", "http://169.254.169.254/latest/meta-data/"), curl("loopback", "http://localhost:9/")], "full");
    expect(full.probes).toEqual({ allowed: "200", "control-plane": "403", metadata: "403", loopback: "403" });
    expect(Object.fromEntries(full.done.network.refusals.map((r) => [`${r.host}:${r.port}`, r.reason]))).toEqual({ [`127.0.0.1:${app.port}`]: "denied", "169.254.169.254:80": "local", "localhost:9": "local" });
    expect(allowedRequests).toContain("/under-full");
    expect(allowedRequests).not.toContain("/under-none");
  }, 200_000);
});
