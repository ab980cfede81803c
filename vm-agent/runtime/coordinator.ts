/**
 * The one owner of agent runtimes on this node: launch, interrupt, stop, timeout, reconcile and
 * adoption after a restart (the design of seed 004). Agents run in tmux sessions on the vm-agent's
 * own socket, so they outlive the vm-agent; which session belongs to which workspace is recorded
 * durably. HTTP handlers and the workspace manager call this module and never touch tmux themselves.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { Logger } from "../log";
import { RecordStore } from "../state/records";
import { Deadlines } from "./deadlines";
import { writeEnvFile, writePrivateFile } from "./env-file";
import { ExitFiles } from "./exit-files";
import { KeyedLock } from "./keyed-lock";
import { alive, killGroup, resolveBinary, RuntimeError } from "./processes";
import { GENERATION_OPTION, OWNER_OPTION, Tmux } from "./tmux";

export const RuntimeRecord = z.object({
  workspaceId: z.string(),
  sessionId: z.string(),
  tmuxName: z.string(),
  generation: z.number().int(),
  state: z.enum(["running", "exited", "vanished"]),
  exitCode: z.number().int().nullable().optional(),
  startedAt: z.number(),
  /** Killed because it ran past the agent timeout. */
  timedOut: z.boolean().optional(),
  /** When it was interrupted (SIGINT, as C-c at its terminal): it is killed INTERRUPT_GRACE later unless it exited. */
  interruptedAt: z.number().optional(),
  /** The launch's environment file, removed on stop in case the launcher never got to read it. */
  envFile: z.string().optional(),
  /** Its standard-input file (the prompt), removed likewise. */
  stdinFile: z.string().optional(),
});
export type RuntimeRecord = z.infer<typeof RuntimeRecord>;

export type LaunchSpec = {
  workspaceId: string;
  sessionId: string;
  cwd: string;
  /** The agent's binary (resolved to an absolute path here) and its arguments. */
  command: string[];
  /** The agent's whole environment (an allow-list chosen by the caller, secrets included). */
  env: Record<string, string>;
  /** Where that environment waits for the launcher: owner-only, outside the worktree, deleted once loaded. */
  envFile: string;
  /**
   * What the agent reads on its standard input (its prompt) and the file it waits in for the
   * launcher, as the environment does: never an argument, which every user of the node can read.
   */
  stdin?: { file: string; text: string };
  logFile: string;
  /** The workspace's own user: the launcher (the daemon's) drops to it for the agent. */
  user?: { uid: number; gid: number };
  /** The workspace's network namespace (egress/namespace.ts), entered before dropping to the user. */
  namespace?: string;
};

export type CoordinatorOptions = {
  nodeId: string;
  /** The daemon's PATH (config.ts INHERITED_VARIABLES): where a command is looked up when its own environment names none. */
  daemonPath: string;
  tmux: Tmux;
  stateDir: string;
  log: Logger;
  stopGraceMs: number;
  /** How long an interrupted agent gets to exit before it is killed. */
  interruptGraceMs: number;
  /** How long one launch may run before it is killed and reported as timed out; 0 means no limit. */
  agentTimeoutMs: number;
  /** Called once per launch generation when its agent has exited (also for exits seen after a restart). */
  onExit: (record: RuntimeRecord) => void;
};

const recordKey = (workspaceId: string, sessionId: string) => `${workspaceId}.${sessionId}`;
/** The deadline of an interrupted run's kill, beside its agent timeout's (`recordKey`). */
const interruptKey = (key: string) => `${key}:interrupt`;

export class RuntimeCoordinator {
  private readonly records: RecordStore<typeof RuntimeRecord>;
  private readonly exits: ExitFiles;
  /** Serialises work on one session's runtime, so a launch, a stop and a timeout never race. */
  private readonly lock = new KeyedLock();
  private readonly deadlines = new Deadlines();
  private readonly stopping = new Set<string>();
  private readonly launches = new Map<string, Set<Promise<unknown>>>();
  private watcher: fs.FSWatcher | undefined;
  private closed = false;

