/**
 * A Unix user per workspace: its setup script, its agent and the daemon's own git calls in its
 * worktree run as that user, so an agent cannot read the daemon's state, another workspace or the
 * control plane's files (with the local provider the node is the control plane's machine). Only
 * a root daemon can create users; otherwise (a laptop in local mode, or WORKSPACE_USERS=off) the
 * node runs them as its own user and says so (`isolation()`, in its ready callback).
 *
 * No silent fallback: a root daemon that cannot give workspaces their own users (its work folder,
 * Node or its own folder behind a folder others cannot enter, a tool missing) says `none` with the
 * reason and refuses every workspace, naming it and WORKSPACE_USERS=off, which is how an operator
 * says that root may run them unisolated. Running a repository's setup script as root because a
 * folder's mode was wrong is never what was meant.
 *
 * Each user is `acp<12 hex>` (a hash of node and workspace), in its own group, without a login
 * shell or password, its comment `acp <node> <workspace>` so the node's users can be found again
 * (a restart, a purge). Users live in /etc/passwd, shared by every daemon on the machine: useradd
 * and userdel take its lock, and a call that finds it taken is retried.
 *
 * A user's uid (its group's gid is the same number) is claimed for good before the user is made
 * (WORKSPACE_UID_CLAIMS, a file per uid created exclusively, shared by the machine's daemons) from
 * a range no other account is given (WORKSPACE_UID_MIN): a uid is never given twice, so what a
 * deleted user left anywhere on the machine (a file in /tmp, say) never belongs to a later workspace.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { WorkspaceIsolation } from "../lib/contracts/vm-agent";
import { unreachableByOthers } from "../lib/contracts/passable";
import { removeNamespace } from "./egress/netns";
import { run } from "./exec";
import { DEFAULT_HELPERS_DIR } from "./helper-scripts";

export type WorkspaceUser = { name: string; uid: number; gid: number };
export type WorkspaceUsersMode = "auto" | "off" | "required";

export const SETPRIV = "/usr/bin/setpriv";
const TOOLS = ["/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/sbin/groupadd", "/usr/sbin/groupdel", SETPRIV];
const PASSWD = "/etc/passwd";
const LOCK_RETRIES = 20;
/** useradd's and groupadd's exit code for a name that is taken. */
const NAME_IN_USE = 9;

export const userName = (nodeId: string, workspaceId: string) => `acp${createHash("sha256").update(`${nodeId}/${workspaceId}`).digest("hex").slice(0, 12)}`;
const comment = (nodeId: string, workspaceId: string) => `acp ${nodeId} ${workspaceId}`;

type PasswdEntry = WorkspaceUser & { comment: string; home: string };

function passwd(): PasswdEntry[] {
  return fs
    .readFileSync(PASSWD, "utf8")
    .split("\n")
    .map((line) => line.split(":"))
    .filter((fields) => fields.length >= 7)
    .map(([name, , uid, gid, gecos, home]) => ({ name: name!, uid: Number(uid), gid: Number(gid), comment: gecos!, home: home! }));
}

/** The users a node created, by workspace id (every node's when `nodeId` is omitted). */
export function nodeUsers(nodeId?: string): (PasswdEntry & { nodeId: string; workspaceId: string })[] {
  return passwd().flatMap((entry) => {
    const match = /^acp (\S+) (\S+)$/.exec(entry.comment);
    if (!match || !entry.name.startsWith("acp") || (nodeId && match[1] !== nodeId)) return [];
    return [{ ...entry, nodeId: match[1]!, workspaceId: match[2]! }];
  });
}

/** Why this daemon is not root, naming the user it runs as; undefined when it is root. */
export function notRoot(): string | undefined {
  const uid = process.getuid?.();
  if (uid === 0) return undefined;
  let name: string;
  try {
    name = os.userInfo().username;
  } catch {
    name = `uid ${uid}`; // a uid without a passwd entry (a container's)
  }
  return `the vm-agent runs as ${name}, not root`;
}

/** Why this daemon cannot create users, or undefined when it can. */
export function cannotCreateUsers(): string | undefined {
  const unprivileged = notRoot();
  if (unprivileged) return unprivileged;
  const missing = TOOLS.filter((tool) => !fs.existsSync(tool));
  return missing.length ? `missing ${missing.join(", ")}` : undefined;
}

/**
 * Why workspace users could not work here: they must reach the work folder and run Node and the
 * vm-agent's own helpers (the credential helper, the agents' CLIs under its folder).
 */
