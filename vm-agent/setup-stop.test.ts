/**
 * A setup script never outlives what asked for it: a stop during provisioning kills it (and the
 * workspace reports nothing), and a daemon killed during setup stops the orphaned script before it
 * provisions again, so the script runs once at a time.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeRepo } from "../tests/harness/git";
import { alive } from "./runtime/processes";
import { daemonProcess, gone, startReceiver, startTestAgent, waitForFile, workspaceRequest } from "./test-support";
import { sharedTempDir } from "../tests/harness/shared-dir";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A setup script that records its pid (once per run, appended) and waits for a release file. */
function holdingSetup() {
  const dir = sharedTempDir("setup-hold-");
  const pids = path.join(dir, "pids");
  const release = path.join(dir, "release");
  const script = `echo $$ >> '${pids}'\nwhile [ ! -e '${release}' ]; do sleep 0.05; done\n`;
  const started = () => (fs.existsSync(pids) ? fs.readFileSync(pids, "utf8").trim().split("\n").map(Number) : []);
  return { repo: makeRepo({ ".agent/setup.sh": script }), pids, started, release: () => fs.writeFileSync(release, "") };
}

describe("a setup script", () => {
  it("is killed by a stop during provisioning, and the workspace reports nothing", async () => {
    const receiver = await startReceiver();
    const agent = await startTestAgent(receiver.url);
    cleanups.push(receiver.close, agent.close);
    const setup = holdingSetup();
    expect((await agent.request("POST", "/workspaces", workspaceRequest(setup.repo))).status).toBe(202);
    await waitForFile(setup.pids);
    const [pid] = setup.started();
    expect(alive(pid!)).toBe(true);
    expect((await agent.request("POST", "/workspaces/w_1/stop", {})).status).toBe(200);
    expect(gone(pid!)).toBe(true);
    setup.release();
    // Neither ready nor failed (the boot log showed the stages that ran, as it goes).
    expect(receiver.received.filter((r) => /^\/api\/workspaces\/w_1\/(ready|provisioning-failed)$/.test(r.path))).toEqual([]);
  });

  it("left running by a daemon killed with kill -9 is stopped before the restarted daemon provisions again", async () => {
    const receiver = await startReceiver();
    const daemon = await daemonProcess(receiver);
    cleanups.push(receiver.close, daemon.cleanup);
    const setup = holdingSetup();
    const first = await daemon.start();
    expect(await daemon.call(first.endpoint, "POST", "/workspaces", workspaceRequest(setup.repo))).toBe(202);
    await waitForFile(setup.pids);
    const [orphan] = setup.started();
    await daemon.killHard(first.child);
    expect(alive(orphan!)).toBe(true); // its own process group outlived the daemon

    await daemon.start();
    expect(gone(orphan!)).toBe(true);
    setup.release();
    await receiver.next(/w_1\/ready$/);
    expect(setup.started()).toHaveLength(2);
    expect(setup.started().filter((pid) => !gone(pid))).toEqual([]);
  });
});
