import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkRepository, RepositoryRefusedError } from "./repository-policy";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "acp-policy-"));
const plane = path.join(root, "control-plane");
fs.mkdirSync(path.join(plane, ".data", "nodes"), { recursive: true });
const local = { AUTH_MODE: "local" as const, DATA_DIR: ".data" };
const check = (repository: string, config: Parameters<typeof checkRepository>[0] = local) => () => checkRepository(config, repository, plane);

describe("local mode", () => {
  it("takes local paths and URLs elsewhere", () => {
    expect(check(path.join(root, "elsewhere"))).not.toThrow();
    expect(check(`file://${path.join(root, "elsewhere")}`)).not.toThrow();
    expect(check("https://github.com/acme/app.git")).not.toThrow();
    // A sibling whose name starts like the control plane's is not inside it.
    expect(check(`${plane}-other`)).not.toThrow();
  });

  it("refuses the control plane's own checkout, anything inside it, and its data directory", () => {
    expect(check(plane)).toThrow(/repository may not be inside the control plane's own folder/);
    expect(check(`${plane}/`)).toThrow(RepositoryRefusedError);
    expect(check(path.join(plane, "lib"))).toThrow(RepositoryRefusedError);
    expect(check(`file://${plane}`)).toThrow(RepositoryRefusedError);
    expect(check(path.join(root, "elsewhere", "..", "control-plane"))).toThrow(RepositoryRefusedError);
    const data = { ...local, DATA_DIR: path.join(root, "data") };
    fs.mkdirSync(data.DATA_DIR, { recursive: true });
    expect(check(path.join(data.DATA_DIR, "nodes", "n_1", "repo"), data)).toThrow(/data directory/);
  });

  it("sees through a symlink that points into the control plane", () => {
    const link = path.join(root, "innocent");
    fs.symlinkSync(plane, link);
    expect(check(link)).toThrow(RepositoryRefusedError);
    expect(check(path.join(link, "not-yet-there"))).toThrow(RepositoryRefusedError);
  });
});

describe("team mode", () => {
  const team = { AUTH_MODE: "team" as const, DATA_DIR: ".data" };
  it("takes only https URLs", () => {
    expect(check("https://github.com/acme/app.git", team)).not.toThrow();
    expect(check(path.join(root, "elsewhere"), team)).toThrow(/must be an https:\/\/ URL: a team control plane does not clone from its own machine/);
    expect(check("file:///srv/repo", team)).toThrow(RepositoryRefusedError);
    expect(check("git@github.com:acme/app.git", team)).toThrow(/https/);
    expect(check("ssh://git@github.com/acme/app.git", team)).toThrow(/https/);
    expect(check("http://github.com/acme/app.git", team)).toThrow(/https/);
  });
});
