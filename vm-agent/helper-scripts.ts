/**
 * The scripts the daemon runs by path with its own Node (`agents/*.mjs`). They are found beside
 * this module, which sits at the top of the daemon's folder both in the repository
 * (`vm-agent/agents/…`) and in the built artifact, where every module is bundled into files at the
 * top of the unpacked folder and the `.mjs` files of `agents/` ship as they are
 * (lib/nodes/artifacts/vm-agent.ts).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

export type HelperScript = "script-agent.mjs" | "git-credential.mjs";

/** The folder beside this module that holds them. */
export const DEFAULT_HELPERS_DIR = fileURLToPath(new URL("./agents/", import.meta.url));

/** A helper's path: in `dir` (VM_AGENT_HELPERS_DIR) when one is named, else beside this module. */
export const helperScriptPath = (name: HelperScript, dir = DEFAULT_HELPERS_DIR) => path.join(dir, name);
