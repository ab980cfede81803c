/**
 * The data folder is the control plane's own: a new, empty or marked folder (or one an earlier
 * version made), never one with other files, which is refused untouched. At start-up it becomes
 * passable-only (0711) with what the control plane made in it owner-only except the way to the
 * local nodes' work folders, whatever an earlier version left; and what is created in it later
 * (the embedded database, the key file) is owner-only from the start.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeNeedingRoot } from "@/tests/harness/needs-root";
import { openDatabase } from "@/db/client";
import { DATA_DIR_MARKER, prepareDataDir } from "./data-dir";
import { keyRingFile, loadKeyRing } from "./secrets/key-ring";
import { ensureLocalToken } from "./auth/local";

const mode = (file: string) => fs.statSync(file).mode & 0o777;
const temporary: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-data-dir-"));
  temporary.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temporary) fs.rmSync(dir, { recursive: true, force: true });
});

function write(root: string, file: string, fileMode = 0o644) {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(root, file), "x", { mode: fileMode });
  fs.chmodSync(path.join(root, file), fileMode);
}

/** Every entry under `root` (links not followed) with its mode. */
function modesUnder(root: string): Record<string, number> {
  const modes: Record<string, number> = { ".": fs.lstatSync(root).mode & 0o7777 };
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: false }) as string[]) modes[entry] = fs.lstatSync(path.join(root, entry)).mode & 0o7777;
  return modes;
}

describe("prepareDataDir", () => {
  it("creates the folder passable but not listable by others, and marks it as the control plane's", () => {
    const root = path.join(tempDir(), "a", ".data");
    expect(prepareDataDir(path.relative(process.cwd(), root))).toBe(root);
    expect(mode(root)).toBe(0o711);
    expect(mode(path.join(root, "nodes"))).toBe(0o711);
    expect(fs.readFileSync(path.join(root, DATA_DIR_MARKER), "utf8")).toMatch(/agent control plane/i);
    expect(mode(path.join(root, DATA_DIR_MARKER))).toBe(0o600);
  });

  it("adopts an empty folder someone made for it, and marks it", () => {
    const root = tempDir();
    fs.chmodSync(root, 0o755);
    prepareDataDir(root);
    expect(mode(root)).toBe(0o711);
    expect(fs.existsSync(path.join(root, DATA_DIR_MARKER))).toBe(true);
  });

  it("refuses a folder with files it did not make, naming it, and changes nothing in it", () => {
    // A home folder, a project, the checkout (DATA_DIR= read as the current folder).
    const root = tempDir();
    for (const file of ["README.md", "src/index.ts", ".ssh/config", "secrets.keys"]) write(root, file);
    fs.chmodSync(root, 0o755);
    fs.symlinkSync("/etc/hostname", path.join(root, "pglite"));
    const before = modesUnder(root);

    expect(() => prepareDataDir(root)).toThrow(new RegExp(`DATA_DIR: ${root} .*not made by the control plane.*README\\.md`));
    expect(modesUnder(root)).toEqual(before);
    expect(fs.existsSync(path.join(root, DATA_DIR_MARKER))).toBe(false);
  });

  it("refuses a file", () => {
    const file = path.join(tempDir(), "data");
    fs.writeFileSync(file, "x");
    expect(() => prepareDataDir(file)).toThrow(new RegExp(`DATA_DIR: ${file} is not a folder`));
  });

  it("adopts the data folder of a version from before the mark, makes what it left owner-only, and keeps the way to each node's work folder open", () => {
    const root = path.join(tempDir(), ".data");
    for (const file of ["secrets.keys", "local-token", "pglite/PG_VERSION", "run/system.json", "logs/next.log", "engine/keys.json"]) write(root, file);
    for (const file of ["node.json", "vm-agent.pid", "vm-agent.log", "vm-agent.log.1", "work/state/node.json"]) write(root, `nodes/n_1/${file}`);
    for (const dir of [root, path.join(root, "nodes"), path.join(root, "nodes", "n_1"), path.join(root, "pglite")]) fs.chmodSync(dir, 0o755);

    prepareDataDir(root);
    expect(fs.existsSync(path.join(root, DATA_DIR_MARKER))).toBe(true);
    expect(mode(root)).toBe(0o711);
    for (const dir of ["pglite", "run", "logs", "engine"]) expect(mode(path.join(root, dir)), dir).toBe(0o700);
    expect(mode(path.join(root, "secrets.keys"))).toBe(0o600);
    expect(mode(path.join(root, "local-token"))).toBe(0o600);
    expect(mode(path.join(root, "nodes"))).toBe(0o711);
    expect(mode(path.join(root, "nodes", "n_1"))).toBe(0o711);
    for (const file of ["node.json", "vm-agent.pid", "vm-agent.log", "vm-agent.log.1"]) expect(mode(path.join(root, "nodes", "n_1", file)), file).toBe(0o600);
    // The node's daemon owns the modes inside its work folder.
    expect(mode(path.join(root, "nodes", "n_1", "work"))).toBe(0o755);
    expect(mode(path.join(root, "nodes", "n_1", "work", "state", "node.json"))).toBe(0o644);
  });

  it("sets modes only on what it made: something else put in its folder later, or a link, is left as it is", () => {
    const root = prepareDataDir(path.join(tempDir(), ".data"));
    write(root, "notes.txt");
    write(root, "backup/dump.sql");
    fs.symlinkSync("/etc/hostname", path.join(root, "secrets.keys"));
    const before = modesUnder(root);
    fs.chmodSync(root, 0o755);

    prepareDataDir(root);
    expect(mode(root)).toBe(0o711);
    expect(modesUnder(root)).toEqual({ ...before, ".": 0o711 });
  });
});

