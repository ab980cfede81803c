/**
 * A workspace's GitHub token for real: an HTTPS git server that wants it (test-git-server.ts, git's
 * own http-backend), the daemon as its own process (kill -9 included), and a script agent whose own
 * git clones nothing but pushes from its tmux session through the worktree's credential helper.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sharedTempDir } from "../tests/harness/shared-dir";
import { insideNamespace } from "./egress/forwarder";
import { daemonProcess, nonLoopbackAddress, startReceiver, waitForFile } from "./test-support";
import { nodeUsers } from "./users";
import { homeTrusting, startHttpsGitServer } from "./test-git-server";

const TOKEN = "ghp_OwnersToken0123456789abcdefABCDEF0123";
/**
 * The git server listens on this machine's non-loopback address, which each workspace's egress
 * allows (its agent reaches it through its proxy; loopback is out of its namespace's reach).
 */
const SERVER_HOST = nonLoopbackAddress() ?? "127.0.0.1";
const egressTo = (server: { host: string }) => ({ policy: "allow-list", allowHosts: [server.host], allowPrivate: SERVER_HOST === "127.0.0.1" ? [] : [SERVER_HOST] });
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The script agent runs its prompt as a shell script (the operator's command is `eval`). */
async function gitNode(server: Awaited<ReturnType<typeof startHttpsGitServer>>) {
  const receiver = await startReceiver();
  const home = homeTrusting(server.caFile);
  const logFile = path.join(home, "vm-agent.log");
  // The CA reaches the daemon's git through HOME's config, its workspaces' (their own HOME) through GIT_SSL_CAINFO.
  const daemon = await daemonProcess(receiver, { HOME: home, GIT_SSL_CAINFO: server.caFile, SCRIPT_AGENT_COMMAND: 'eval "$AGENT_PROMPT"', VM_AGENT_LOG_FILE: logFile });
  cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }), receiver.close, daemon.cleanup);
  const first = await daemon.start();
  return { receiver, daemon, home, logFile, first };
}

/** A script that runs `before`, says it is there (its pid in `<release>.pid`), waits for the test's release file, then runs `after`. */
const held = (release: string, before: string, after: string) =>
  `set -e\n${before}\necho $$ > '${release}.pid'\nwhile [ ! -e '${release}' ]; do sleep 0.05; done\n${after}`;

const commitAndPush = (file: string, ref: string) => `echo '${file}' > ${file}\ngit add ${file}\ngit commit -qm '${file} by the agent'\ngit push -q origin HEAD:refs/heads/${ref}`;

/** What `git credential fill` answers in `cwd` as the agent (its user, its environment, its network namespace when it has one), for `protocol://host`. */
function credentialFill(cwd: string, agent: { env: Record<string, string>; uid: number; gid: number; namespace?: string }, protocol: string, host: string) {
  const env = { ...agent.env, GIT_TERMINAL_PROMPT: "0" } as Record<string, string> as NodeJS.ProcessEnv;
  const input = `protocol=${protocol}\nhost=${host}\n\n`;
  const [file, ...args] = agent.namespace ? insideNamespace(agent.namespace, agent, ["git", "credential", "fill"]) : ["git", "credential", "fill"];
  const result = spawnSync(file!, args, { cwd, env, input, encoding: "utf8", ...(agent.namespace ? {} : { uid: agent.uid, gid: agent.gid }) });
  return { status: result.status, out: result.stdout };
}

/** The real uid and gid of a process. */
function idsOf(pid: number) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)![1]) };
}

function environOf(pid: number): Record<string, string> {
  return Object.fromEntries(
    fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean).map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
  );
}

function everyCommandLine(): string[] {
  return fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      return ""; // exited meanwhile
    }
  });
}

const tmuxEnvironment = (socket: string, ...args: string[]) => spawnSync("tmux", ["-L", socket, "show-environment", ...args], { encoding: "utf8" }).stdout;

