/**
 * What prepares a repository's workspace before its agent starts: its setup script (SETUP_SCRIPT,
 * `.agent/setup.sh`), else the `postCreateCommand` of its dev container (`.devcontainer/
 * devcontainer.json` or `.devcontainer.json`, JSON with comments). A node runs no Docker engine, so
 * the container's image and features are not applied: only its command runs, on the node, and the
 * boot log says it is that fallback.
 */
import path from "node:path";
import { parse, type ParseError } from "jsonc-parser";
import { readableFileAs, readFileAs, type FsUser } from "./workspace-fs";

export type SetupCommand = { source: string; detail: string; commands: { file: string; args: string[] }[] };

const DEVCONTAINER_FILES = [".devcontainer/devcontainer.json", ".devcontainer.json"];
/** A devcontainer.json is a few kilobytes; more than this is read no further (and then fails to parse). */
const MAX_DEVCONTAINER_BYTES = 1024 * 1024;

/**
 * A file inside the worktree the workspace's user can read, or undefined (a name that leaves the
 * worktree counts as absent). Checked as the user: a link there is followed with its rights only.
 */
export async function inside(worktree: string, relative: string, user: FsUser) {
  const resolved = path.resolve(worktree, relative);
  return resolved.startsWith(worktree + path.sep) && (await readableFileAs(user, resolved)) ? resolved : undefined;
}

/** A command as devcontainer.json writes it: a string runs in a shell, an array is the program and its arguments. */
function toCommand(value: unknown): SetupCommand["commands"][number] | undefined {
  if (typeof value === "string" && value.trim()) return { file: "bash", args: ["-c", value] };
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) return { file: value[0] as string, args: value.slice(1) as string[] };
  return undefined;
}

/** The repository's setup, read as the workspace's user (`user`; the daemon itself without isolation). */
export async function setupCommand(worktree: string, setupScript: string, user: FsUser): Promise<SetupCommand | undefined> {
  const script = await inside(worktree, setupScript, user);
  if (script) return { source: setupScript, detail: setupScript, commands: [{ file: "bash", args: [script] }] };
  for (const name of DEVCONTAINER_FILES) {
    const file = await inside(worktree, name, user);
    const text = file && (await readFileAs(user, file, MAX_DEVCONTAINER_BYTES));
    if (text === undefined) continue;
    const errors: ParseError[] = [];
    const config = parse(text, errors, { allowTrailingComma: true }) as { postCreateCommand?: unknown } | undefined;
    if (errors.length) throw new Error(`${name} is not valid JSON (with comments): error at offset ${errors[0]!.offset}`);
    const declared = config?.postCreateCommand;
    // An object is several named commands, run here one after another (in its order).
    const commands = (declared && typeof declared === "object" && !Array.isArray(declared) ? Object.values(declared) : [declared]).map(toCommand);
    if (declared === undefined) return undefined;
    if (commands.some((c) => !c)) throw new Error(`${name}: postCreateCommand must be a string, an array of strings, or an object of them`);
    return { source: name, detail: `${name} postCreateCommand (fallback: this node runs no Docker engine, so only the command runs, not the container's image or features)`, commands: commands as SetupCommand["commands"] };
  }
  return undefined;
}
