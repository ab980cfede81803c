/**
 * What prepares a repository's workspace before its agent starts: its setup script (SETUP_SCRIPT,
 * `.agent/setup.sh`), else the `postCreateCommand` of its dev container (`.devcontainer/
 * devcontainer.json` or `.devcontainer.json`, JSON with comments). A node runs no Docker engine, so
 * the container's image and features are not applied: only its command runs, on the node, and the
 * boot log says it is that fallback.
 */
import fs from "node:fs";
import path from "node:path";
import { parse, type ParseError } from "jsonc-parser";

export type SetupCommand = { source: string; detail: string; commands: { file: string; args: string[] }[] };

const DEVCONTAINER_FILES = [".devcontainer/devcontainer.json", ".devcontainer.json"];

/** A path inside the worktree that exists, or undefined (a name that leaves it counts as absent). */
function inside(worktree: string, relative: string) {
  const resolved = path.resolve(worktree, relative);
  return resolved.startsWith(worktree + path.sep) && fs.existsSync(resolved) ? resolved : undefined;
}

/** A command as devcontainer.json writes it: a string runs in a shell, an array is the program and its arguments. */
function toCommand(value: unknown): SetupCommand["commands"][number] | undefined {
  if (typeof value === "string" && value.trim()) return { file: "bash", args: ["-c", value] };
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) return { file: value[0] as string, args: value.slice(1) as string[] };
  return undefined;
}

export function setupCommand(worktree: string, setupScript: string): SetupCommand | undefined {
  const script = inside(worktree, setupScript);
  if (script) return { source: setupScript, detail: setupScript, commands: [{ file: "bash", args: [script] }] };
  for (const name of DEVCONTAINER_FILES) {
    const file = inside(worktree, name);
    if (!file) continue;
    const errors: ParseError[] = [];
    const config = parse(fs.readFileSync(file, "utf8"), errors, { allowTrailingComma: true }) as { postCreateCommand?: unknown } | undefined;
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
