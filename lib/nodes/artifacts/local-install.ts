/**
 * The node runtime installed on this machine for the local provider's root daemons: the two
 * archives a cloud node's installer downloads (vm-agent/install/install.sh), the packed Node
 * (node-runtime.ts) and the bundled vm-agent (vm-agent.ts), unpacked as it unpacks them, into
 * `<installDir>/node/<sha16>/bin/node` and `<installDir>/vm-agent/<sha16>/vm-agent.mjs`; and the
 * agent CLIs found in the checkout, in `<installDir>/agents/<package>-<key16>/`.
 *
 * Why: a root daemon runs each workspace as its own user, who executes Node, the daemon's helper
 * scripts (`agents/*.mjs`: the git credential helper, the built-in script agent) and the agent
 * CLIs. In the checkout they sit behind whatever folder holds it (`/root`, a home folder, a
 * `mktemp -d`: mode 0700), where those users cannot go. The install folder is root's and passable
 * all the way (LOCAL_NODE_RUNTIME_DIR, default DEFAULT_LOCAL_RUNTIME_DIR: installed software, kept
 * apart from what install.sh puts in /opt/agent-control-plane because what is here is pruned).
 *
 * Each folder is named by what it holds (an archive's sha256; for a CLI, its package's files),
 * made once in a temporary folder beside it and renamed into place (a half-made folder never has
 * the name; of two concurrent installs one rename wins), and reused by every later start. A start
 * touches what it uses; what no running process names and nothing used for PRUNE_AFTER_MS goes.
 *
 * The turbopackIgnore comments mark paths under the install folder that the app's build (Next's
 * Turbopack, which traces the files a server module reads into its output) would otherwise take for
 * the project's own files: a name beside an unknown folder (`<dir>/node/<sha>`, `<dir>/<name>`)
 * matches thousands of them, so the build warned and traced the whole project. Turbopack reads the
 * comment only as the first argument of the call it names (`path.join(<comment> dir, name)`).
 */
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { agentCliPackages, installedAgentCli, type AgentCliSetting } from "../../contracts/agents/installed-cli";
import { unreachableByOthers } from "../../contracts/passable";
import { nodeRuntimeArtifact } from "./node-runtime";
import { vmAgentArtifact } from "./vm-agent";

export const DEFAULT_LOCAL_RUNTIME_DIR = "/opt/agent-control-plane/local";
/** A folder no process names is kept this long after its last use: a daemon being started by another process may be about to. */
const PRUNE_AFTER_MS = 24 * 60 * 60_000;
const INSTALLED_DIR_MODE = 0o755;

export type LocalRuntime = {
  /** Node, to run the daemon with (its helpers run with the same: process.execPath). */
  node: string;
  /** The daemon's entry point; its helper scripts are beside it. */
  vmAgent: string;
  /** The agent CLIs found in the checkout, installed: the daemon's settings naming them. */
  agentClis: Partial<Record<AgentCliSetting, string>>;
};

export type LocalRuntimeOptions = {
  /** The checkout the vm-agent is built from and the agent CLIs are found in. */
  rootDir: string;
  /** Where the archives are built (defaultArtifactCacheDir). */
  cacheDir: string;
  installDir: string;
  /** CLIs the operator configured (CLAUDE_CODE_BIN, CODEX_BIN): theirs are used, not installed. */
  configured?: Partial<Record<AgentCliSetting, string>>;
};

const sha16 = (hex: string) => hex.slice(0, 16);

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Makes `dir` and its missing parents passable (0755 whatever the umask), as install.sh makes its folder. */
function ensureInstalledDir(dir: string) {
  if (fs.existsSync(dir)) return;
  ensureInstalledDir(path.dirname(dir));
  fs.mkdirSync(dir);
  fs.chmodSync(dir, INSTALLED_DIR_MODE);
}

