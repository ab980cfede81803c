/**
 * A `script` agent whose run the test controls: it waits until the file named by its prompt's
 * first word exists, then writes a file and exits (and the vm-agent commits and pushes it).
 * A prompt with NOISY in it makes it print hostile output first.
 * So a test can kill things while the agent is provably working, then let it finish.
 */
import fs from "node:fs";
import path from "node:path";
import type { TaskDetail } from "@/lib/contracts/api";
import type { AppClient } from "@/scripts/system";
import { watchTask } from "./live-client";
import { sharedTempDir } from "./shared-dir";

export const GATED_AGENT_COMMAND = [
  `gate=$(printf '%s' "$AGENT_PROMPT" | head -n1 | cut -d' ' -f1)`,
  // A prompt that says NOISY first prints what once broke output shipping: a 1 MiB line, NUL bytes,
  // invalid UTF-8 and 20,000 short lines in one burst.
  `case "$AGENT_PROMPT" in *NOISY*) head -c 1048576 /dev/zero | tr '\\0' x; echo; printf 'a\\0nul\\n'; printf '\\377\\376 bad utf-8\\n'; seq 1 20000;; esac`,
  `echo "agent waiting for $gate"`,
  `while [ ! -e "$gate" ]; do sleep 0.05; done`,
  `printf '%s\\n' "$AGENT_PROMPT" > agent-result.txt`,
  `echo "agent done"`,
].join("; ");

export type Gate = { prompt: string; open(): void };

/** A new gate; `open` lets the agent finish. `opened` creates it already open (an agent that finishes at once). */
export function newGate(what: string, opened = false): Gate {
  const file = path.join(sharedTempDir("acp-gate-"), "open");
  if (opened) fs.writeFileSync(file, "");
  return { prompt: `${file} ${what}`, open: () => fs.writeFileSync(file, "") };
}

/** Resolves with the task once its gated agent is provably working on its node (it printed that it waits). */
export async function untilAgentWaits(app: AppClient, taskId: string): Promise<TaskDetail> {
  const watch = await watchTask(app, taskId);
  try {
    return await watch.until((t) => t.status === "in_progress" && t.output.lines.some((l) => l.includes("agent waiting")), 60_000, "the agent working");
  } finally {
    watch.close();
  }
}