  constructor(private readonly options: CoordinatorOptions) {
    this.records = new RecordStore(path.join(options.stateDir, "runtimes"), RuntimeRecord);
    this.exits = new ExitFiles(path.join(options.stateDir, "exits"));
  }

  get(workspaceId: string, sessionId: string) {
    return this.records.get(recordKey(workspaceId, sessionId));
  }

  forWorkspace(workspaceId: string) {
    return this.records.list().filter((r) => r.value.workspaceId === workspaceId).map((r) => r.value);
  }

  /** Marks a workspace as stopping for the duration of `work`: no launch starts meanwhile. */
  async whileStopping<T>(workspaceId: string, work: () => Promise<T>): Promise<T> {
    this.stopping.add(workspaceId);
    try {
      // In-flight launches finish (and are then stopped by `work`) before anything is removed.
      await Promise.allSettled([...(this.launches.get(workspaceId) ?? [])]);
      return await work();
    } finally {
      this.stopping.delete(workspaceId);
    }
  }

  /** Starts the session's agent in tmux, or returns the one already running. */
  async launch(spec: LaunchSpec): Promise<RuntimeRecord> {
    if (this.stopping.has(spec.workspaceId)) throw new RuntimeError(409, `workspace ${spec.workspaceId} is stopping`);
    const pending = this.lock.run(recordKey(spec.workspaceId, spec.sessionId), () => this.launchLocked(spec));
    const set = this.launches.get(spec.workspaceId) ?? new Set();
    set.add(pending);
    this.launches.set(spec.workspaceId, set);
    try {
      return await pending;
    } finally {
      set.delete(pending);
    }
  }

  private async launchLocked(spec: LaunchSpec): Promise<RuntimeRecord> {
    const { tmux, nodeId, log } = this.options;
    const key = recordKey(spec.workspaceId, spec.sessionId);
    const existing = this.records.get(key);
    if (existing?.state === "running" && (await tmux.hasSession(existing.tmuxName))) return existing;
    if (this.stopping.has(spec.workspaceId)) throw new RuntimeError(409, `workspace ${spec.workspaceId} is stopping`);

    const binary = resolveBinary(spec.command[0]!, spec.env.PATH ?? this.options.daemonPath);
    const record: RuntimeRecord = {
      workspaceId: spec.workspaceId,
      sessionId: spec.sessionId,
      tmuxName: `acp-${spec.sessionId}`,
      generation: (existing?.generation ?? 0) + 1,
      state: "running",
      startedAt: Date.now(),
      envFile: spec.envFile,
      ...(spec.stdin ? { stdinFile: spec.stdin.file } : {}),
    };
    this.exits.remove(record);
    await tmux.killSession(record.tmuxName); // a leftover of an earlier generation
    try {
      if (spec.stdin) writePrivateFile(spec.stdin.file, spec.stdin.text);
      writeEnvFile(spec.envFile, { ...spec.env, ACP_LOG: spec.logFile, ACP_EXIT: this.exits.file(record), ...(spec.stdin ? { ACP_STDIN: spec.stdin.file } : {}) });
      await tmux.newSession({ name: record.tmuxName, cwd: spec.cwd, command: ExitFiles.wrap(spec.envFile, binary, spec.command.slice(1), spec.user, spec.namespace) });
    } catch (error) {
      // No launcher will read them.
      fs.rmSync(spec.envFile, { force: true });
      if (spec.stdin) fs.rmSync(spec.stdin.file, { force: true });
      this.exits.remove(record);
      throw new RuntimeError(500, `could not start the agent's tmux session: ${(error as Error).message}`);
    }
    try {
      await tmux.setOption(record.tmuxName, OWNER_OPTION, nodeId);
      await tmux.setOption(record.tmuxName, GENERATION_OPTION, String(record.generation));
    } catch (error) {
      // A session we cannot mark as ours would be reaped as foreign after a restart: do not keep it.
      if (await tmux.hasSession(record.tmuxName)) {
        await tmux.killSession(record.tmuxName);
        throw new RuntimeError(500, `could not mark the agent's tmux session as ours: ${(error as Error).message}`);
      }
      // It already ran to completion; its exit file tells the rest.
    }
    try {
      this.records.put(key, record);
    } catch (error) {
      await this.killTree(record);
      throw new RuntimeError(500, `could not record the agent's session: ${(error as Error).message}`);
    }
    log.info("agent launched", { workspaceId: spec.workspaceId, sessionId: spec.sessionId, tmux: record.tmuxName, generation: record.generation });
    this.armDeadline(record);
    this.collectExit(record); // it may already have exited
    return record;
  }

