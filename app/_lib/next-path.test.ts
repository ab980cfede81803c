import { describe, expect, it } from "vitest";
import { safeNextPath } from "./next-path";

describe("safeNextPath", () => {
  it("keeps a same-site path with its query and hash", () => {
    expect(safeNextPath("/")).toBe("/");
    expect(safeNextPath("/settings")).toBe("/settings");
    expect(safeNextPath("/nodes?all=1#node-n_1")).toBe("/nodes?all=1#node-n_1");
    expect(safeNextPath("/tasks/3f2a?x=%2F")).toBe("/tasks/3f2a?x=%2F");
  });

  it("sends anything that could leave the site to the tasks page", () => {
    for (const bad of [
      undefined,
      "",
      "settings",
      "//evil.example",
      "//evil.example/path",
      "/\\evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "https://evil.example/",
      "javascript:alert(1)",
      "/%2f%2fevil.example",
      "/%5Cevil.example",
    ]) {
      expect(safeNextPath(bad), String(bad)).toBe("/");
    }
  });

  it("takes the first of repeated parameters and never returns to the sign-in page", () => {
    expect(safeNextPath(["/nodes", "//evil.example"])).toBe("/nodes");
    expect(safeNextPath("/sign-in?next=/")).toBe("/");
  });
});
