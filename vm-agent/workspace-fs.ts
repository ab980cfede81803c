/**
 * The daemon's file work inside a workspace, where everything is hostile (its files, its links):
 * done as the workspace's user (a small program started with its uid and gid), or by root only on
 * paths the workspace cannot change (below a folder root owns, through a descriptor opened without
 * following links). `user` undefined: the node runs workspaces as the daemon itself (no isolation),
 * and the same work runs as the daemon.
 */
import fs from "node:fs";
import path from "node:path";
import { run } from "./exec";

export type FsUser = { uid: number; gid: number } | undefined;

const TOOLS_ENV = { PATH: "/usr/bin:/bin", LANG: "C" };

/** A coreutils program as the workspace's user (the daemon when undefined), from `/`, with a bare environment. */
const asUser = (user: FsUser, file: string, args: string[], options: { stdoutHead?: number } = {}) =>
  run(file, args, { cwd: "/", env: TOOLS_ENV, user, check: false, timeoutMs: 10 * 60_000, label: file, ...options });

/** True when `file` is a regular file the user can read (links followed as the user would follow them). */
export async function readableFileAs(user: FsUser, file: string): Promise<boolean> {
  return (await asUser(user, "/bin/sh", ["-c", 'test -f "$1" && test -r "$1"', "sh", file])).code === 0;
}

/** The first `maxBytes` of a file, read as the user; undefined when the user cannot read it as a regular file. */
export async function readFileAs(user: FsUser, file: string, maxBytes = 1024 * 1024): Promise<string | undefined> {
  if (!(await readableFileAs(user, file))) return undefined;
  const result = await asUser(user, "/bin/cat", ["--", file], { stdoutHead: maxBytes });
  return result.code === 0 ? result.stdout : undefined;
}

/** `mkdir -p` as the user: a link on the way is followed with the user's rights only. */
export async function mkdirAs(user: FsUser, dir: string) {
  const result = await asUser(user, "/bin/mkdir", ["-p", "--", dir]);
  if (result.code !== 0) throw new Error(`could not create ${dir}: ${result.stderr.trim() || `exit ${result.code}`}`);
}

/**
 * Removes a workspace's folder. Root removes only what the user cannot change any more: first what
 * the user owns in it is removed as the user (made writable first, so a folder it closed goes too);
 * the caller has stopped every process of the user, so nothing swaps a folder for a link while root
 * removes the rest (the daemon's own files, and whatever the user could not remove).
 */
export async function removeWorkspaceFolder(dir: string, user: FsUser) {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch {
    return;
  }
  if (user && stat.isDirectory()) {
    const owned = fs
      .readdirSync(dir)
      .map((name) => path.join(dir, name))
      .filter((entry) => fs.lstatSync(entry, { throwIfNoEntry: false })?.uid === user.uid);
    if (owned.length) {
      await asUser(user, "/bin/chmod", ["-R", "u+rwX", "--", ...owned]);
      await asUser(user, "/bin/rm", ["-rf", "--one-file-system", "--", ...owned]);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs `work`, the daemon's own synchronous preparation of the agent's HOME (it may create folders
 * there and change their owner, as root), while the HOME is the daemon's: owner root and mode 0750
 * from a descriptor opened without following links, so the workspace's processes can neither add,
 * rename nor replace an entry of it meanwhile (its parent is root's too). Before `work`, each of
 * `folders` that is there but not a real folder (a link planted where the daemon makes a folder) is
 * removed; after it, the folders it created or took over in the HOME are given back to the user,
 * and the HOME gets its owner and mode back.
 */
export function withHomeHeld<T>(home: string, user: FsUser, folders: string[], work: () => T): T {
  if (!user) return work();
  const fd = fs.openSync(home, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  try {
    const stat = fs.fstatSync(fd);
    if (stat.uid !== user.uid && stat.uid !== 0) throw new Error(`the agent's HOME ${home} belongs to uid ${stat.uid}, not the workspace's user`);
    const mode = stat.uid === user.uid ? stat.mode & 0o7777 : 0o700;
    fs.fchownSync(fd, 0, user.gid);
    fs.fchmodSync(fd, 0o750);
    try {
      for (const name of folders) {
        const entry = path.join(home, name);
        const found = fs.lstatSync(entry, { throwIfNoEntry: false });
        if (found && !found.isDirectory()) fs.unlinkSync(entry);
      }
      const before = new Set(fs.readdirSync(home));
      const result = work();
      for (const name of fs.readdirSync(home)) {
        if (before.has(name) && !folders.includes(name)) continue;
        const entry = path.join(home, name);
        const found = fs.lstatSync(entry, { throwIfNoEntry: false });
        // Only what root made here just now (a hardlink the user planted has other names, nlink > 1).
        if (found && found.uid === 0 && (found.isDirectory() || (found.isFile() && found.nlink === 1))) fs.lchownSync(entry, user.uid, user.gid);
      }
      return result;
    } finally {
      fs.fchownSync(fd, user.uid, user.gid);
      fs.fchmodSync(fd, mode);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** True when `target` (resolved through every link) is `dir` or inside it. */
export function resolvesInside(target: string, dir: string) {
  let real: string;
  try {
    real = fs.realpathSync(target);
  } catch {
    real = path.resolve(target);
  }
  const root = fs.existsSync(dir) ? fs.realpathSync(dir) : path.resolve(dir);
  return real === root || real.startsWith(root + path.sep);
}