  /** Stops one session (or every session of the workspace): interrupt, kill the tmux session, kill the process group. */
  async stop(workspaceId: string, sessionId?: string): Promise<number> {
    const records = this.forWorkspace(workspaceId).filter((r) => !sessionId || r.sessionId === sessionId);
    for (const record of records) {
      await this.lock.run(recordKey(record.workspaceId, record.sessionId), () => this.stopLocked(record));
    }
    return records.length;
  }

  private async stopLocked(record: RuntimeRecord) {
    const { tmux } = this.options;
    const pid = await tmux.panePid(record.tmuxName);
    if (pid !== undefined) {
      await tmux.interrupt(record.tmuxName);
      const deadline = Date.now() + Math.min(this.options.stopGraceMs, 2_000);
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    }
    await tmux.killSession(record.tmuxName);
    if (pid !== undefined) killGroup(pid);
    this.clearDeadlines(recordKey(record.workspaceId, record.sessionId));
    this.records.delete(recordKey(record.workspaceId, record.sessionId));
    this.exits.remove(record);
    for (const file of [record.envFile, record.stdinFile]) if (file) fs.rmSync(file, { force: true });
  }

  /**
   * Interrupts the session's running agent as a person at its terminal would: C-c in its pane, so
   * SIGINT to the pane's process group (the launcher outlives it to record the exit code, see
   * exit-files.ts); if it has not exited INTERRUPT_GRACE later, it is killed as a timed-out one is.
   * Either way its exit is reported through onExit, as any other. `accept` is called once the agent
   * is known to be running, just before the signal and with nothing in between (the caller records
   * the request there, so a daemon restarted from then on knows it); false from it sends nothing.
   * An agent already interrupted is not signalled twice: only its kill is armed (after a restart).
   * Resolves with whether the run was interrupted (false: no running agent, or not accepted).
   */
  interrupt(workspaceId: string, sessionId: string, accept: () => boolean): Promise<boolean> {
    const key = recordKey(workspaceId, sessionId);
    return this.lock.run(key, async () => {
      const current = this.records.get(key);
      if (this.closed || !current || current.state !== "running") return false;
      if (this.collectExit(current)) return false; // it ended by itself
      if (!accept()) return false;
      if (current.interruptedAt !== undefined) {
        this.armInterruptKill(current);
        return true;
      }
      const interrupted: RuntimeRecord = { ...current, interruptedAt: Date.now() };
      this.records.put(key, interrupted);
      await this.options.tmux.interrupt(current.tmuxName);
      this.options.log.info("agent interrupted", { workspaceId, sessionId, graceMs: this.options.interruptGraceMs });
      this.armInterruptKill(interrupted);
      return true;
    });
  }

  /** Arms the kill of an interrupted run, INTERRUPT_GRACE after its interrupt (so an adopted one keeps its deadline). */
  private armInterruptKill(record: RuntimeRecord) {
    if (record.interruptedAt === undefined) return;
    const at = record.interruptedAt + this.options.interruptGraceMs;
    this.deadlines.arm(interruptKey(recordKey(record.workspaceId, record.sessionId)), at, () => {
      this.killRun(record, "interrupt").catch((error: unknown) => {
        if (!this.closed) this.options.log.error("killing an interrupted agent failed", { workspaceId: record.workspaceId, sessionId: record.sessionId, error: String(error) });
      });
    });
  }

