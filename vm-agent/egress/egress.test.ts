/**
 * Egress for real, on a root node: a workspace's agent, in its own network namespace, reaches an
 * allowed host only through the daemon's proxy, is refused (403, one line) loopback, the metadata
 * address, the node's own address, private ranges and unlisted hosts, cannot connect to anything
 * directly, and its refusals reach the control plane counted per host, port and reason. A daemon
 * restart keeps the namespace and its forwarder working; deleting the workspace removes them.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { makeRepo } from "../../tests/harness/git";
import { daemonProcess, nonLoopbackAddress, startReceiver, startTestAgent, testKey, type Received } from "../test-support";
import { SETPRIV, userName } from "../users";
import { namespacePath, socketPath } from "./netns";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const asRoot = process.getuid?.() === 0;
const address = nonLoopbackAddress();
if (!asRoot) console.log("egress.test.ts: skipped, network namespaces need root");
else if (!address) console.log("egress.test.ts: skipped, this machine has no non-loopback IPv4 address for the allowed host's double");

/** An HTTP server on this machine's non-loopback address, standing in for an allowed host. */
async function startDouble(host: string) {
  // `/host` answers the Host it was asked for, so a test sees which site the proxy asked for.
  const server = http.createServer((request, response) => response.end(request.url === "/host" ? `${request.headers.host}\n` : "hello from the allowed host\n"));
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }) };
}

/** A shell line that prints `<name>:<what the command printed>`. */
const probe = (name: string, command: string) => `echo "${name}:$(${command})"`;
const status = (url: string, extra = "") => `curl -s -o /dev/null --max-time 10 -w '%{http_code}' ${extra} '${url}'`;

/** The probes' results from the workspace's HOME. */
const results = (workDir: string, workspaceId: string, file: string) =>
  Object.fromEntries(
    fs
      .readFileSync(path.join(workDir, "workspaces", workspaceId, "home", file), "utf8")
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)]),
  );

/** The refusals reported for a workspace so far, counts added up per host, port and reason. */
function refusalCounts(received: Received[], workspaceId: string) {
  const counts: Record<string, number> = {};
  for (const report of received.filter((r) => r.path === `/api/workspaces/${workspaceId}/egress-refusals`)) {
    for (const refusal of report.body.refusals as { host: string; port: number; reason: string; count: number }[]) {
      const key = `${refusal.host}:${refusal.port} ${refusal.reason}`;
      counts[key] = (counts[key] ?? 0) + refusal.count;
    }
  }
  return counts;
}

