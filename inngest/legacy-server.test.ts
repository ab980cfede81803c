import { describe, expect, it } from "vitest";
import { downgradeOpcodes, forLegacyServer } from "./legacy-server";

describe("downgradeOpcodes", () => {
  it("turns StepFailed into StepError and keeps the rest of the op", () => {
    const body = JSON.stringify([{ id: "a", op: "StepFailed", error: { message: "boom" } }, { id: "b", op: "StepRun" }]);
    expect(JSON.parse(downgradeOpcodes(body))).toEqual([
      { id: "a", op: "StepError", error: { message: "boom" } },
      { id: "b", op: "StepRun" },
    ]);
  });

  it("leaves bodies without StepFailed byte for byte", () => {
    const body = '[{"id":"x","op":"StepRun","data":{"a":1}}]';
    expect(downgradeOpcodes(body)).toBe(body);
  });
});

describe("forLegacyServer", () => {
  const handler = async () =>
    new Response(JSON.stringify([{ op: "StepFailed" }]), { status: 206, headers: { "content-type": "application/json", "x-keep": "1" } });

  it("rewrites when enabled and keeps status and headers", async () => {
    const response = await forLegacyServer(handler, true)(new Request("http://x"), {});
    expect(response.status).toBe(206);
    expect(response.headers.get("x-keep")).toBe("1");
    expect(await response.json()).toEqual([{ op: "StepError" }]);
  });

  it("is the plain handler when disabled", async () => {
    const response = await forLegacyServer(handler, false)(new Request("http://x"), {});
    expect(await response.json()).toEqual([{ op: "StepFailed" }]);
  });
});
