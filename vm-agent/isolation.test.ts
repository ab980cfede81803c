/**
 * Workspaces kept apart on one node, for real: the daemon as its own root process creates a Unix
 * user per workspace; an agent tries to reach another workspace, the daemon's state, outbox,
 * environment and tmux, and fails; deleting the workspace deletes its user. A root daemon that
 * cannot isolate runs no workspace unless WORKSPACE_USERS=off says it may. As a non-root daemon (a
 * laptop) the node says it cannot isolate, and WORKSPACE_USERS=required refuses to start. A
 * workspace's HOME is always its own folder. Every test here needs root: skipped, each says so.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { git, makeRepo } from "../tests/harness/git";
import { describeNeedingRoot } from "../tests/harness/needs-root";
import { sharedTempDir } from "../tests/harness/shared-dir";
import { daemonProcess, startReceiver } from "./test-support";
import { nodeUsers, refusalMessage } from "./users";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A shell probe: prints `<name>:ok` when the command succeeds, `<name>:denied` when it fails. */
const probe = (name: string, command: string) => `if ${command} >/dev/null 2>&1; then echo ${name}:ok; else echo ${name}:denied; fi`;

describeNeedingRoot("workspace users on a root node", () => {
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

describeNeedingRoot("a node that cannot create users", () => {
  /** A root daemon whose work folder is behind a folder others cannot enter; its setup script leaves its id and HOME in a shared folder. */
  async function closedRootNode(extraEnv: Record<string, string>) {
    const receiver = await startReceiver();
    const closed = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-closed-")); // 0700
    cleanups.push(receiver.close, () => fs.rmSync(closed, { recursive: true, force: true }));
    const daemon = await daemonProcess(receiver, { ...extraEnv, VM_AGENT_WORK_DIR: path.join(closed, "work") });
    cleanups.push(daemon.cleanup);
    const { endpoint } = await daemon.start();
    const out = sharedTempDir("vm-agent-setup-ran-");
    cleanups.push(() => fs.rmSync(out, { recursive: true, force: true }));
    const repo = makeRepo({ ".agent/setup.sh": `{ id -u; echo "$HOME"; } > '${out}/setup'\n` });
    expect(await daemon.call(endpoint, "POST", "/workspaces", { workspaceId: "w_r", taskId: "t_r", repository: repo, branch: "agents/w_r", callbackToken: "cb" })).toBe(202);
    const ready = receiver.received.find((r) => r.path.endsWith("/ready"))!;
    const provisioned = await receiver.next(/w_r\/(ready|provisioning-failed)$/);
    return { closed, ready, provisioned, setupFile: path.join(out, "setup"), workspaceDir: path.join(closed, "work", "workspaces", "w_r") };
  }

  it("refuses every workspace as root when its users could not reach its work folder, saying why and what would run it (the Tried line: its setup ran as root)", async () => {
    const { closed, ready, provisioned, setupFile, workspaceDir } = await closedRootNode({});
    const why = `its work folder is behind ${closed}, which other users cannot enter (mode 700)`;
    expect(ready.body.isolation).toEqual({ mode: "none", reason: why, egress: { mode: "none", reason: `workspaces do not run as their own users (${why})` } });
    expect(provisioned.path).toMatch(/provisioning-failed$/);
    expect(provisioned.body).toMatchObject({ stage: "workspace-user", error: refusalMessage(why) });
    expect(String(provisioned.body.error)).toContain("WORKSPACE_USERS=off");
    expect(fs.existsSync(setupFile)).toBe(false);
    expect(fs.existsSync(path.join(workspaceDir, "repo"))).toBe(false);
  }, 60_000);

  it("runs workspaces as root with WORKSPACE_USERS=off, saying so, each with its own HOME", async () => {
    const { ready, provisioned, setupFile, workspaceDir } = await closedRootNode({ WORKSPACE_USERS: "off" });
    expect(ready.body.isolation).toMatchObject({ mode: "none", reason: "WORKSPACE_USERS=off", egress: { mode: "none" } });
    expect(provisioned.path, JSON.stringify(provisioned.body)).toMatch(/ready$/);
    expect(fs.readFileSync(setupFile, "utf8").trim().split("\n")).toEqual(["0", path.join(workspaceDir, "home")]);
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

  it("says so in its ready callback, and runs workspaces as its own user, each with its own HOME (never the daemon's)", async () => {
    const { receiver, daemon, workDir } = await unprivileged({});
    const { endpoint } = await daemon.start();
    const ready = receiver.received.find((r) => r.path.endsWith("/ready"))!;
    expect(ready.body.isolation).toEqual({ mode: "none", reason: "the vm-agent runs as nobody, not root", egress: { mode: "none", reason: "workspaces do not run as their own users (the vm-agent runs as nobody, not root)" } });
    const repo = makeRepo({ ".agent/setup.sh": '{ id -un; echo "$HOME"; } > "$HOME/setup-id"\n' });
    spawnSync("chown", ["-R", "nobody:", repo]); // the laptop user's own repository
    expect(await daemon.call(endpoint, "POST", "/workspaces", { workspaceId: "w_n", taskId: "t_n", repository: repo, branch: "agents/w_n", callbackToken: "cb" })).toBe(202);
    const provisioned = await receiver.next(/w_n\/(ready|provisioning-failed)$/);
    expect(provisioned.path, JSON.stringify(provisioned.body)).toMatch(/ready$/);
    const home = path.join(workDir, "workspaces", "w_n", "home");
    // The daemon's HOME is workDir: nothing of the workspace's lands there.
    expect(fs.readFileSync(path.join(home, "setup-id"), "utf8").trim().split("\n")).toEqual(["nobody", home]);
    expect(fs.existsSync(path.join(workDir, "setup-id"))).toBe(false);
    expect(nodeUsers(daemon.nodeId)).toEqual([]);
  }, 60_000);

  it("refuses to start with WORKSPACE_USERS=required, saying why", async () => {
    const { daemon } = await unprivileged({ WORKSPACE_USERS: "required" });
    const result = await daemon.run();
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("WORKSPACE_USERS=required, but the vm-agent cannot create users: the vm-agent runs as nobody, not root");
  }, 60_000);
});
