/**
 * Orphans on a real node (a local vm-agent, its tmux socket, real git): a workspace no task has, a
 * folder no record names (holding a link out of it) and a tmux session no agent session owns are
 * reported with their node and path at once, and removed after ORPHAN_GRACE through the node; a
 * workspace of a running task and a held one are left alone, and nothing a link points at is touched.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { errors, nodes, tasks, users, workspaces } from "@/db/schema";
import { freePort } from "@/lib/net";
import { makeRepo } from "@/tests/harness/git";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { getNode, provisionNode } from "../nodes/lifecycle";
import { monitorNodes } from "../nodes/monitor";
import { localNodeDir, localNodeWorkDir } from "../nodes/providers/local";
import { clientForNode } from "../nodes/vm-agent-client";
import { reportNodeOrphans } from "./orphans";

const NODE = `n_orphans_${process.pid}`;
let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Awaited<ReturnType<typeof testRuntime>>;

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
  rt = await testRuntime(database, { NODE_READY_PROBE_AFTER: "1s", ORPHAN_GRACE: "30m" });
}, 60_000);
afterAll(async () => {
  const node = await getNode(database.db, NODE);
  if (node) await rt.provider.destroy(node);
  await database?.close();
});

const client = async () => clientForNode(rt, (await getNode(database.db, NODE))!);
const inventory = async () => (await (await client()).inventory())!;

describe("orphans on a node", () => {
  it("are reported with their node and path, removed after ORPHAN_GRACE, and a running task's workspace and a held one are left alone", async () => {
    // A real local node; its callbacks go nowhere, so the monitor adopts it once it answers.
    await database.db.insert(nodes).values({ id: NODE, userId: "u1", provider: "local", status: "creating" });
    expect(await provisionNode({ ...rt, controlPlaneUrl: `http://127.0.0.1:${await freePort()}`, callbackTtlMs: 600_000, enrollmentTtlMs: 600_000, leaseMs: 60_000 }, NODE)).toBe(true);
    await expect.poll(async () => (await monitorNodes(rt), (await getNode(database.db, NODE))!.status), { timeout: 30_000, interval: 500 }).toBe("running");

    // Three workspaces on the node: a running task's, a held one's, and one no task has.
    const repository = makeRepo();
    for (const id of ["legit", "held", "orphan"]) {
      await (await client()).createWorkspace({ workspaceId: `w_${id}`, taskId: `t_${id}`, repository, branch: `agents/${id}`, callbackToken: "nowhere", secrets: {} });
    }
    await database.db.insert(tasks).values([
      { id: "t_legit", userId: "u1", repository, prompt: "p", agent: "script", status: "in_progress", branch: "agents/legit", executionStep: "running", nodeId: NODE, workspaceId: "w_legit" },
      { id: "t_held", userId: "u1", repository, prompt: "p", agent: "script", status: "completed", branch: "agents/held", nodeId: NODE, workspaceId: "w_held", completedAt: new Date(), cleanedUpAt: new Date() },
    ]);
    await database.db.insert(workspaces).values([
      { id: "w_legit", taskId: "t_legit", nodeId: NODE, branch: "agents/legit", status: "running" },
      { id: "w_held", taskId: "t_held", nodeId: NODE, branch: "agents/held", status: "stopped", heldAt: new Date() },
    ]);
    await expect.poll(async () => (await inventory()).workspaces.filter((w) => w.status === "running").length, { timeout: 60_000, interval: 300 }).toBe(3);

    // A folder no record names, with a link to something outside, and a tmux session no agent session owns.
    const root = path.join(localNodeWorkDir(localNodeDir(database.dir, NODE)), "workspaces");
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "acp-outside-"));
    fs.writeFileSync(path.join(outside, "keep.txt"), "not the node's");
    fs.mkdirSync(path.join(root, "w_stray"));
    fs.symlinkSync(outside, path.join(root, "w_stray", "link"));
    expect(spawnSync("tmux", ["-L", `acp-${NODE}`, "new-session", "-d", "-s", "planted", "sleep 600"]).status).toBe(0);

    const first = await reportNodeOrphans(rt);
    expect(first.sort()).toEqual([
      `orphan tmux session planted on node ${NODE}: no agent session of the node owns it`,
      `orphan workspace folder on node ${NODE} at ${path.join(root, "w_orphan")}: no task has workspace w_orphan`,
      `orphan workspace folder on node ${NODE} at ${path.join(root, "w_stray")}: no record on the node and no task names it`,
    ]);
    const rows = await database.db.select().from(errors).where(eq(errors.kind, "orphan"));
    expect(rows.map((r) => `${r.nodeId} ${r.workspaceId ?? "-"}`).sort()).toEqual([`${NODE} -`, `${NODE} w_orphan`, `${NODE} w_stray`]);
    // Within the grace nothing is removed, and a report is not repeated.
    expect(await reportNodeOrphans(rt, Date.now() + 29 * 60_000)).toEqual([]);
    expect((await inventory()).workspaces.map((w) => w.workspaceId).sort()).toEqual(["w_held", "w_legit", "w_orphan", "w_stray"]);

    const later = await reportNodeOrphans(rt, Date.now() + 31 * 60_000);
    expect(later.filter((m) => m.endsWith("removed after ORPHAN_GRACE"))).toHaveLength(3);
    const left = await inventory();
    expect(left.workspaces.map((w) => w.workspaceId).sort()).toEqual(["w_held", "w_legit"]);
    expect(left.tmuxSessions.map((s) => s.name)).not.toContain("planted");
    expect(spawnSync("tmux", ["-L", `acp-${NODE}`, "has-session", "-t", "=planted"]).status).not.toBe(0);
    expect(fs.existsSync(path.join(root, "w_legit", "repo"))).toBe(true);
    expect(fs.existsSync(path.join(root, "w_held", "repo"))).toBe(true);
    // The link was removed, not followed.
    expect(fs.readFileSync(path.join(outside, "keep.txt"), "utf8")).toBe("not the node's");
    // Nothing more to do.
    expect(await reportNodeOrphans(rt, Date.now() + 62 * 60_000)).toEqual([]);
  }, 120_000);
});
