/**
 * Workspaces kept apart on one node, for real: the daemon as its own root process creates a Unix
 * user per workspace; an agent tries to reach another workspace, the daemon's state, outbox,
 * environment and tmux, and fails; deleting the workspace deletes its user. As a non-root daemon
 * (a laptop) the node says it cannot isolate, and WORKSPACE_USERS=required refuses to start.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { git, makeRepo } from "../tests/harness/git";
import { daemonProcess, startReceiver } from "./test-support";
import { nodeUsers } from "./users";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const asRoot = process.getuid?.() === 0;

/** A shell probe: prints `<name>:ok` when the command succeeds, `<name>:denied` when it fails. */
const probe = (name: string, command: string) => `if ${command} >/dev/null 2>&1; then echo ${name}:ok; else echo ${name}:denied; fi`;

describe.runIf(asRoot)("workspace users on a root node", () => {
  it("run each workspace's setup and agent as its own user, who cannot reach another workspace or the daemon", async () => {
    const receiver = await startReceiver();
    const daemon = await daemonProcess(receiver, { SCRIPT_AGENT_COMMAND: 'eval "$AGENT_PROMPT"' });
    cleanups.push(receiver.close, daemon.cleanup);
    const { child, endpoint } = await daemon.start();
    const ready = receiver.received.find((r) => r.path.endsWith("/ready"))!;
    expect(ready.body.isolation).toEqual({ mode: "users", egress: { mode: "namespaces" } });

    // The "Tried" line: the setup script's `id` was uid=0(root). Now it is the workspace's user.
    const repo = makeRepo({ ".agent/setup.sh": 'id > "$HOME/setup-id"\n' });
    for (const workspaceId of ["w_a", "w_b"]) {
      await daemon.call(endpoint, "POST", "/workspaces", { workspaceId, taskId: `t_${workspaceId}`, repository: repo, branch: `agents/${workspaceId}`, callbackToken: "cb" });
    }
    await receiver.next(/w_a\/ready$/);
    await receiver.next(/w_b\/ready$/);
    const dir = (workspaceId: string) => path.join(daemon.workDir, "workspaces", workspaceId);
    const users = nodeUsers(daemon.nodeId);
    expect(users.map((u) => u.workspaceId).sort()).toEqual(["w_a", "w_b"]);
    const userA = users.find((u) => u.workspaceId === "w_a")!;
    const userB = users.find((u) => u.workspaceId === "w_b")!;
    expect(userA.uid).not.toBe(0);
    expect(userA.uid).not.toBe(userB.uid);
    expect(fs.readFileSync(path.join(dir("w_a"), "home", "setup-id"), "utf8")).toMatch(new RegExp(`^uid=${userA.uid}\\(${userA.name}\\) gid=${userA.gid}\\(${userA.name}\\) groups=${userA.gid}\\(${userA.name}\\)$`, "m"));
    expect(fs.statSync(path.join(dir("w_a"), "repo")).uid).toBe(userA.uid);
    expect(fs.statSync(dir("w_a")).mode & 0o777).toBe(0o750);
    expect(fs.statSync(path.join(daemon.workDir, "state")).mode & 0o777).toBe(0o700);

    // Workspace A's agent probes its neighbours and the daemon.
    const secretOfB = path.join(dir("w_b"), "repo", "SECRET.md");
    fs.writeFileSync(secretOfB, "b's work\n");
    fs.chownSync(secretOfB, userB.uid, userB.gid);
    const probes = [
      probe("own-worktree", "touch MINE.md"),
      probe("own-home", 'touch "$HOME/mine"'),
      probe("root", "test $(id -u) = 0"),
      probe("b-file", `cat '${secretOfB}'`),
      probe("b-folder", `ls '${dir("w_b")}'`),
      probe("b-write", `touch '${path.join(dir("w_b"), "repo", "planted")}'`),
      probe("state", `ls '${path.join(daemon.workDir, "state")}'`),
      probe("workspace-records", `cat '${path.join(daemon.workDir, "state", "workspaces", "w_a.json")}'`),
      probe("outbox", `ls '${path.join(daemon.workDir, "outbox")}'`),
      probe("work-folder", `ls '${daemon.workDir}'`),
      probe("daemon-environ", `cat /proc/${child.pid}/environ`),
      probe("daemon-signal", `kill -0 ${child.pid}`),
      probe("tmux", `tmux -L acp-${daemon.nodeId} list-sessions`),
    ];
    const prompt = `{\n${probes.join("\n")}\n} > "$HOME/probes"`;
    expect(await daemon.call(endpoint, "POST", "/workspaces/w_a/agent-sessions/s_a/start", { agent: "script", prompt, callbackToken: "cb" })).toBe(202);
    const done = await receiver.next(/s_a\/completed$/);
    const results = Object.fromEntries(fs.readFileSync(path.join(dir("w_a"), "home", "probes"), "utf8").trim().split("\n").map((line) => line.split(":")));
    expect(results).toEqual({
      "own-worktree": "ok",
      "own-home": "ok",
      root: "denied",
      "b-file": "denied",
      "b-folder": "denied",
      "b-write": "denied",
      state: "denied",
      "workspace-records": "denied",
      outbox: "denied",
      "work-folder": "denied",
      "daemon-environ": "denied",
      "daemon-signal": "denied",
      tmux: "denied",
    });
    // The daemon committed and pushed the agent's work as before (its git ran as the workspace's user).
    expect(done.body).toMatchObject({ outcome: "succeeded", pushed: true });
    expect(git(repo, "show", `${String(done.body.commit)}:MINE.md`)).toBe("");
    expect(git(repo, "log", "-1", "--format=%an", "agents/w_a")).toBe("Coding Agent");

    // Deleting a workspace deletes its user and whatever it left running.
    const leftover = spawn("sleep", ["600"], { uid: userB.uid, gid: userB.gid, stdio: "ignore" });
    cleanups.push(() => leftover.kill("SIGKILL"));
    const exited = new Promise((resolve) => leftover.once("exit", resolve));
    expect(await daemon.call(endpoint, "DELETE", "/workspaces/w_b?force=true")).toBe(200);
    await exited;
    expect(nodeUsers(daemon.nodeId).map((u) => u.workspaceId)).toEqual(["w_a"]);
    expect(spawnSync("id", [userB.name]).status).not.toBe(0);
  }, 120_000);

  it("removes at start-up the users of workspaces a crash left half-deleted", async () => {
    const receiver = await startReceiver();
    const daemon = await daemonProcess(receiver);
    cleanups.push(receiver.close, daemon.cleanup);
    const first = await daemon.start();
    await daemon.call(first.endpoint, "POST", "/workspaces", { workspaceId: "w_c", taskId: "t_c", repository: makeRepo(), branch: "agents/w_c", callbackToken: "cb" });
    await receiver.next(/w_c\/ready$/);
    expect(nodeUsers(daemon.nodeId)).toHaveLength(1);
    // A delete that died after removing the folder and the record, before the user.
    await daemon.killHard(first.child);
    fs.rmSync(path.join(daemon.workDir, "workspaces", "w_c"), { recursive: true, force: true });
    fs.rmSync(path.join(daemon.workDir, "state", "workspaces", "w_c.json"));
    await daemon.start();
    expect(nodeUsers(daemon.nodeId)).toEqual([]);
  }, 60_000);
});

