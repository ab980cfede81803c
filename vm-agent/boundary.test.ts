/**
 * The workspace boundary on a root node, for real: a workspace's setup script and agent plant
 * links, hardlinks and hostile git config wherever the daemon works, and nothing outside the
 * workspace changes owner, mode or content; clones of a local repository share no file with it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { git, makeRepo } from "../tests/harness/git";
import { describeNeedingRoot } from "../tests/harness/needs-root";
import { inheritedEnvironment } from "./config";
import { headCommit } from "./git";
import { inProcessRuntime, startReceiver, startTestAgent, type TestAgentOptions, workspaceRequest } from "./test-support";
import { removeNodeUsers, WorkspaceUsers } from "./users";

const inherited = inheritedEnvironment(process.env);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});


async function setup(overrides: TestAgentOptions = {}) {
  const receiver = await startReceiver();
  const agent = await startTestAgent(receiver.url, overrides);
  cleanups.push(receiver.close, agent.close);
  return { receiver, agent };
}

/** A folder of root's outside every workspace (mode 0700), with one file in it. */
function outsideFolder() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-outside-"));
  fs.chmodSync(dir, 0o700);
  fs.writeFileSync(path.join(dir, "secret"), "root's own\n", { mode: 0o600 });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Waits for the workspace's provisioning to end, and fails with its error unless it became ready. */
async function ready(receiver: Awaited<ReturnType<typeof startReceiver>>, workspaceId = "w_1") {
  const provisioned = await receiver.next(new RegExp(`${workspaceId}/(ready|provisioning-failed)$`));
  expect(provisioned.path, JSON.stringify(provisioned.body)).toMatch(/ready$/);
}

/** Owner, mode and content of every file under `dir` (links not followed), to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string) => {
    const stat = fs.lstatSync(at);
    const content = stat.isFile() ? fs.readFileSync(at).toString("base64") : stat.isSymbolicLink() ? fs.readlinkSync(at) : "";
    out[path.relative(dir, at) || "."] = `${stat.uid}:${stat.gid} ${(stat.mode & 0o7777).toString(8)} ${content}`;
    if (stat.isDirectory()) for (const name of fs.readdirSync(at)) walk(path.join(at, name));
  };
  walk(dir);
  return out;
}

/** A stand-in for the Codex CLI (CODEX_BIN) that exits at once: only the daemon's preparations matter here. */
function fakeCli() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-cli-"));
  fs.chmodSync(dir, 0o755);
  const bin = path.join(dir, "codex");
  fs.writeFileSync(bin, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return bin;
}