  private clearDeadlines(key: string) {
    this.deadlines.clear(key);
    this.deadlines.clear(interruptKey(key));
  }

  /** Every session on our tmux socket, with the runtime record that owns it (if one does). */
  async sessions(): Promise<{ name: string; record?: RuntimeRecord }[]> {
    const records = this.records.list().map((r) => r.value);
    return (await this.options.tmux.list()).map(({ name }) => ({ name, record: records.find((r) => r.tmuxName === name) }));
  }

  /**
   * Stops a session on our socket that no record owns (an orphan the control plane found), as a
   * recorded one is stopped: interrupt, kill the session, kill its process group. A session a record
   * owns is refused (409): it is stopped with its workspace. False when there is no such session.
   */
  async stopUnowned(name: string): Promise<boolean> {
    return this.lock.run(`tmux:${name}`, async () => {
      if (this.records.list().some((r) => r.value.tmuxName === name)) throw new RuntimeError(409, `tmux session ${name} belongs to an agent session of this node`);
      const { tmux } = this.options;
      if (!(await tmux.hasSession(name))) return false;
      const pid = await tmux.panePid(name);
      if (pid !== undefined) {
        await tmux.interrupt(name);
        const deadline = Date.now() + Math.min(this.options.stopGraceMs, 2_000);
        while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      }
      await tmux.killSession(name);
      if (pid !== undefined) killGroup(pid);
      this.options.log.warn("stopped an orphan tmux session", { tmux: name });
      return true;
    });
  }

  private async killTree(record: RuntimeRecord) {
    const pid = await this.options.tmux.panePid(record.tmuxName);
    await this.options.tmux.killSession(record.tmuxName);
    if (pid !== undefined) killGroup(pid);
  }

  /** Arms the agent timeout of a running launch (counted from its start, so an adopted one keeps its deadline). */
  private armDeadline(record: RuntimeRecord) {
    const { agentTimeoutMs, log } = this.options;
    if (agentTimeoutMs <= 0) return;
    this.deadlines.arm(recordKey(record.workspaceId, record.sessionId), record.startedAt + agentTimeoutMs, () => {
      this.killRun(record, "timeout").catch((error: unknown) => {
        if (!this.closed) log.error("agent timeout failed", { workspaceId: record.workspaceId, sessionId: record.sessionId, error: String(error) });
      });
    });
  }

  /**
   * The launch ran past the agent timeout (`timeout`), or past its grace after an interrupt
   * (`interrupt`): kill it and report it as exited without a code (timed out, for the first).
   */
  private killRun(record: RuntimeRecord, why: "timeout" | "interrupt") {
    const key = recordKey(record.workspaceId, record.sessionId);
    return this.lock.run(key, async () => {
      const current = this.records.get(key);
      if (this.closed || !current || current.generation !== record.generation || current.state !== "running") return;
      if (this.collectExit(current)) return; // it exited just in time
      await this.killTree(current);
      const killed: RuntimeRecord = { ...current, state: "exited", exitCode: null, ...(why === "timeout" ? { timedOut: true } : {}) };
      this.clearDeadlines(key);
      this.records.put(key, killed);
      const { workspaceId, sessionId } = current;
      if (why === "timeout") this.options.log.warn("agent timed out", { workspaceId, sessionId, timeoutMs: this.options.agentTimeoutMs });
      else this.options.log.warn("interrupted agent killed: it outlived its grace", { workspaceId, sessionId, graceMs: this.options.interruptGraceMs });
      this.options.onExit(killed);
    });
  }

