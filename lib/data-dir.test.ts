/**
 * The data folder's modes: at start-up it becomes passable-only (0711) with everything in it
 * owner-only except the way to the local nodes' work folders, whatever an earlier version left;
 * and what is created in it later (the embedded database, the key file) is owner-only from the start.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { prepareDataDir } from "./data-dir";
import { keyRingFile, loadKeyRing } from "./secrets/key-ring";

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

describe("prepareDataDir", () => {
  it("creates the folder passable but not listable by others", () => {
    const root = path.join(tempDir(), "a", ".data");
    expect(prepareDataDir(path.relative(process.cwd(), root))).toBe(root);
    expect(mode(root)).toBe(0o711);
    expect(mode(path.join(root, "nodes"))).toBe(0o711);
  });

  it("makes what an earlier version left owner-only, and keeps the way to each node's work folder open", () => {
    const root = path.join(tempDir(), ".data");
    for (const file of ["secrets.keys", "pglite/PG_VERSION", "run/system.json", "logs/next.log", "stray.log"]) write(root, file);
    for (const file of ["node.json", "vm-agent.pid", "vm-agent.log", "vm-agent.log.1", "work/state/node.json"]) write(root, `nodes/n_1/${file}`);
    fs.symlinkSync("/etc/hostname", path.join(root, "link"));
    for (const dir of [root, path.join(root, "nodes"), path.join(root, "nodes", "n_1"), path.join(root, "pglite")]) fs.chmodSync(dir, 0o755);

    prepareDataDir(root);
    expect(mode(root)).toBe(0o711);
    for (const dir of ["pglite", "run", "logs"]) expect(mode(path.join(root, dir)), dir).toBe(0o700);
    for (const file of ["secrets.keys", "stray.log"]) expect(mode(path.join(root, file)), file).toBe(0o600);
    expect(mode(path.join(root, "nodes"))).toBe(0o711);
    expect(mode(path.join(root, "nodes", "n_1"))).toBe(0o711);
    for (const file of ["node.json", "vm-agent.pid", "vm-agent.log", "vm-agent.log.1"]) expect(mode(path.join(root, "nodes", "n_1", file)), file).toBe(0o600);
    // The node's daemon owns the modes inside its work folder; a link's target is not ours.
    expect(mode(path.join(root, "nodes", "n_1", "work"))).toBe(0o755);
    expect(mode(path.join(root, "nodes", "n_1", "work", "state", "node.json"))).toBe(0o644);
    expect(fs.lstatSync(path.join(root, "link")).isSymbolicLink()).toBe(true);
  });
});

const SETPRIV = "/usr/bin/setpriv";
const asRoot = process.getuid?.() === 0 && fs.existsSync(SETPRIV);

/** Runs a command as `nobody`, as an agent's own user would be: true when it succeeds. */
function asNobody(...command: string[]) {
  return spawnSync(SETPRIV, ["--reuid=65534", "--regid=65534", "--clear-groups", "--", ...command], { stdio: "ignore" }).status === 0;
}

describe.runIf(asRoot)("another user on this machine (as root: run as nobody)", () => {
  it("reaches a node's work folder, but cannot list the data folder or read the database or key file", () => {
    const parent = tempDir();
    fs.chmodSync(parent, 0o711);
    const root = path.join(parent, ".data");
    for (const file of ["secrets.keys", "pglite/PG_VERSION", "nodes/n_1/vm-agent.log"]) write(root, file);
    write(root, "nodes/n_1/work/workspaces/w_1/README.md");
    prepareDataDir(root);

    expect(asNobody("cat", path.join(root, "nodes", "n_1", "work", "workspaces", "w_1", "README.md"))).toBe(true);
    expect(asNobody("ls", root)).toBe(false);
    expect(asNobody("ls", path.join(root, "nodes"))).toBe(false);
    expect(asNobody("cat", path.join(root, "secrets.keys"))).toBe(false);
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
