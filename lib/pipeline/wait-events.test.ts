import { describe, expect, it } from "vitest";
import { nodeLost, taskCancelled, WAKE_EVENTS } from "../contracts/events";
import { WAIT_EVENTS } from "./wait-events";

describe("what the run's waits listen for", () => {
  const lists = Object.entries(WAIT_EVENTS);

  it("every wake event is listened for by some wait (one nobody hears would wake nothing)", () => {
    const heard = new Set(lists.flatMap(([, events]) => events.map((e) => e.name)));
    expect(WAKE_EVENTS.map((e) => e.name).filter((name) => !heard.has(name))).toEqual([]);
  });

  it("every wait ends on a cancel, and every wait on a node or its agent on that node's loss", () => {
    for (const [wait, events] of lists) expect(events, wait).toContain(taskCancelled);
    for (const wait of ["node_agent_ready", "workspace_ready", "running"] as const) expect(WAIT_EVENTS[wait], wait).toContain(nodeLost);
  });

  it("keeps each wait to four events at most (each costs a step per slice)", () => {
    for (const [wait, events] of lists) {
      expect(events.length, wait).toBeLessThanOrEqual(4);
      expect(new Set(events.map((e) => e.name)).size, wait).toBe(events.length);
    }
  });
});
