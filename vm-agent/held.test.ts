/** The held-workspace count read from a node's records agrees with what the daemon itself reports. */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeRepo } from "../tests/harness/git";
import { heldWorkspaces, workspaceRecordsDir } from "./state/held";
import { startReceiver, startTestAgent, workspaceRequest } from "./test-support";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe("held workspaces, read from the records", () => {
  it("count what the daemon's /health reports to a token for the node, and throw on a record that cannot be read", async () => {
    const receiver = await startReceiver();
    const agent = await startTestAgent(receiver.url);
    cleanups.push(receiver.close, agent.close);
    const reported = async () => (await agent.request("GET", "/health", undefined, `Bearer ${await agent.token()}`)).body.workspaces;
    expect(heldWorkspaces(agent.workDir)).toBe(0);

    await agent.request("POST", "/workspaces", workspaceRequest(makeRepo()));
    await receiver.next(/w_1\/ready$/);
    expect(heldWorkspaces(agent.workDir)).toBe(1);
    expect(await reported()).toBe(1);

    await agent.request("POST", "/workspaces/w_1/stop", {});
    expect(heldWorkspaces(agent.workDir)).toBe(0);
    expect(await reported()).toBe(0);

    fs.writeFileSync(path.join(workspaceRecordsDir(agent.workDir), "w_torn.json"), "{");
    expect(() => heldWorkspaces(agent.workDir)).toThrow();
  });
});