function unreachableByUsers(workDir: string, helpersDir: string): string | undefined {
  for (const [what, target] of [["its work folder", path.join(workDir, "x")], ["Node", process.execPath], ["the vm-agent's helper folder", path.join(helpersDir, "x")]] as const) {
    const why = unreachableByOthers(what, target);
    if (why) return why;
  }
  return undefined;
}

/** Kills every process of the user (what is left after its agents were stopped), until none is left. */
export function killUserProcesses(uid: number) {
  for (let pass = 0; pass < 5; pass++) {
    let found = 0;
    for (const entry of fs.existsSync("/proc") ? fs.readdirSync("/proc") : []) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const real = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${entry}/status`, "utf8"))?.[1];
        if (Number(real) !== uid) continue;
        found++;
        process.kill(Number(entry), "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    if (found === 0) return;
  }
}

/** useradd / userdel, retried while another daemon on the machine holds the password file's lock. */
async function passwdTool(tool: string, args: string[]) {
  for (let attempt = 1; ; attempt++) {
    const result = await run(tool, args, { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }, check: false, timeoutMs: 30_000 });
    const locked = /lock/i.test(result.stderr);
    if (result.code === 0 || !locked || attempt >= LOCK_RETRIES) return result;
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100 * attempt));
  }
}

/**
 * What a workspace's processes see of who they are. The HOME is always the workspace's own folder,
 * never the daemon's, also without isolation (whose setup scripts would otherwise write the
 * daemon's dotfiles); without a user of its own, USER stays the daemon's.
 */
export function userEnvironment(user: WorkspaceUser | undefined, home: string): Record<string, string> {
  const own = { HOME: home, TMPDIR: `${home}/tmp` };
  return user ? { ...own, USER: user.name, LOGNAME: user.name } : own;
}

/** useradd's and groupadd's exit code for a uid (or gid) that is taken. */
const ID_IN_USE = 4;
/** How many claimed uids one user's creation tries before giving up (each was taken by another account). */
const UID_TRIES = 50;

/** Where uids are claimed and from which one (vm-agent settings WORKSPACE_UID_CLAIMS, WORKSPACE_UID_MIN). */
export type UidRange = { claims: string; min: number };

/**
 * Claims a uid never claimed before on this machine: one above the highest claimed (or taken in
 * /etc/passwd or /etc/group) at or above `min`, by creating its file exclusively; a claim another
 * daemon made first moves on to the next.
 */
export function claimUid(range: UidRange): number {
  // Its parent (/var/lib/agent-control-plane) made as any folder there is; the claims are root's alone.
  fs.mkdirSync(path.dirname(range.claims), { recursive: true, mode: 0o755 });
  fs.mkdirSync(range.claims, { recursive: true, mode: 0o700 });
  const taken = (file: string) =>
    fs.existsSync(file)
      ? fs
          .readFileSync(file, "utf8")
          .split("\n")
          .map((line) => Number(line.split(":")[2]))
      : [];
  const claimed = fs.readdirSync(range.claims).map(Number);
  let candidate = Math.max(range.min - 1, ...[...claimed, ...taken(PASSWD), ...taken("/etc/group")].filter((id) => Number.isInteger(id) && id >= range.min)) + 1;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(path.join(range.claims, String(candidate)), "wx", 0o600));
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      candidate++;
    }
  }
}

/** Why a root daemon that cannot isolate runs no workspace, and what would make it. */
export const refusalMessage = (why: string) =>
  `this node runs no workspace: its vm-agent is root but cannot give each workspace its own user (${why}). Fix that, or set WORKSPACE_USERS=off on the node to run workspaces as root without isolation`;

export class WorkspaceUsers {
  private readonly unavailable: string | undefined;
  /** Set when the daemon is root and could not isolate: every workspace is refused with it. */
  private readonly refusal: string | undefined;

  constructor(
    private readonly nodeId: string,
    mode: WorkspaceUsersMode,
    workDir: string,
    private readonly uids: UidRange,
    helpersDir = DEFAULT_HELPERS_DIR,
  ) {
    this.unavailable = mode === "off" ? "WORKSPACE_USERS=off" : (cannotCreateUsers() ?? unreachableByUsers(workDir, helpersDir));
    if (mode === "required" && this.unavailable) throw new Error(`WORKSPACE_USERS=required, but the vm-agent cannot create users: ${this.unavailable}`);
    this.refusal = mode !== "off" && process.getuid?.() === 0 && this.unavailable ? refusalMessage(this.unavailable) : undefined;
  }

  isolation(): WorkspaceIsolation {
    return this.unavailable ? { mode: "none", reason: this.unavailable } : { mode: "users" };
  }

  get enabled() {
    return !this.unavailable;
  }

  /** The workspace's user, created now or found from an earlier attempt; undefined without isolation. */
  async ensure(workspaceId: string, home: string): Promise<WorkspaceUser | undefined> {
    if (this.refusal) throw new Error(this.refusal);
    if (this.unavailable) return undefined;
    const name = userName(this.nodeId, workspaceId);
    const existing = () => nodeUsers(this.nodeId).find((user) => user.name === name && user.workspaceId === workspaceId);
    let found = existing();
    for (let attempt = 1; !found; attempt++) {
      // Its group first, with the claimed number as gid (a gid useradd picked could be a deleted workspace's).
      const uid = claimUid(this.uids);
      let result = await passwdTool("/usr/sbin/groupadd", ["--gid", String(uid), name]);
      if (result.code === NAME_IN_USE && !existing()) {
        // The group of a creation a crash interrupted (no user has it): made again.
        await passwdTool("/usr/sbin/groupdel", [name]);
        result = await passwdTool("/usr/sbin/groupadd", ["--gid", String(uid), name]);
      }
      if (result.code === 0) {
        const args = ["--uid", String(uid), "--gid", String(uid), "--no-user-group", "--no-create-home", "--no-log-init", "--home-dir", home, "--shell", "/usr/sbin/nologin", "--comment", comment(this.nodeId, workspaceId), name];
        result = await passwdTool("/usr/sbin/useradd", args);
        if (result.code !== 0) await passwdTool("/usr/sbin/groupdel", [name]);
      }
      found = existing();
      if (found) break;
      if (result.code === ID_IN_USE && attempt < UID_TRIES) continue;
      const why = result.code === NAME_IN_USE ? `the name ${name} belongs to another user` : (result.stderr.trim() || `exit ${result.code}`);
      throw new Error(`could not create the workspace's user: ${why}`);
    }
    return { name: found.name, uid: found.uid, gid: found.gid };
  }

  /** The workspace's user, if it has one now (without creating it). */
  find(workspaceId: string): WorkspaceUser | undefined {
    if (this.unavailable) return undefined;
    const user = nodeUsers(this.nodeId).find((entry) => entry.workspaceId === workspaceId);
    return user && { name: user.name, uid: user.uid, gid: user.gid };
  }

  /** Kills what the user still runs and deletes it (nothing when it is already gone). */
  async remove(workspaceId: string) {
    if (this.unavailable) return;
    const user = nodeUsers(this.nodeId).find((entry) => entry.workspaceId === workspaceId);
    if (user) await removeUser(user);
  }

  /** Deletes this node's users whose workspace it no longer knows (a delete a crash interrupted). */
  async removeAllExcept(known: (workspaceId: string) => boolean) {
    if (this.unavailable) return;
    for (const user of nodeUsers(this.nodeId)) if (!known(user.workspaceId)) await removeUser(user);
  }
}