/** Makes `dest` by filling a temporary folder beside it and renaming that; nothing when `dest` is there. */
async function installOnce(dest: string, fill: (staging: string) => Promise<void>) {
  if (fs.existsSync(dest)) return;
  ensureInstalledDir(path.dirname(dest));
  const staging = fs.mkdtempSync(path.join(path.dirname(dest), `.${path.basename(dest)}.`));
  try {
    await fill(staging);
    fs.chmodSync(staging, INSTALLED_DIR_MODE);
    fs.renameSync(staging, dest);
  } catch (error) {
    // Another process installed the same folder first: its copy is as good.
    if (!fs.existsSync(dest)) throw error;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Unpacks a built archive, checked against its sha256 first, as install.sh does a downloaded one. */
async function unpack(archive: { file: string; sha256: string }, dest: string) {
  await installOnce(dest, async (staging) => {
    const actual = await sha256File(archive.file);
    if (actual !== archive.sha256) throw new Error(`refusing ${archive.file}: its sha256 is ${actual}, not the expected ${archive.sha256}`);
    await promisify(execFile)("tar", ["-xzf", archive.file, "-C", staging, "--no-same-owner"]);
  });
}

/** Every file, folder and link under `dir`, relative to it, in a fixed order. */
function walk(dir: string, relative = ""): { name: string; stat: fs.Stats }[] {
  return fs
    .readdirSync(path.join(dir, relative))
    .sort()
    .flatMap((entry) => {
      const name = path.join(relative, entry);
      const stat = fs.lstatSync(path.join(/*turbopackIgnore: true*/ dir, name));
      return [{ name, stat }, ...(stat.isDirectory() ? walk(dir, name) : [])];
    });
}

/**
 * An agent CLI's package folder, installed as a tree of hard links (a copy across file systems):
 * hundreds of megabytes, so it is named by its files' names, sizes, modes and change times
 * rather than read whole at every start.
 */
async function installAgentCli(packageDir: string, packageName: string, installDir: string): Promise<string> {
  const entries = walk(packageDir);
  const key = createHash("sha256");
  for (const { name, stat } of entries) key.update(`${name}\0${stat.mode}\0${stat.size}\0${stat.mtimeMs}\0${stat.ino}\n`);
  const dest = path.join(installDir, "agents", `${packageName.replace(/^@/, "").replace(/\//g, "+")}-${sha16(key.digest("hex"))}`);
  await installOnce(dest, async (staging) => {
    for (const { name, stat } of entries) {
      const from = path.join(packageDir, name);
      const to = path.join(staging, name);
      if (stat.isDirectory()) ensureInstalledDir(to);
      else if (stat.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
      else {
        try {
          fs.linkSync(from, to);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
          fs.copyFileSync(from, to, fs.constants.COPYFILE_FICLONE);
          fs.chmodSync(to, stat.mode & 0o755);
        }
      }
    }
  });
  return dest;
}

/** Whether a running process names `dir` (its executable, or an argument such as a script under it). */
function usedByAProcess(dir: string, commandLines: string[]) {
  return commandLines.some((line) => line.includes(`${dir}/`));
}

function runningCommandLines(): string[] {
  if (!fs.existsSync("/proc")) return [];
  return fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map((pid) => {
      try {
        return `${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")}\0${fs.readlinkSync(`/proc/${pid}/exe`)}`;
      } catch {
        return ""; // exited meanwhile, or not ours to read
      }
    });
}

/** Removes what no running process names and nothing has used for PRUNE_AFTER_MS; `used` is touched now. */
function prune(installDir: string, used: string[]) {
  const now = new Date();
  for (const dir of used) fs.utimesSync(dir, now, now);
  let commandLines: string[] | undefined;
  for (const kind of ["node", "vm-agent", "agents"]) {
    const parent = path.join(/*turbopackIgnore: true*/ installDir, kind);
    for (const name of fs.existsSync(/*turbopackIgnore: true*/ parent) ? fs.readdirSync(/*turbopackIgnore: true*/ parent) : []) {
      const dir = path.join(/*turbopackIgnore: true*/ parent, name);
      if (used.includes(dir) || now.getTime() - fs.lstatSync(dir).mtimeMs < PRUNE_AFTER_MS) continue;
      commandLines ??= runningCommandLines();
      if (!usedByAProcess(dir, commandLines)) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Builds what is not built yet, installs what is not installed yet, and says where it all is. */
export async function installLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const installDir = path.resolve(options.installDir);
  ensureInstalledDir(installDir);
  const closed = unreachableByOthers("the node runtime's folder (LOCAL_NODE_RUNTIME_DIR)", path.join(installDir, "x"));
  if (closed) throw new Error(`${closed}: workspace users could not run Node or the vm-agent's helpers from it; name a folder they can reach`);
  fs.chmodSync(installDir, INSTALLED_DIR_MODE);

  const [vmAgent, runtime] = await Promise.all([vmAgentArtifact(options), nodeRuntimeArtifact(options)]);
  if (!runtime) throw new Error(`this control plane has no Node to install for its nodes (it runs on ${process.platform} ${process.arch})`);
  const nodeDir = path.join(/*turbopackIgnore: true*/ installDir, "node", sha16(runtime.sha256));
  const vmAgentDir = path.join(/*turbopackIgnore: true*/ installDir, "vm-agent", sha16(vmAgent.sha256));
  await Promise.all([unpack(runtime, nodeDir), unpack(vmAgent, vmAgentDir)]);

  const agentClis: LocalRuntime["agentClis"] = {};
  const used = [nodeDir, vmAgentDir];
  for (const pkg of Object.values(agentCliPackages())) {
    if (!pkg || options.configured?.[pkg.setting]) continue;
    const found = installedAgentCli(pkg, path.join(path.resolve(options.rootDir), "package.json"));
    if (!found) continue;
    const dir = await installAgentCli(found.packageDir, pkg.packageName, installDir);
    agentClis[pkg.setting] = path.join(dir, pkg.binary);
    used.push(dir);
  }
  prune(installDir, used);
  return { node: path.join(nodeDir, "bin", "node"), vmAgent: path.join(vmAgentDir, "vm-agent.mjs"), agentClis };
}