describe.runIf(asRoot && address)("a workspace's egress on a root node", () => {
  it("goes out only through the proxy, to what its policy allows; refusals are reported; a restart keeps it and a delete removes it", async () => {
    const double = await startDouble(address!);
    const receiver = await startReceiver();
    const key = await testKey();
    const first = await startTestAgent(receiver.url, { key, SCRIPT_AGENT_COMMAND: 'eval "$AGENT_PROMPT"' });
    cleanups.push(double.close, receiver.close, first.close);
    expect(first.agent.isolation()).toEqual({ mode: "users", egress: { mode: "namespaces" } });
    const daemonPort = Number(new URL(first.base).port);
    const allowed = `http://${address}:${double.port}/`;

    const egress = { policy: "allow-list", allowHosts: [`${address}:${double.port}`, `localhost:${daemonPort}`, "169.254.169.254", "10.255.255.1"], allowPrivate: [address] };
    // The setup script runs in the namespace too, with the proxy.
    const setup = `{\n${probe("netns", "readlink /proc/self/ns/net")}\n${probe("allowed", status(allowed))}\n${probe("direct", `${status(allowed, "--noproxy '*'")}; echo " exit=$?"`)}\n} > "$HOME/setup-probes"\n`;
    const repository = makeRepo({ ".agent/setup.sh": setup });
    expect((await first.request("POST", "/workspaces", { workspaceId: "w_a", taskId: "t_a", repository, branch: "agents/egress-a", callbackToken: "cb-a", egress })).status).toBe(202);
    const ready = await receiver.next(/w_a\/(ready|provisioning-failed)$/);
    expect(ready.path, JSON.stringify(ready.body)).toMatch(/ready$/);
    const setupSeen = results(first.workDir, "w_a", "setup-probes");
    expect(setupSeen.netns).not.toBe(fs.readlinkSync("/proc/self/ns/net"));
    expect(setupSeen).toMatchObject({ allowed: "200", direct: "000 exit=7" });

    const probes = [
      probe("proxy-env", 'echo "$https_proxy $HTTP_PROXY ${NO_PROXY:-none}"'),
      probe("direct-daemon", `${status(`https://127.0.0.1:${daemonPort}/health`, "-k --noproxy '*'")}; echo " exit=$?"`),
      probe("direct-allowed", `${status(allowed, "--noproxy '*'")}; echo " exit=$?"`),
      probe("allowed", status(allowed)),
      probe("allowed-connect", status(allowed, "--proxytunnel")),
      probe("allowed-body", `curl -s --max-time 10 '${allowed}'`),
      probe("asked-host", `curl -s --max-time 10 -H 'Host: another-site.example' '${new URL("/host", allowed).href}'`),
      probe("unlisted", status("http://example.com/")),
      probe("unlisted-connect", "curl -s -o /dev/null --max-time 10 -w '%{http_connect}' https://example.com/"),
      probe("refusal-text", `curl -s --max-time 10 http://localhost:${daemonPort}/health`),
      probe("loopback", status(`http://localhost:${daemonPort}/health`)),
      probe("metadata", status("http://169.254.169.254/latest/meta-data/")),
      probe("private", status("http://10.255.255.1/")),
      probe("helper-route", `curl -s --max-time 10 -X POST -H "authorization: Bearer $ACP_GIT_TICKET" -d '{"protocol":"https","host":"example.com"}' http://acp-vm-agent.internal/workspaces/w_a/git-credential`),
      probe("helper-bad-ticket", `curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H "authorization: Bearer nope" -d '{"protocol":"https","host":"example.com"}' http://acp-vm-agent.internal/workspaces/w_a/git-credential`),
      probe("helper-other-workspace", `curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H "authorization: Bearer $ACP_GIT_TICKET" -d '{"protocol":"https","host":"example.com"}' http://acp-vm-agent.internal/workspaces/w_b/git-credential`),
    ];
    await first.request("POST", "/workspaces/w_a/agent-sessions/s_a/start", { agent: "script", prompt: `{\n${probes.join("\n")}\n} > "$HOME/probes"`, callbackToken: "cb-a" });
    expect((await receiver.next(/s_a\/completed$/)).body.outcome).toBe("succeeded");
    const seen = results(first.workDir, "w_a", "probes");
    expect(seen).toMatchObject({
      "proxy-env": "http://127.0.0.1:3128 http://127.0.0.1:3128 none",
      // Nothing of the host answers from inside the namespace: no route, no listener on its loopback.
      "direct-daemon": "000 exit=7",
      "direct-allowed": "000 exit=7",
      allowed: "200",
      "allowed-connect": "200",
      "allowed-body": "hello from the allowed host",
      // The Host the policy decided on, not the one the client wrote beside it.
      "asked-host": `${address}:${double.port}`,
      unlisted: "403",
      "unlisted-connect": "403",
      "refusal-text": `blocked by the workspace's egress policy: localhost:${daemonPort} (local)`,
      loopback: "403",
      metadata: "403",
      private: "403",
      "helper-route": "{}",
      "helper-bad-ticket": "403",
      "helper-other-workspace": "403",
    });

    // The refusals reach the control plane, counted, with the workspace's callback token.
    const expected = {
      "example.com:80 policy": 1,
      "example.com:443 policy": 1,
      [`localhost:${daemonPort} local`]: 2,
      "169.254.169.254:80 local": 1,
      "10.255.255.1:80 private": 1,
    };
    await receiver.until(() => Object.entries(expected).every(([k, n]) => refusalCounts(receiver.received, "w_a")[k] === n));
    expect(refusalCounts(receiver.received, "w_a")).toEqual(expected);
    const report = receiver.received.find((r) => r.path === "/api/workspaces/w_a/egress-refusals")!;
    expect(report.authorization).toBe("Bearer cb-a");
    expect(report.body).toMatchObject({ messageId: expect.stringMatching(/^w_a-egress-/), refusals: expect.arrayContaining([expect.objectContaining({ lastAt: expect.any(String) })]) });

    // A workspace under `full` reaches any public host, but never the node's own address unless allowed.
    await first.request("POST", "/workspaces", { workspaceId: "w_b", taskId: "t_b", repository: makeRepo(), branch: "agents/egress-b", callbackToken: "cb-b", egress: { policy: "full" } });
    await receiver.next(/w_b\/ready$/);
    await first.request("POST", "/workspaces/w_b/agent-sessions/s_b/start", { agent: "script", prompt: `{\n${probe("own", status(allowed))}\n} > "$HOME/probes"`, callbackToken: "cb-b" });
    await receiver.next(/s_b\/completed$/);
    expect(results(first.workDir, "w_b", "probes")).toEqual({ own: "403" });
    await receiver.until(() => refusalCounts(receiver.received, "w_b")[`${address}:${double.port} local`] === 1);

    // The daemon restarts: the forwarder runs on, and the new daemon's proxy answers it.
    const namespace = userName(first.config.NODE_ID, "w_a");
    const forwarderFile = path.join(first.workDir, "state", "egress", "w_a.json");
    const forwarder = (JSON.parse(fs.readFileSync(forwarderFile, "utf8")) as { pid: number }).pid;
    await first.detach();
    const second = await startTestAgent(receiver.url, { key, workDir: first.workDir, NODE_ID: first.config.NODE_ID, SCRIPT_AGENT_COMMAND: 'eval "$AGENT_PROMPT"' });
    cleanups.push(second.detach);
    expect((JSON.parse(fs.readFileSync(forwarderFile, "utf8")) as { pid: number }).pid).toBe(forwarder);
    await second.request("POST", "/workspaces/w_a/agent-sessions/s_c/start", { agent: "script", prompt: `{\n${probe("after-restart", status(allowed))}\n} > "$HOME/after"`, callbackToken: "cb-a" });
    await receiver.next(/s_c\/completed$/);
    expect(results(first.workDir, "w_a", "after")).toEqual({ "after-restart": "200" });

    // Deleting the workspace removes its namespace, its forwarder and its socket.
    expect(fs.existsSync(namespacePath(namespace))).toBe(true);
    expect((await second.request("DELETE", "/workspaces/w_a?force=true")).status).toBe(200);
    expect(fs.existsSync(namespacePath(namespace))).toBe(false);
    expect(fs.existsSync(socketPath(namespace))).toBe(false);
    expect(fs.existsSync(`/proc/${forwarder}`) && !fs.readFileSync(`/proc/${forwarder}/stat`, "utf8").includes(") Z")).toBe(false);
    expect(fs.existsSync(forwarderFile)).toBe(false);
  }, 180_000);
});

describe.runIf(asRoot)("a root node that cannot make network namespaces", () => {
  /** The daemon as its own process, without CAP_SYS_ADMIN (as in a container that withholds it). */
  async function withoutSysAdmin(env: Record<string, string>) {
    const receiver = await startReceiver();
    const daemon = await daemonProcess(receiver, env, {}, [SETPRIV, "--bounding-set=-sys_admin", "--"]);
    cleanups.push(receiver.close, daemon.cleanup);
    const { endpoint } = await daemon.start();
    const ready = receiver.received.find((r) => r.path === `/api/nodes/${daemon.nodeId}/ready`)!;
    return { receiver, daemon, endpoint, isolation: ready.body.isolation };
  }
  const create = (workspaceId: string, files: Record<string, string> = {}) => ({ workspaceId, taskId: "t", repository: makeRepo(files), branch: `agents/${workspaceId}`, callbackToken: "cb" });

  it("says why and refuses workspaces with a message the control plane can show", async () => {
    const { daemon, endpoint, isolation } = await withoutSysAdmin({});
    expect(isolation).toMatchObject({ mode: "users", egress: { mode: "none", reason: expect.stringContaining("it could not make a network namespace") } });
    const refused = await daemon.answer(endpoint, "POST", "/workspaces", create("w_n"));
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/^this node cannot enforce egress: it could not make a network namespace: .+; set WORKSPACE_EGRESS=off to run without it$/);
  }, 60_000);

  it("runs workspaces on the node's network with WORKSPACE_EGRESS=off, and says so", async () => {
    const { receiver, daemon, endpoint, isolation } = await withoutSysAdmin({ WORKSPACE_EGRESS: "off" });
    expect(isolation).toEqual({ mode: "users", egress: { mode: "none", reason: "WORKSPACE_EGRESS=off" } });
    expect(await daemon.call(endpoint, "POST", "/workspaces", create("w_o", { ".agent/setup.sh": 'readlink /proc/self/ns/net > "$HOME/netns"\n' }))).toBe(202);
    const ready = await receiver.next(/w_o\/(ready|provisioning-failed)$/);
    expect(ready.path, JSON.stringify(ready.body)).toMatch(/ready$/);
    expect(fs.readFileSync(path.join(daemon.workDir, "workspaces", "w_o", "home", "netns"), "utf8").trim()).toBe(fs.readlinkSync("/proc/self/ns/net"));
  }, 60_000);
});
