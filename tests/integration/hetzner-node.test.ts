/**
 * A whole task on a Hetzner node: the control plane (behind its HTTPS address) asks the Hetzner
 * double for a server with the person's stored token; the double "boots" it from the rendered
 * cloud-init (tests/harness/cloud-machines.ts: the installer fetches the vm-agent from the control
 * plane, checks its sha256 and installs the systemd unit, which starts on the server's own address);
 * the daemon reports ready over HTTPS with its certificate, which the control plane pins after
 * checking the endpoint against Hetzner's API; the task runs there; the node is then destroyed,
 * which deletes the server (Hetzner bills until then). The user data holds a one-time enrollment token,
 * which the installer exchanges through the public address for the node's callback token.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodes } from "@/db/schema";
import { freePort } from "@/scripts/system";
import { loopbackCertificate } from "@/vm-agent/test-support";
import { startHetznerCloudDouble, type HetznerCloudDouble } from "../doubles/hetzner-cloud";
import { startBalancer, type Balancer } from "../harness/balancer";
import { cloudMachines } from "../harness/cloud-machines";
import { makeRepo } from "../harness/git";
import { untilFinished } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";

const TOKEN = "hetzner-project-token";

let certificateDir: string;
let front: Balancer;
let hetzner: HetznerCloudDouble;
let machines: ReturnType<typeof cloudMachines>;
let system: TestSystem;
let agentPort: number;

beforeAll(async () => {
  certificateDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-front-ca-"));
  const certificate = loopbackCertificate(certificateDir);
  machines = cloudMachines({ caFile: certificate.certFile });
  hetzner = await startHetznerCloudDouble({ tokens: [TOKEN], onServerCreated: machines.onServerCreated, onServerDeleted: machines.onServerDeleted });
  const appPort = await freePort();
  agentPort = await freePort();
  // The control plane's public address: HTTPS, ending at this front (a reverse proxy in a deployment).
  front = await startBalancer([`http://127.0.0.1:${appPort}`], { key: certificate.key, cert: certificate.cert });
  system = await startTestSystem(
    {
      APP_URL: front.url,
      // The app trusts its own public address too (the supervisor registers through it).
      NODE_EXTRA_CA_CERTS: certificate.certFile,
      NODE_PROVIDER: "hetzner",
      HETZNER_API_URL: hetzner.url,
      CONTROL_PLANE_SOURCE_IPS: "127.0.0.1/32",
      NODE_AGENT_PORT: String(agentPort),
      // The node is destroyed with its task (the provider's delete is part of the test).
      NODE_WARM_TIMEOUT: "0",
    },
    { appPort },
  );
  const stored = await system.api("PUT", "/api/secrets/HETZNER_TOKEN", { value: TOKEN });
  expect(stored.status, JSON.stringify(stored.body)).toBe(200);
});

afterAll(async () => {
  await system?.stop();
  await machines?.stopAll();
  await hetzner?.close();
  await front?.close();
  if (certificateDir) fs.rmSync(certificateDir, { recursive: true, force: true });
});

describe("a task on a Hetzner node", () => {
  it("creates the server with its cloud-init, runs the task on the daemon it installed, over pinned HTTPS, and deletes the server", async () => {
    const { status, body } = await system.api("POST", "/api/tasks", { repository: makeRepo(), prompt: "On a Hetzner server" });
    expect(status, JSON.stringify(body)).toBe(202);
    const { done } = await untilFinished(system, body.taskId, 180_000);
    expect(machines.failures).toEqual([]);
    expect(hetzner.hookFailures).toEqual([]);
    expect(done.status, done.error ?? "").toBe("completed");
    expect(done.pushed).toBe(true);

    // One server, created for this node and task, behind the control plane's firewall; deleted after.
    expect(hetzner.created).toBe(1);
    const creation = hetzner.requests.find((r) => r.route === "POST /servers" && r.status === 201)!;
    const sent = creation.body as { labels: Record<string, string>; user_data: string; firewalls: { firewall: number }[] };
    expect(sent.labels["acp-task"]).toBe(body.taskId);
    expect(sent.user_data).toMatch(/^#cloud-config\n/);
    expect(sent.user_data).toContain(`${front.url}/api/vm-agent/artifact`);
    // The user data stays readable on the server: it holds a one-time enrollment token, never the node's callback token.
    expect(sent.user_data).toMatch(/^\s*ACP_ENROLLMENT_TOKEN='acpe_[A-Za-z0-9_-]{43}'$/m);
    expect(sent.user_data).not.toMatch(/ACP_NODE_CALLBACK_TOKEN='/);
    expect(sent.user_data).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/);
    const [firewall] = hetzner.firewalls() as { rules: { port?: string; source_ips?: string[] }[] }[];
    expect(firewall!.rules).toEqual([expect.objectContaining({ port: String(agentPort), source_ips: ["127.0.0.1/32"] })]);
    expect(hetzner.servers()).toEqual([]);

    // The node served at the server's address, over HTTPS, pinned to the certificate it reported.
    const [node] = await system.database.db.select().from(nodes).where(eq(nodes.id, done.node!.id));
    expect(node!.provider).toBe("hetzner");
    expect(node!.endpoint).toBe(`https://127.0.0.2:${agentPort}`);
    expect(node!.certificateFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(node!.status).toBe("stopped");
    // Its installer enrolled, and its callbacks came, to the public HTTPS address.
    expect(node!.enrolledAt).toBeInstanceOf(Date);
    expect(front.served.some((r) => r.path === `/api/nodes/${node!.id}/enroll`)).toBe(true);
    expect(front.served.some((r) => r.path === `/api/nodes/${node!.id}/ready`)).toBe(true);
  });
});