const SETPRIV = "/usr/bin/setpriv";

/** Runs a command as `nobody`, as an agent's own user would be: true when it succeeds. */
function asNobody(...command: string[]) {
  return spawnSync(SETPRIV, ["--reuid=65534", "--regid=65534", "--clear-groups", "--", ...command], { stdio: "ignore" }).status === 0;
}

describeNeedingRoot("another user on this machine (run as nobody)", () => {
  it("reaches a node's work folder, but cannot list the data folder or read the database, key file or local token", () => {
    const parent = tempDir();
    fs.chmodSync(parent, 0o711);
    const root = path.join(parent, ".data");
    for (const file of ["secrets.keys", "pglite/PG_VERSION", "nodes/n_1/vm-agent.log"]) write(root, file);
    write(root, "nodes/n_1/work/workspaces/w_1/README.md");
    prepareDataDir(root);
    ensureLocalToken(root);

    expect(asNobody("cat", path.join(root, "nodes", "n_1", "work", "workspaces", "w_1", "README.md"))).toBe(true);
    expect(asNobody("ls", root)).toBe(false);
    expect(asNobody("ls", path.join(root, "nodes"))).toBe(false);
    expect(asNobody("cat", path.join(root, "secrets.keys"))).toBe(false);
    expect(asNobody("cat", path.join(root, "local-token"))).toBe(false);
    expect(asNobody("cat", path.join(root, "pglite", "PG_VERSION"))).toBe(false);
    expect(asNobody("cat", path.join(root, "nodes", "n_1", "vm-agent.log"))).toBe(false);
  });
});

describe("what is created in the data folder", () => {
  it("is owner-only: the embedded database's folder and the secrets key file", async () => {
    const root = prepareDataDir(path.join(tempDir(), ".data"));
    const database = await openDatabase({ dataDir: root });
    await database.close();
    expect(mode(path.join(root, "pglite"))).toBe(0o700);
    loadKeyRing({ DATA_DIR: root, SECRETS_KEYS: undefined });
    expect(mode(keyRingFile(root))).toBe(0o600);
    expect(mode(root)).toBe(0o711);
  }, 60_000);

  it("an embedded database folder an earlier version made readable is made owner-only when opened", async () => {
    const root = path.join(tempDir(), ".data");
    fs.mkdirSync(path.join(root, "pglite"), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(root, "pglite"), 0o755);
    const database = await openDatabase({ dataDir: root });
    await database.close();
    expect(mode(path.join(root, "pglite"))).toBe(0o700);
  }, 60_000);
});
