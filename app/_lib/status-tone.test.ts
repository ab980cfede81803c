import { describe, expect, it } from "vitest";
import { ErrorKind, NodeStatus, TaskStatus } from "@/lib/contracts/api";
import { ERROR_KIND_TONE, nodeStatusLook, pillAttributes, TASK_STATUS_LOOK } from "./status-tone";

describe("status tones", () => {
  it("gives every task status a tone, pulsing only while the task is worked on", () => {
    for (const status of TaskStatus.options) expect(TASK_STATUS_LOOK[status].tone, status).toBeTruthy();
    expect(TaskStatus.options.filter((status) => TASK_STATUS_LOOK[status].pulse)).toEqual(["in_progress"]);
    expect(TASK_STATUS_LOOK.completed.tone).toBe("good");
    expect(TASK_STATUS_LOOK.failed.tone).toBe("bad");
  });

  it("tells a warm node (running, no work) from a busy one, and pulses a node on its way up or down", () => {
    expect(nodeStatusLook("running", true).tone).toBe("idle");
    expect(nodeStatusLook("running", false).tone).toBe("good");
    expect(NodeStatus.options.filter((status) => nodeStatusLook(status, false).pulse)).toEqual(["pending", "creating", "stopping"]);
  });

  it("gives every error kind a tone", () => {
    for (const kind of ErrorKind.options) expect(ERROR_KIND_TONE[kind], kind).toBeTruthy();
  });

  it("sets data-pulse and data-hollow only when the look asks for them", () => {
    expect(pillAttributes(TASK_STATUS_LOOK.cancelled)).toEqual({ "data-tone": "quiet", "data-pulse": undefined, "data-hollow": true });
    expect(pillAttributes(TASK_STATUS_LOOK.in_progress)).toEqual({ "data-tone": "active", "data-pulse": true, "data-hollow": undefined });
  });
});
