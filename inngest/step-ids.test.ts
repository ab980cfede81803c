/** A run's step ids follow one scheme (inngest/step-ids.ts), the waits' own steps included. */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { WAIT_EVENTS } from "@/lib/pipeline/wait-events";
import { STEP_ID_PATTERN, stepId } from "./step-ids";
import { PENDING, waitFor, type WaitTools } from "./wait-for";

describe("step ids", () => {
  it("name the stage, the attempt after the first, the turn and the action", () => {
    expect(stepId("node_selection", "select", { attempt: 0 })).toBe("node_selection/select");
    expect(stepId("workspace_ready", "wait", { attempt: 2 })).toBe("workspace_ready/attempt-2/wait");
    expect(stepId("awaiting_followup", "deliver", { turn: 3 })).toBe("awaiting_followup/turn-3/deliver");
    expect(stepId("run", "claim")).toBe("run/claim");
    for (const id of ["node_selection/select", "workspace_ready/attempt-2/wait", "node_provisioning/attempt-1/back-off-0", "running/turn-2/pull-request-retry-1"]) expect(id).toMatch(STEP_ID_PATTERN);
    for (const id of ["claim-run", "node_selection-1-queue", "followup-2", "running-check-0"]) expect(id).not.toMatch(STEP_ID_PATTERN);
  });

  it("go on below a wait's id for each of its steps", async () => {
    const ids: string[] = [];
    let looks = 0;
    const tools: WaitTools = {
      run: async (id, fn) => (ids.push(id), fn()),
      waitForEvent: async (id) => (ids.push(id), null),
      race: (fn) => fn(),
    };
    const name = stepId("workspace_ready", "wait", { attempt: 1 });
    await waitFor(tools, { name, taskId: "t1", listen: WAIT_EVENTS.workspace_ready, check: async () => (++looks > 2 ? "ready" : PENDING), totalMs: 90_000, firstSliceMs: 30_000, maxSliceMs: 300_000 });
    expect(ids.length).toBeGreaterThan(5);
    for (const id of ids) {
      expect(id.startsWith(`${name}/`), id).toBe(true);
      expect(id).toMatch(STEP_ID_PATTERN);
    }
  });

  it("are the only way the run names its steps", () => {
    const source = fs.readFileSync(path.join(import.meta.dirname, "functions", "run-task.ts"), "utf8");
    const named = [...source.matchAll(/\b(?:guarded|step\.run|step\.sleepUntil|step\.waitForEvent)\(\s*([^,]+),/g)].map((m) => m[1]!.trim());
    const waits = [...source.matchAll(/waitFor\(tools, \{ name: ([^,]+),/g), ...source.matchAll(/^\s*name: ([^,]+),$/gm)].map((m) => m[1]!.trim());
    expect(named.length).toBeGreaterThan(10);
    expect(waits.length).toBeGreaterThanOrEqual(5);
    // `guarded(id, …)` and `step.waitForEvent(id, …)` pass an id through from their callers.
    for (const id of [...named, ...waits].filter((id) => id !== "id")) expect(id).toMatch(/^stepId\(/);
  });
});