  /** Reports a generation's exit once, when its exit file is there. */
  private collectExit(record: RuntimeRecord) {
    const code = this.exits.read(record);
    if (code === undefined) return false;
    const key = recordKey(record.workspaceId, record.sessionId);
    const current = this.records.get(key);
    // Only the generation that is still recorded as running may report; a relaunch's record stays.
    if (!current || current.generation !== record.generation || current.state !== "running") return true;
    const exited: RuntimeRecord = { ...current, state: "exited", exitCode: code };
    this.clearDeadlines(key);
    this.records.put(key, exited);
    this.options.onExit(exited);
    return true;
  }

  /**
   * Brings records and tmux into agreement: a running record whose session exited reports its exit;
   * one whose session vanished without an exit code is marked vanished (and reported as such).
   * A record is only changed when tmux confirms the session is absent and the generation matches.
   */
  async reconcile(): Promise<void> {
    if (this.closed) return;
    const sessions = await this.options.tmux.list();
    if (this.closed) return;
    for (const { value: record } of this.records.list()) {
      if (record.state !== "running") continue;
      if (this.collectExit(record)) continue;
      const live = sessions.find((s) => s.name === record.tmuxName);
      if (live && Number(live.generation) === record.generation) continue;
      await this.lock.run(recordKey(record.workspaceId, record.sessionId), async () => {
        const current = this.get(record.workspaceId, record.sessionId);
        if (!current || current.generation !== record.generation || current.state !== "running") return;
        if (await this.options.tmux.hasSession(record.tmuxName)) return;
        if (this.collectExit(current)) return;
        const vanished: RuntimeRecord = { ...current, state: "vanished", exitCode: null };
        this.clearDeadlines(recordKey(current.workspaceId, current.sessionId));
        this.records.put(recordKey(current.workspaceId, current.sessionId), vanished);
        this.options.log.warn("agent session vanished", { workspaceId: current.workspaceId, sessionId: current.sessionId });
        this.options.onExit(vanished);
      });
    }
  }

  /** At start-up: reap our sessions that have no record (never anyone else's), then reconcile and watch for exits. */
  async startup(): Promise<{ adopted: number; reaped: number }> {
    const { tmux, nodeId, log } = this.options;
    const recorded = new Set(this.records.list().map((r) => r.value.tmuxName));
    let reaped = 0;
    for (const session of await tmux.list()) {
      if (session.owner !== nodeId || recorded.has(session.name)) continue;
      await tmux.killSession(session.name);
      if (session.panePid > 0) killGroup(session.panePid);
      reaped++;
      log.warn("reaped an unrecorded agent session", { tmux: session.name });
    }
    this.watcher = fs.watch(this.exits.dir, () => this.reconcileInBackground());
    // Exits recorded before a crash whose outcome was not handled yet are handled again (idempotently).
    for (const { value } of this.records.list()) if (value.state !== "running") this.options.onExit(value);
    await this.reconcile();
    const running = this.records.list().filter((r) => r.value.state === "running");
    for (const { value } of running) {
      this.armDeadline(value);
      this.armInterruptKill(value);
    }
    const adopted = running.length;
    log.info("runtime coordinator started", { adopted, reaped });
    return { adopted, reaped };
  }

  /** A reconcile nobody awaits (an exit file appeared): its failure is logged, never unhandled. */
  private reconcileInBackground() {
    this.reconcile().catch((error: unknown) => {
      if (!this.closed) this.options.log.error("reconcile failed", { error: String(error) });
    });
  }

  /** Detaches: agents keep running in tmux for the next vm-agent to adopt. */
  shutdown() {
    this.closed = true;
    this.deadlines.clearAll();
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Forgets a finished record (after its outcome has been handled). */
  forget(record: RuntimeRecord) {
    const key = recordKey(record.workspaceId, record.sessionId);
    const current = this.records.get(key);
    if (current && current.generation === record.generation && current.state !== "running") {
      this.records.delete(key);
      this.exits.remove(record);
    }
  }
}