describe.runIf(asRoot)("a node that cannot create users", () => {
  it("says so when its users could not reach its work folder, rather than failing every workspace", async () => {
    const receiver = await startReceiver();
    const closed = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-closed-")); // 0700
    cleanups.push(receiver.close, () => fs.rmSync(closed, { recursive: true, force: true }));
    const daemon = await daemonProcess(receiver, { VM_AGENT_WORK_DIR: path.join(closed, "work") });
    cleanups.push(daemon.cleanup);
    await daemon.start();
    const ready = receiver.received.find((r) => r.path.endsWith("/ready"))!;
    const reason = `its work folder is behind ${closed}, which other users cannot enter (mode 700)`;
    expect(ready.body.isolation).toEqual({ mode: "none", reason, egress: { mode: "none", reason: `workspaces do not run as their own users (${reason})` } });
  }, 60_000);

  /** The daemon as an unprivileged user (nobody), as on a laptop. */
  async function unprivileged(extraEnv: Record<string, string>) {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-nobody-"));
    cleanups.push(() => fs.rmSync(workDir, { recursive: true, force: true }));
    const nobody = Number(spawnSync("id", ["-u", "nobody"], { encoding: "utf8" }).stdout.trim());
    fs.chownSync(workDir, nobody, nobody);
    const daemon = await daemonProcess(receiver, { ...extraEnv, VM_AGENT_WORK_DIR: workDir, HOME: workDir, USER: "nobody" }, { uid: nobody, gid: nobody });
    cleanups.push(daemon.cleanup);
    return { receiver, daemon, workDir };
  }

  it("says so in its ready callback, and runs workspaces as its own user (with its HOME)", async () => {
    const { receiver, daemon, workDir } = await unprivileged({});
    const { endpoint } = await daemon.start();
    const ready = receiver.received.find((r) => r.path.endsWith("/ready"))!;
    expect(ready.body.isolation).toEqual({ mode: "none", reason: "the vm-agent runs as nobody, not root", egress: { mode: "none", reason: "workspaces do not run as their own users (the vm-agent runs as nobody, not root)" } });
    const repo = makeRepo({ ".agent/setup.sh": 'id -un > "$HOME/setup-id"\n' });
    spawnSync("chown", ["-R", "nobody:", repo]); // the laptop user's own repository
    expect(await daemon.call(endpoint, "POST", "/workspaces", { workspaceId: "w_n", taskId: "t_n", repository: repo, branch: "agents/w_n", callbackToken: "cb" })).toBe(202);
    const provisioned = await receiver.next(/w_n\/(ready|provisioning-failed)$/);
    expect(provisioned.path, JSON.stringify(provisioned.body)).toMatch(/ready$/);
    expect(fs.readFileSync(path.join(workDir, "setup-id"), "utf8").trim()).toBe("nobody");
    expect(nodeUsers(daemon.nodeId)).toEqual([]);
  }, 60_000);

  it("refuses to start with WORKSPACE_USERS=required, saying why", async () => {
    const { daemon } = await unprivileged({ WORKSPACE_USERS: "required" });
    const result = await daemon.run();
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("WORKSPACE_USERS=required, but the vm-agent cannot create users: the vm-agent runs as nobody, not root");
  }, 60_000);
});