export async function removeUser(user: WorkspaceUser) {
  killUserProcesses(user.uid);
  // Its network namespace, named like it (egress/namespace.ts), goes first: one a crash left behind too.
  await removeNamespace(user.name);
  const result = await passwdTool("/usr/sbin/userdel", [user.name]);
  // 6: no such user (removed meanwhile). 8: still logged in: its processes were just killed, once more.
  if (result.code === 8) {
    killUserProcesses(user.uid);
    await passwdTool("/usr/sbin/userdel", ["--force", user.name]);
  } else if (result.code !== 0 && result.code !== 6) {
    throw new Error(`could not delete the workspace's user ${user.name}: ${result.stderr.trim() || `exit ${result.code}`}`);
  }
}

/** Deletes every user a node made (its processes killed first): the node is gone for good. */
export async function removeNodeUsers(nodeId: string) {
  if (cannotCreateUsers()) return;
  for (const user of nodeUsers(nodeId)) await removeUser(user);
}

/**
 * Deletes every node's users whose workspace folder is gone (their node's folder was removed
 * without a purge). Only where no node is provisioning (a user is made before its folder): the
 * test suites' teardown.
 */
export async function removeOrphanUsers() {
  if (cannotCreateUsers()) return;
  for (const user of nodeUsers()) if (!fs.existsSync(path.dirname(user.home))) await removeUser(user);
}
