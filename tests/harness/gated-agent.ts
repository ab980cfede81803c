/**
 * A `script` agent whose run the test controls: it waits until the file named by its prompt's
 * first word exists, then writes a file and exits (and the vm-agent commits and pushes it).
 * So a test can kill things while the agent is provably working, then let it finish.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const GATED_AGENT_COMMAND = [
  `gate=$(printf '%s' "$AGENT_PROMPT" | head -n1 | cut -d' ' -f1)`,
  `echo "agent waiting for $gate"`,
  `while [ ! -e "$gate" ]; do sleep 0.05; done`,
  `printf '%s\\n' "$AGENT_PROMPT" > agent-result.txt`,
  `echo "agent done"`,
].join("; ");

export type Gate = { prompt: string; open(): void };

/** A new gate; `open` lets the agent finish. `opened` creates it already open (an agent that finishes at once). */
export function newGate(what: string, opened = false): Gate {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "acp-gate-")), "open");
  if (opened) fs.writeFileSync(file, "");
  return { prompt: `${file} ${what}`, open: () => fs.writeFileSync(file, "") };
}