describeNeedingRoot("the workspace boundary on a root node", () => {
  // Tried: a setup script linked $HOME/.codex to a root-owned 0700 folder; the codex task's
  // preparations created the CLI's folder through the link and gave the folder to the workspace user.
  it("never changes the owner of a folder a link in the agent's HOME points at", async () => {
    const outside = outsideFolder();
    const before = snapshot(outside);
    const { agent, receiver } = await setup({ CODEX_BIN: fakeCli() });
    const repo = makeRepo({ ".agent/setup.sh": `ln -s '${outside}' "$HOME/.codex"\n` });
    await agent.request("POST", "/workspaces", workspaceRequest(repo));
    await ready(receiver);
    expect((await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "codex", prompt: "x", callbackToken: "cb", secrets: { OPENAI_API_KEY: "sk-test" } })).status).toBe(202);
    await receiver.next(/s_1\/completed$/);
    expect(snapshot(outside)).toEqual(before);
  });

  // Tried: a task on a local repository left the source's object files owned by the workspace user
  // (`git clone -- /path` hardlinks them, `chown -R` handed them over); the user rewrote one, and the
  // person's own checkout in the source wrote the agent's content.
  it("clones a local repository without sharing a file with it: the source keeps its owners and content", async () => {
    const { agent, receiver } = await setup({ SCRIPT_AGENT_COMMAND: 'eval "$AGENT_PROMPT"' });
    const repo = makeRepo({ "app.txt": "the person's line\n" });
    const before = snapshot(path.join(repo, ".git"));
    await agent.request("POST", "/workspaces", workspaceRequest(repo));
    await ready(receiver);
    // The agent rewrites, in place, every object file of its clone it can reach.
    const prompt = 'find .git/objects -type f | while read -r f; do chmod u+w "$f"; printf "agent" > "$f"; done';
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt, callbackToken: "cb" });
    await receiver.next(/s_1\/completed$/);
    const after = snapshot(path.join(repo, ".git"));
    // The push of the agent's branch adds objects and refs to the source; nothing it had changes.
    for (const [file, state] of Object.entries(before)) if (!/^(index|logs|refs|objects\/?$|objects\/[0-9a-f]{2}$|objects\/(info|pack)$|\.$)/.test(file)) expect([file, after[file]]).toEqual([file, state]);
    git(repo, "checkout", "-q", "--", "app.txt");
    expect(fs.readFileSync(path.join(repo, "app.txt"), "utf8")).toBe("the person's line\n");
    expect(git(repo, "fsck", "--no-dangling")).toBe("");
  });

  it("keeps everything outside the workspace as it was while a workspace plants links, hardlinks and hostile git config wherever the daemon works", async () => {
    const outside = outsideFolder();
    // A file anyone may write (so a workspace's user may hardlink it) and a private repository of root's.
    const shared = path.join(outside, "shared");
    fs.writeFileSync(shared, "everyone's\n", { mode: 0o666 });
    fs.chmodSync(shared, 0o666);
    fs.chmodSync(outside, 0o755);
    const closed = path.join(outside, "closed");
    fs.mkdirSync(closed, { mode: 0o700 });
    const secretRepo = makeRepo({ "launch-codes.txt": "0000\n" });
    fs.renameSync(secretRepo, path.join(closed, "repo"));
    const secret = git(path.join(closed, "repo"), "rev-parse", "HEAD");
    git(path.join(closed, "repo"), "gc", "-q");
    const packs = path.join(closed, "repo", ".git", "objects", "pack");
    const pack = fs.readdirSync(packs).find((name) => name.endsWith(".pack"))!.replace(/\.pack$/, "");
    // Where the hostile config's programs say who ran them.
    const probes = fs.mkdtempSync(path.join(os.tmpdir(), "acp-probes-"));
    fs.chmodSync(probes, 0o777);
    cleanups.push(() => fs.rmSync(probes, { recursive: true, force: true }));
    const probe = path.join(probes, "probe.sh");
    fs.writeFileSync(probe, `#!/bin/sh\necho "$(id -u) $0 $1" >> '${probes}/ran'\ncase "$1" in clean|smudge) cat ;; esac\n`, { mode: 0o755 });
    fs.mkdirSync(path.join(probes, "hooks"), { mode: 0o755 });
    for (const hook of ["pre-commit", "post-commit", "post-checkout", "reference-transaction", "pre-push", "post-rewrite"]) fs.symlinkSync(probe, path.join(probes, "hooks", hook));
    const before = snapshot(outside);

    const setupScript = [
      `ln -s '${outside}' "$HOME/.codex"`,
      `ln -s '${closed}' "$HOME/.claude"`,
      `ln '${shared}' "$HOME/hard"`,
      `ln '${shared}' .git/hard`,
      `git config core.fsmonitor '${probe}'`,
      `git config core.hooksPath '${probes}/hooks'`,
      `git config filter.probe.clean '${probe} clean'`,
      `git config filter.probe.smudge '${probe} smudge'`,
      `git config diff.external '${probe}'`,
      `git config core.pager '${probe}'`,
      `git config credential.helper '!${probe}'`,
      "echo '* filter=probe' > .gitattributes",
    ].join("\n");
    const { agent, receiver } = await setup({ CODEX_BIN: fakeCli(), SCRIPT_AGENT_COMMAND: 'eval "$AGENT_PROMPT"' });
    const repo = makeRepo({ ".agent/setup.sh": `${setupScript}\n` });
    await agent.request("POST", "/workspaces", workspaceRequest(repo));
    await ready(receiver);
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "codex", prompt: "x", callbackToken: "cb", secrets: { OPENAI_API_KEY: "sk-test" } });
    await receiver.next(/s_1\/completed$/);
    // The agent links root's private pack into its object store and makes its branch a child of
    // root's secret commit (written without reading it), hoping the daemon's push carries it out.
    const forge = [
      `ln -s '${packs}/${pack}.pack' .git/objects/pack/${pack}.pack`,
      `ln -s '${packs}/${pack}.idx' .git/objects/pack/${pack}.idx`,
      `ln '${shared}' .git/objects/pack/pack-hard.pack`,
      "tree=$(git write-tree)",
      `c=$(printf 'tree %s\\nparent ${secret}\\nauthor a <a@b> 0 +0000\\ncommitter a <a@b> 0 +0000\\n\\nforged\\n' "$tree" | git hash-object -t commit -w --literally --stdin)`,
      'git update-ref HEAD "$c"',
      "echo mine > MINE.md",
    ].join("\n");
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_2/start", { agent: "script", prompt: forge, callbackToken: "cb" });
    const done = await receiver.next(/s_2\/completed$/);
    expect(done.body.pushed).toBe(false);
    expect(() => git(repo, "cat-file", "-e", secret)).toThrow();
    expect((await agent.request("DELETE", "/workspaces/w_1?force=true")).status).toBe(200);
    expect(fs.existsSync(path.join(agent.workDir, "workspaces", "w_1"))).toBe(false);

    expect(snapshot(outside)).toEqual(before);
    // Whatever the hostile config made git run, it ran as the workspace's user, never as root.
    const ran = fs.existsSync(path.join(probes, "ran")) ? fs.readFileSync(path.join(probes, "ran"), "utf8").trim().split("\n") : [];
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.filter((line) => line.startsWith("0 "))).toEqual([]);
  });

  it("never runs git in a worktree as root for a workspace without a user of its own", async () => {
    const repo = makeRepo();
    await expect(headCommit(repo, { inherited })).rejects.toThrow(/refusing to run git as root/);
    expect(await headCommit(repo, { unisolated: true, inherited })).toBe(git(repo, "rev-parse", "HEAD"));
  });

  it("never gives a workspace user's uid to another, even once the first is deleted", async () => {
    const claims = fs.mkdtempSync(path.join(os.tmpdir(), "acp-uids-"));
    cleanups.push(() => fs.rmSync(claims, { recursive: true, force: true }));
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-users-"));
    fs.chmodSync(workDir, 0o755);
    cleanups.push(() => fs.rmSync(workDir, { recursive: true, force: true }));
    const nodeId = `node-uids-${process.pid}`;
    cleanups.push(() => removeNodeUsers(nodeId));
    const users = new WorkspaceUsers(nodeId, "required", workDir, { claims, min: 710_000_000 }, (await inProcessRuntime()).VM_AGENT_HELPERS_DIR);
    const seen: number[] = [];
    for (const workspaceId of ["w_1", "w_2", "w_3"]) {
      const user = (await users.ensure(workspaceId, path.join(workDir, workspaceId)))!;
      expect(user.gid).toBe(user.uid);
      seen.push(user.uid);
      await users.remove(workspaceId);
    }
    expect(new Set(seen).size).toBe(3);
    expect(seen.every((uid) => uid >= 710_000_000)).toBe(true);
    expect(fs.readdirSync(claims).map(Number).sort()).toEqual([...seen].sort());
  });
});
