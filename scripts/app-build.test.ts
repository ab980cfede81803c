/** When the production build is current, and what a stale one says about its sources. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SOURCES_RECORD, sourceFingerprint, staleBuildReason } from "./app-build";

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

/** A project with a few sources and, when asked, a build recorded from them as they are now. */
function project(built: boolean) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "acp-app-build-"));
  roots.push(root);
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  write("app/page.tsx", "export default function Page() { return null; }\n");
  write("app/page.test.tsx", "// a test\n");
  write("lib/config.ts", "export const a = 1;\n");
  write("package-lock.json", "{}\n");
  write("vm-agent/main.ts", "// the daemon runs from its sources\n");
  if (built) {
    write(".next/BUILD_ID", "abc\n");
    write(`.next/${SOURCES_RECORD}`, JSON.stringify({ ...sourceFingerprint(root), builtAt: "2026-12-01T10:00:00.000Z" }));
  }
  return { root, write };
}

describe("the production build's sources", () => {
  it("are the app's folders and top-level files, without tests or the vm-agent", () => {
    const { root } = project(false);
    expect(Object.keys(sourceFingerprint(root).files)).toEqual(["app/page.tsx", "lib/config.ts", "package-lock.json"]);
  });

  it("make a build current until one of them changes, is added or is removed", () => {
    const { root, write } = project(true);
    expect(staleBuildReason(".next", root)).toBeUndefined();
    // Neither a test nor the vm-agent is built into the app.
    write("app/page.test.tsx", "// changed\n");
    write("vm-agent/main.ts", "// changed\n");
    expect(staleBuildReason(".next", root)).toBeUndefined();

    write("lib/config.ts", "export const a = 2;\n");
    expect(staleBuildReason(".next", root)).toBe("1 source file changed since the build of 2026-12-01T10:00:00.000Z (lib/config.ts)");
    write("lib/new.ts", "export {};\n");
    fs.rmSync(path.join(root, "app/page.tsx"));
    write("package-lock.json", "{ }\n");
    expect(staleBuildReason(".next", root)).toBe("4 source files changed since the build of 2026-12-01T10:00:00.000Z (lib/config.ts, lib/new.ts, package-lock.json and 1 more)");
  });

  it("cannot be current without a finished build", () => {
    const { root } = project(false);
    expect(staleBuildReason(".next", root)).toBe("no production build in .next yet");
    // A build that failed half-way left Next.js's files but no record of its sources.
    const built = project(true);
    fs.rmSync(path.join(built.root, ".next", SOURCES_RECORD));
    expect(staleBuildReason(".next", built.root)).toBe("no production build in .next yet");
  });
});