/** Asks as the agents' helper does (over the daemon's HTTPS, to the certificate it reported). */
async function askDaemon(daemon: { fetch: Awaited<ReturnType<typeof daemonProcess>>["fetch"] }, endpoint: string, workspaceId: string, ticket: string | undefined, body: unknown) {
  const response = await daemon.fetch(endpoint, `/workspaces/${workspaceId}/git-credential`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(ticket ? { authorization: `Bearer ${ticket}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("a workspace's GitHub token", () => {
  it("clones and pushes an https repository through the daemon's helper, and reaches the agent's own git only by asking, across a kill -9", async () => {
    const setup = [
      'url=$(git remote get-url origin); host=${url#https://}; host=${host%%/*}',
      'env > "$HOME/setup-env"',
      "printf 'protocol=https\\nhost=%s\\n\\n' \"$host\" | git credential fill > \"$HOME/setup-fill\" 2>&1 || echo \"exit=$?\" >> \"$HOME/setup-fill\"",
    ].join("\n");
    const server = await startHttpsGitServer({ token: TOKEN, files: { ".agent/setup.sh": `${setup}\n` }, host: SERVER_HOST });
    cleanups.push(server.close);
    const { receiver, daemon, logFile, first } = await gitNode(server);
    const workspaceDir = path.join(daemon.workDir, "workspaces", "w_g");
    const worktree = path.join(workspaceDir, "repo");

    // The clone: the server refuses anyone without the token, so the daemon's own git used it.
    await daemon.call(first.endpoint, "POST", "/workspaces", { workspaceId: "w_g", taskId: "t", repository: server.url, branch: "agents/g-1", callbackToken: "cb", secrets: { GITHUB_TOKEN: TOKEN }, forgeHosts: [server.host], egress: egressTo(server) });
    const ready = await receiver.next(/w_g\/(ready|provisioning-failed)$/);
    expect(ready.path, JSON.stringify(ready.body)).toMatch(/ready$/);
    expect(spawnSync("git", ["-c", "safe.directory=*", "remote", "get-url", "origin"], { cwd: worktree, encoding: "utf8" }).stdout.trim()).toBe(server.url);
    const gitConfig = fs.readFileSync(path.join(worktree, ".git", "config"), "utf8");
    expect(gitConfig).not.toContain(TOKEN);
    // In its network namespace the agent's helper asks the daemon through the workspace's proxy.
    expect(gitConfig).toMatch(/helper = .*git-credential\.mjs' proxy 'http:\/\/127\.0\.0\.1:3128' 'http:\/\/acp-vm-agent\.internal\/workspaces\/w_g\/git-credential'/);
    const record = path.join(daemon.workDir, "state", "credentials", "w_g.json");
    expect(fs.statSync(record).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(record)).mode & 0o777).toBe(0o700);

    // The setup script got no secret: no ticket in its environment, no answer from the helper.
    const setupEnvironment = fs.readFileSync(path.join(workspaceDir, "home", "setup-env"), "utf8");
    expect(setupEnvironment).not.toContain(TOKEN);
    expect(setupEnvironment).not.toContain("ACP_GIT_TICKET");
    const setupFill = fs.readFileSync(path.join(workspaceDir, "home", "setup-fill"), "utf8");
    expect(setupFill).not.toContain("password=");
    expect(setupFill).toMatch(/exit=[1-9]/);

    // The agent pushes a commit of its own, then holds.
    const release = path.join(sharedTempDir("acp-release-"), "release");
    const prompt = held(release, commitAndPush("AGENT.md", "agent-own"), commitAndPush("AGAIN.md", "agent-after-restart"));
    expect(await daemon.call(first.endpoint, "POST", "/workspaces/w_g/agent-sessions/s_g/start", { agent: "script", prompt, callbackToken: "cb" })).toBe(202);
    await waitForFile(`${release}.pid`);
    expect(server.branch("agent-own")).toBeDefined();
    expect(server.requests.filter((r) => r.push && r.authorized).length).toBeGreaterThan(0);

    // Its environment has the ticket, never the token; no argument list, tmux or file has either.
    const agentPid = Number(fs.readFileSync(`${release}.pid`, "utf8"));
    const agentEnvironment = environOf(agentPid);
    const agent = { env: agentEnvironment, ...idsOf(agentPid), namespace: nodeUsers(daemon.nodeId).find((u) => u.workspaceId === "w_g")?.name };
    const ticket = agentEnvironment.ACP_GIT_TICKET!;
    expect(ticket).toMatch(/^[\w-]{40,}$/);
    expect(JSON.stringify(agentEnvironment)).not.toContain(TOKEN);
    const commandLines = everyCommandLine();
    expect(commandLines.filter((line) => line.includes(TOKEN) || line.includes(ticket))).toEqual([]);
    const socket = `acp-${daemon.nodeId}`;
    for (const shown of [tmuxEnvironment(socket, "-g"), tmuxEnvironment(socket, "-t", "acp-s_g")]) {
      expect(shown).not.toContain(TOKEN);
      expect(shown).not.toContain(ticket);
    }
    expect(fs.existsSync(path.join(workspaceDir, "agent-s_g.env"))).toBe(false);
    expect(spawnSync("grep", ["-rlF", "--", ticket, workspaceDir], { encoding: "utf8" }).stdout.trim()).toBe("");

    // The helper end to end, with the agent's environment: the token for the repository's host over https only.
    expect(credentialFill(worktree, agent, "https", server.host).out).toContain(`username=x-access-token\npassword=${TOKEN}\n`);
    for (const [protocol, host] of [["https", "github.com"], ["http", server.host], ["https", `${server.host}.evil.example`]] as const) {
      const other = credentialFill(worktree, agent, protocol, host);
      expect(other.out, `${protocol}://${host}`).not.toContain("password=");
      expect(other.status).not.toBe(0);
    }
    // The daemon's route wants this workspace's ticket.
    expect((await askDaemon(daemon, first.endpoint, "w_g", undefined, { protocol: "https", host: server.host })).status).toBe(401);
    expect((await askDaemon(daemon, first.endpoint, "w_g", `${ticket}x`, { protocol: "https", host: server.host })).status).toBe(403);
    expect((await askDaemon(daemon, first.endpoint, "w_other", ticket, { protocol: "https", host: server.host })).status).toBe(403);

    // A restarted daemon (on another port) answers the adopted agent's helper and pushes itself.
    await daemon.killHard(first.child);
    const second = await daemon.start();
    fs.writeFileSync(release, "go");
    const done = await receiver.next(/s_g\/completed$/);
    expect(done.body).toMatchObject({ outcome: "succeeded", exitCode: 0, pushed: true });
    expect(server.branch("agent-after-restart")).toBeDefined();
    expect(server.branch("agents/g-1")).toBe(done.body.commit);
    expect(JSON.stringify(receiver.received)).not.toContain(TOKEN);

    // Delete checks the remote with the token (the branch is pushed: no force needed), then forgets it.
    expect(await daemon.call(second.endpoint, "DELETE", "/workspaces/w_g")).toBe(200);
    expect(fs.existsSync(record)).toBe(false);
    const log = fs.readFileSync(logFile, "utf8");
    expect(log).toContain("agent session finished");
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain(ticket);
  }, 120_000);

  it("without one the helper answers nothing and pushes fail; a follow-up's token is used from then on, for its own workspace only", async () => {
    const server = await startHttpsGitServer({ token: TOKEN, publicRead: true, host: SERVER_HOST });
    cleanups.push(server.close);
    const { receiver, daemon, first } = await gitNode(server);
    const workspace = (workspaceId: string, secrets = {}) => ({ workspaceId, taskId: "t", repository: server.url, branch: `agents/${workspaceId}`, callbackToken: "cb", secrets, forgeHosts: [server.host], egress: egressTo(server) });
    await daemon.call(first.endpoint, "POST", "/workspaces", workspace("w_n"));
    await daemon.call(first.endpoint, "POST", "/workspaces", workspace("w_o", { GITHUB_TOKEN: TOKEN }));
    await receiver.next(/w_n\/ready$/);
    await receiver.next(/w_o\/ready$/);
    const agentHome = path.join(daemon.workDir, "workspaces", "w_n", "home");

    // No token stored: the agent's push fails at once (no prompt on its terminal), and so does the daemon's.
    const tryPush = [
      'printf %s "$ACP_GIT_TICKET" > "$HOME/ticket"',
      'if git push -q origin HEAD:refs/heads/agent-try 2> "$HOME/push-error"; then echo pushed > "$HOME/push-result"; else echo failed > "$HOME/push-result"; fi',
    ].join("\n");
    await daemon.call(first.endpoint, "POST", "/workspaces/w_n/agent-sessions/s_n/start", { agent: "script", prompt: tryPush, callbackToken: "cb" });
    const refused = await receiver.nth(/s_n\/completed$/, 1);
    expect(fs.readFileSync(path.join(agentHome, "push-result"), "utf8").trim()).toBe("failed");
    expect(refused.body).toMatchObject({ pushed: false, error: expect.stringContaining("push failed") });
    const ticket = fs.readFileSync(path.join(agentHome, "ticket"), "utf8");
    expect(await askDaemon(daemon, first.endpoint, "w_n", ticket, { protocol: "https", host: server.host })).toEqual({ status: 200, body: {} });

    // The follow-up brings the owner's token: the agent's push and the daemon's now go through.
    const follow = `${commitAndPush("FOLLOW.md", "agent-try")}\necho pushed > "$HOME/push-result"`;
    expect(await daemon.call(first.endpoint, "POST", "/workspaces/w_n/agent-sessions/s_n/prompt", { prompt: follow, callbackToken: "cb", secrets: { GITHUB_TOKEN: TOKEN } })).toBe(202);
    const second = await receiver.nth(/s_n\/completed$/, 2);
    expect(second.body).toMatchObject({ outcome: "succeeded", pushed: true });
    expect(server.branch("agent-try")).toBeDefined();
    expect(server.branch("agents/w_n")).toBe(second.body.commit);

    // The ticket is good for its own workspace's repository host over https, and nothing else.
    expect(await askDaemon(daemon, first.endpoint, "w_n", ticket, { protocol: "https", host: server.host })).toEqual({ status: 200, body: { username: "x-access-token", password: TOKEN } });
    expect((await askDaemon(daemon, first.endpoint, "w_n", ticket, { protocol: "https", host: "github.com" })).body).toEqual({});
    expect((await askDaemon(daemon, first.endpoint, "w_n", ticket, { protocol: "http", host: server.host })).body).toEqual({});
    expect((await askDaemon(daemon, first.endpoint, "w_o", ticket, { protocol: "https", host: server.host })).status).toBe(403);
  }, 120_000);

  it("is answered for the configured forge hosts only: a task on any other https host gets none, from the helper or the daemon's push", async () => {
    const server = await startHttpsGitServer({ token: TOKEN, publicRead: true, host: SERVER_HOST });
    cleanups.push(server.close);
    const { receiver, daemon, first } = await gitNode(server);
    // The control plane's forge is elsewhere: this repository's host is just a host the task named.
    await daemon.call(first.endpoint, "POST", "/workspaces", { workspaceId: "w_e", taskId: "t", repository: server.url, branch: "agents/w_e", callbackToken: "cb", secrets: { GITHUB_TOKEN: TOKEN }, forgeHosts: ["github.example.test"], egress: egressTo(server) });
    const ready = await receiver.next(/w_e\/(ready|provisioning-failed)$/);
    expect(ready.path, JSON.stringify(ready.body)).toMatch(/ready$/);
    const home = path.join(daemon.workDir, "workspaces", "w_e", "home");

    const ask = [
      'printf %s "$ACP_GIT_TICKET" > "$HOME/ticket"',
      `printf 'protocol=https\\nhost=%s\\n\\n' '${server.host}' | git credential fill > "$HOME/fill" 2>&1; echo "exit=$?" >> "$HOME/fill"`,
      "echo change > CHANGE.md",
    ].join("\n");
    expect(await daemon.call(first.endpoint, "POST", "/workspaces/w_e/agent-sessions/s_e/start", { agent: "script", prompt: ask, callbackToken: "cb", secrets: { GITHUB_TOKEN: TOKEN } })).toBe(202);
    const done = await receiver.next(/s_e\/completed$/);

    // The agent's helper got nothing; the daemon's own push went without the token, and was refused.
    const fill = fs.readFileSync(path.join(home, "fill"), "utf8");
    expect(fill).not.toContain("password=");
    expect(fill).toMatch(/exit=[1-9]/);
    expect(done.body).toMatchObject({ pushed: false, error: expect.stringContaining("push failed") });
    expect(server.requests.filter((r) => r.authorized)).toEqual([]);
    const ticket = fs.readFileSync(path.join(home, "ticket"), "utf8");
    expect(await askDaemon(daemon, first.endpoint, "w_e", ticket, { protocol: "https", host: server.host })).toEqual({ status: 200, body: {} });
    expect(JSON.stringify(receiver.received)).not.toContain(TOKEN);
    // Nor is the token kept on the node for it.
    expect(fs.readFileSync(path.join(daemon.workDir, "state", "credentials", "w_e.json"), "utf8")).not.toContain(TOKEN);
  }, 120_000);
});
