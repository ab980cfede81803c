/**
 * The scripts the daemon runs by path with its own Node (`agents/*.mjs`). They are found beside
 * this module, which sits at the top of the daemon's folder both in the repository
 * (`vm-agent/agents/…`) and in the built artifact, where every module is bundled into files at the
 * top of the unpacked folder and the `.mjs` files of `agents/` ship as they are
 * (lib/nodes/artifacts/vm-agent.ts).
 */
import { fileURLToPath } from "node:url";

export type HelperScript = "script-agent.mjs" | "git-credential.mjs";

export const helperScriptPath = (name: HelperScript) => fileURLToPath(new URL(`./agents/${name}`, import.meta.url));
