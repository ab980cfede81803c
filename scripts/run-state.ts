/**
 * `<dataDir>/run/system.json`: which runner uses a data folder and which processes it started.
 * The runner's children live in their own process groups, so a runner killed with `kill -9`
 * leaves them holding the ports and the embedded database; the next start reads this file, stops
 * them (only when each pid is still the very process we started: same start time and command
 * line) and goes on. A runner that is still alive keeps its folder: a second one refuses.
 */
import fs from "node:fs";
import path from "node:path";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../lib/data-dir";
import { commandLine, running, startTime, stopProcessGroup } from "./procfs";

export type RecordedProcess = {
  pid: number;
  /** Clock ticks since boot when it started (Linux); null where /proc is missing. */
  startTime: number | null;
  /** Every command line it was seen with (a Node.js process may change its title once it runs). */
  commandLines: string[];
};

export type RunState = {
  runner: RecordedProcess;
  startedAt: string;
  appUrl: string;
  inngestUrl: string;
  children: (RecordedProcess & { name: string })[];
};

export const runStateFile = (dataDir: string) => path.join(path.resolve(dataDir), "run", "system.json");

/** Write to a temporary file and rename it over the old one, so a reader never sees half a file. */
export function writeJsonAtomic(file: string, value: unknown) {
  // Owner-only: it is in the data folder, which agents on this machine may pass through (lib/data-dir.ts).
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: PRIVATE_FILE_MODE });
  fs.renameSync(temporary, file);
}

export function readRunState(dataDir: string): RunState | undefined {
  try {
    return JSON.parse(fs.readFileSync(runStateFile(dataDir), "utf8")) as RunState;
  } catch {
    return undefined;
  }
}

/** A record of `pid` as it runs now; `earlier` keeps the command lines it was seen with before. */
export function recordProcess(pid: number, earlier?: RecordedProcess, started?: string): RecordedProcess {
  const seen = new Set(earlier?.pid === pid ? earlier.commandLines : []);
  if (started) seen.add(started);
  const now = commandLine(pid);
  if (now) seen.add(now);
  return { pid, startTime: startTime(pid) ?? null, commandLines: [...seen] };
}

/** The recorded process still runs and is the one we started (not a recycled pid). */
export function stillOurs(recorded: RecordedProcess): boolean {
  if (!running(recorded.pid)) return false;
  if (recorded.startTime !== null && startTime(recorded.pid) !== recorded.startTime) return false;
  const now = commandLine(recorded.pid);
  return now !== undefined && recorded.commandLines.includes(now);
}

const LABELS: Record<string, string> = { app: "the app", engine: "the Inngest server" };

/**
 * Takes the data folder for this process: refuses when another live runner has it; stops the
 * processes a dead runner left (saying so in one line); then records this runner.
 */
export async function claimDataDir(
  dataDir: string,
  urls: { appUrl: string; inngestUrl: string },
  log: (line: string) => void,
): Promise<void> {
  const previous = readRunState(dataDir);
  if (previous && stillOurs(previous.runner)) {
    const self = previous.runner.pid === process.pid;
    throw new Error(
      self
        ? `This process already runs a system on the data folder ${path.resolve(dataDir)}; stop it before starting another.`
        : `Another runner (pid ${previous.runner.pid}, since ${previous.startedAt}, app ${previous.appUrl}) is using the data folder ${path.resolve(dataDir)}. ` +
            `Stop it first (Ctrl+C in its terminal, or kill ${previous.runner.pid}), or give this one its own folder with DATA_DIR.`,
    );
  }
  if (previous) {
    const left = previous.children.filter(stillOurs);
    if (left.length > 0) {
      await Promise.all(left.map((child) => stopProcessGroup(child.pid)));
      const names = left.map((c) => `${LABELS[c.name] ?? c.name} (pid ${c.pid})`).join(" and ");
      log(`Stopped ${names}, left running by an earlier runner (pid ${previous.runner.pid}) that did not stop them.`);
    }
  }
  writeRunState(dataDir, {
    runner: recordProcess(process.pid),
    startedAt: new Date().toISOString(),
    ...urls,
    children: [],
  });
}

export function writeRunState(dataDir: string, state: RunState) {
  writeJsonAtomic(runStateFile(dataDir), state);
}

/** Forgets the run, if the file is still this process's. */
export function releaseDataDir(dataDir: string) {
  const state = readRunState(dataDir);
  if (state && state.runner.pid === process.pid) fs.rmSync(runStateFile(dataDir), { force: true });
}
