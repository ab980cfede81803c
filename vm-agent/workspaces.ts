/**
 * Workspaces on this node: provisioning (clone, branch, identity, setup script), agent sessions
 * through the runtime coordinator, completion (commit, push, callback through the outbox), stop
 * and delete. Every state change is a durable record first, so a restarted vm-agent picks up
 * where the last one stopped. HTTP handlers call this module and nothing else.
 */
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { AgentKind, callbackPaths, type CreateWorkspaceRequest, type FollowUpPromptRequest, type StartAgentSessionRequest } from "../lib/contracts/vm-agent";
import type { VmAgentConfig } from "./config";
import { ExecError, run } from "./exec";
import * as git from "./git";
import type { Log } from "./log";
import type { Outbox } from "./outbox";
import { agentEnvironment, agentLaunch, streamJsonConversation, streamJsonError } from "./agents/commands";
import { RuntimeCoordinator, RuntimeError, type RuntimeRecord } from "./runtime/coordinator";
import type { Tmux } from "./runtime/tmux";
import { RecordStore } from "./state/records";
import { OutputShipper } from "./output";

export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const WorkspaceRecord = z.object({
  id: z.string(),
  taskId: z.string(),
  repository: z.string(),
  branch: z.string(),
  callbackToken: z.string(),
  gitIdentity: z.object({ name: z.string(), email: z.string() }).optional(),
  status: z.enum(["creating", "running", "error", "stopped", "deleting", "deletion_failed"]),
  baseCommit: z.string().optional(),
  error: z.string().optional(),
});
type WorkspaceRecord = z.infer<typeof WorkspaceRecord>;

const SessionRecord = z.object({
  sessionId: z.string(),
  workspaceId: z.string(),
  agent: AgentKind,
  callbackToken: z.string(),
  status: z.enum(["running", "completing", "completed", "stopped"]),
  promptFirstLine: z.string(),
  exitCode: z.number().int().nullable().optional(),
  commit: z.string().nullable().optional(),
  pushed: z.boolean().optional(),
  error: z.string().optional(),
  generation: z.number().int().optional(),
  /** Each prompt (the first and every follow-up) is one turn; a turn reports once. */
  turn: z.number().int().default(1),
  /** The agent CLI's own conversation id, so a follow-up resumes the same conversation. */
  conversationId: z.string().optional(),
  /** How much of the session's log has been handed to the outbox as output. */
  outputOffset: z.number().int().default(0),
});
type SessionRecord = z.infer<typeof SessionRecord>;

export type WorkspaceManagerOptions = {
  config: Pick<
    VmAgentConfig,
    | "NODE_ID"
    | "VM_AGENT_WORK_DIR"
    | "SCRIPT_AGENT_COMMAND"
    | "CLAUDE_CODE_BIN"
    | "ANTHROPIC_API_KEY"
    | "ANTHROPIC_BASE_URL"
    | "CLAUDE_ALLOWED_TOOLS"
    | "SETUP_SCRIPT"
    | "SETUP_TIMEOUT"
    | "GIT_PUSH"
    | "GIT_AUTHOR_NAME"
    | "GIT_AUTHOR_EMAIL"
    | "STOP_GRACE"
    | "OUTPUT_FLUSH_INTERVAL"
  >;
  outbox: Outbox;
  tmux: Tmux;
  log: Log;
};

const firstLine = (prompt: string) => prompt.split("\n")[0]!.trim().slice(0, 72) || "Agent changes";

/** Keeps a message short enough for a callback body, keeping its end (where errors are). */
const clip = (text: string, max = 8_000) => (text.length > max ? `…${text.slice(-max)}` : text);

export class WorkspaceManager {
  private readonly root: string;
  private readonly workspaces: RecordStore<typeof WorkspaceRecord>;
  private readonly sessions: RecordStore<typeof SessionRecord>;
  readonly runtime: RuntimeCoordinator;
  private readonly provisioning = new Map<string, Promise<void>>();
  private readonly completing = new Map<string, Promise<void>>();
  private readonly shippers = new Map<string, OutputShipper>();
  private closed = false;

  constructor(private readonly options: WorkspaceManagerOptions) {
    const workDir = path.resolve(options.config.VM_AGENT_WORK_DIR);
    this.root = path.join(workDir, "workspaces");
    fs.mkdirSync(this.root, { recursive: true });
    this.workspaces = new RecordStore(path.join(workDir, "state", "workspaces"), WorkspaceRecord);
    this.sessions = new RecordStore(path.join(workDir, "state", "sessions"), SessionRecord);
    this.runtime = new RuntimeCoordinator({
      nodeId: options.config.NODE_ID,
      tmux: options.tmux,
      stateDir: path.join(workDir, "state"),
      log: options.log,
      stopGraceMs: options.config.STOP_GRACE,
      onExit: (record) => this.inBackground("completing a session", this.complete(record)),
    });
  }

  /** Picks up after a restart: interrupted deletes show as failed, provisioning restarts, agents are adopted. */
  async startup() {
    for (const { value } of this.workspaces.list()) {
      if (value.status === "deleting") this.workspaces.put(value.id, { ...value, status: "deletion_failed", error: "the vm-agent restarted during delete" });
      if (value.status === "creating") this.provisioning.set(value.id, this.provision(value));
    }
    for (const { value } of this.sessions.list()) {
      if (value.status === "completing") this.inBackground("reporting a session", this.report(value));
      if (value.status === "running") this.shipOutput(value);
    }
    return this.runtime.startup();
  }

  /** Work nobody awaits: a failure is logged (unless the daemon is shutting down), never unhandled. */
  private inBackground(what: string, work: Promise<unknown>) {
    work.catch((error: unknown) => {
      if (!this.closed) this.options.log("error", `${what} failed`, { error: String(error) });
    });
  }

  /** Detaches without stopping agents: they keep working in tmux for the next vm-agent. */
  shutdown() {
    this.closed = true;
    for (const shipper of this.shippers.values()) shipper.stop(false);
    this.shippers.clear();
    this.runtime.shutdown();
  }

  private logFileOf(workspaceId: string, sessionId: string) {
    return path.join(this.dirOf(workspaceId), `agent-${sessionId}.log`);
  }

  /** Starts shipping the session's output from where the last shipment ended. */
  private shipOutput(session: SessionRecord) {
    this.shippers.get(session.sessionId)?.stop(false);
    const shipper = new OutputShipper(
      { workspaceId: session.workspaceId, sessionId: session.sessionId, turn: session.turn, callbackToken: session.callbackToken, logFile: this.logFileOf(session.workspaceId, session.sessionId) },
      this.options.outbox,
      this.options.config.OUTPUT_FLUSH_INTERVAL,
      session.outputOffset,
      (offset) => {
        const current = this.sessions.get(session.sessionId);
        if (current) this.sessions.put(session.sessionId, { ...current, outputOffset: offset });
      },
    );
    this.shippers.set(session.sessionId, shipper);
    shipper.start();
  }

  /** Stops shipping; returns the last batch's message id, so a completion can follow its output. */
  private stopShipping(sessionId: string, final: boolean): string | undefined {
    const shipper = this.shippers.get(sessionId);
    shipper?.stop(final);
    this.shippers.delete(sessionId);
    return shipper?.lastMessageId;
  }

  get count() {
    return this.workspaces.list().filter((w) => w.value.status === "creating" || w.value.status === "running").length;
  }

  private dirOf(workspaceId: string) {
    const dir = path.resolve(this.root, workspaceId);
    if (path.dirname(dir) !== this.root) throw new RequestError(400, "workspace id leaves the work folder", "workspaceId");
    return dir;
  }
  private worktreeOf = (workspaceId: string) => path.join(this.dirOf(workspaceId), "repo");

  private known(workspaceId: string): WorkspaceRecord {
    const workspace = this.workspaces.get(workspaceId);
    if (!workspace) throw new RequestError(404, `workspace ${workspaceId} not found`);
    return workspace;
  }

  /** Accepts a workspace request (202) and provisions it in the background; a repeat is a no-op. */
  async create(request: CreateWorkspaceRequest): Promise<{ status: "creating" | "running" }> {
    this.dirOf(request.workspaceId); // refuses ids that would leave the work folder
    const existing = this.workspaces.get(request.workspaceId);
    if (existing) {
      if (existing.status === "creating" || existing.status === "running") return { status: existing.status };
      throw new RequestError(409, `workspace ${request.workspaceId} is ${existing.status}`);
    }
    if (request.repository.startsWith("-")) throw new RequestError(422, "repository must not start with '-'", "repository");
    if (path.isAbsolute(request.repository) && !(await git.isRepository(request.repository))) {
      throw new RequestError(422, `repository ${request.repository} does not exist on this node or is not a git repository`, "repository");
    }
    const record: WorkspaceRecord = {
      id: request.workspaceId,
      taskId: request.taskId,
      repository: request.repository,
      branch: request.branch,
      callbackToken: request.callbackToken,
      gitIdentity: request.gitIdentity,
      status: "creating",
    };
    this.workspaces.put(record.id, record);
    this.provisioning.set(record.id, this.provision(record));
    return { status: "creating" };
  }

  private update(workspaceId: string, change: Partial<WorkspaceRecord>): WorkspaceRecord | undefined {
    const current = this.workspaces.get(workspaceId);
    if (!current) return undefined;
    const next = { ...current, ...change };
    this.workspaces.put(workspaceId, next);
    return next;
  }

  private async provision(workspace: WorkspaceRecord) {
    const { config, outbox, log } = this.options;
    const dir = this.dirOf(workspace.id);
    const worktree = this.worktreeOf(workspace.id);
    let stage = "clone";
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      await git.clone(workspace.repository, worktree, dir);
      stage = "branch";
      await git.createBranch(worktree, workspace.branch);
      stage = "git-identity";
      const identity = workspace.gitIdentity ?? { name: config.GIT_AUTHOR_NAME, email: config.GIT_AUTHOR_EMAIL };
      await git.setIdentity(worktree, identity.name, identity.email);
      stage = "setup";
      const setupScript = path.resolve(worktree, config.SETUP_SCRIPT);
      const hasSetup = setupScript.startsWith(worktree + path.sep) && fs.existsSync(setupScript);
      if (hasSetup) {
        await run("bash", [setupScript], { cwd: worktree, env: agentEnvironment({}), timeoutMs: config.SETUP_TIMEOUT });
      }
      const baseCommit = await git.headCommit(worktree);
      if (this.workspaces.get(workspace.id)?.status !== "creating") return; // stopped or deleted meanwhile
      this.update(workspace.id, { status: "running", baseCommit });
      log("info", "workspace ready", { workspaceId: workspace.id, branch: workspace.branch });
      const messageId = randomUUID();
      outbox.enqueue(messageId, callbackPaths.workspaceReady(workspace.id), workspace.callbackToken, {
        messageId,
        branch: workspace.branch,
        baseCommit,
        setupScript: hasSetup ? "ran" : "absent",
      });
    } catch (error) {
      if (this.workspaces.get(workspace.id)?.status !== "creating") return;
      const message = error instanceof ExecError ? error.message : (error as Error).message;
      this.update(workspace.id, { status: "error", error: message });
      log("error", "workspace provisioning failed", { workspaceId: workspace.id, stage, error: message });
      const messageId = randomUUID();
      outbox.enqueue(messageId, callbackPaths.provisioningFailed(workspace.id), workspace.callbackToken, { messageId, stage, error: clip(message) });
    } finally {
      this.provisioning.delete(workspace.id);
    }
  }

  /** Starts an agent session in a ready workspace; a repeat for the same session is a no-op. */
  async startSession(workspaceId: string, sessionId: string, request: StartAgentSessionRequest): Promise<{ status: "running" }> {
    const workspace = this.known(workspaceId);
    const existing = this.sessions.get(sessionId);
    if (existing) {
      if (existing.workspaceId !== workspaceId) throw new RequestError(409, `session ${sessionId} belongs to another workspace`);
      return { status: "running" };
    }
    if (workspace.status !== "running") throw new RequestError(409, `workspace ${workspaceId} is ${workspace.status}, not running`);
    const session: SessionRecord = {
      sessionId,
      workspaceId,
      agent: request.agent,
      callbackToken: request.callbackToken,
      status: "running",
      turn: 1,
      promptFirstLine: firstLine(request.prompt),
      outputOffset: 0,
    };
    return this.launchTurn(session, request.prompt);
  }

  /**
   * A follow-up message to an idle session: the agent runs again in the same worktree and, when
   * its CLI keeps conversations, resumes the same one. 409 while the session is still working.
   */
  async prompt(workspaceId: string, sessionId: string, request: FollowUpPromptRequest): Promise<{ status: "running" }> {
    const workspace = this.known(workspaceId);
    const session = this.sessions.get(sessionId);
    if (!session || session.workspaceId !== workspaceId) throw new RequestError(404, `session ${sessionId} not found`);
    if (session.status === "running" || session.status === "completing") throw new RequestError(409, `session ${sessionId} is still working`);
    if (session.status === "stopped" || workspace.status !== "running") throw new RequestError(409, `session ${sessionId} was stopped`);
    const next: SessionRecord = {
      ...session,
      status: "running",
      turn: session.turn + 1,
      callbackToken: request.callbackToken,
      promptFirstLine: firstLine(request.prompt),
      exitCode: undefined,
      commit: undefined,
      pushed: undefined,
      error: undefined,
    };
    return this.launchTurn(next, request.prompt);
  }

  private async launchTurn(turn: SessionRecord, prompt: string): Promise<{ status: "running" }> {
    const { workspaceId, sessionId } = turn;
    const logFile = this.logFileOf(workspaceId, sessionId);
    // A new turn's output starts where the log ends now.
    const session: SessionRecord = { ...turn, outputOffset: fs.existsSync(logFile) ? fs.statSync(logFile).size : 0 };
    this.sessions.put(sessionId, session);
    const resolved = agentLaunch(session.agent, {
      prompt,
      sessionId,
      home: path.join(this.dirOf(workspaceId), "home"),
      settings: this.options.config,
      resume: session.conversationId,
    });
    if ("unavailable" in resolved) {
      const failed = { ...session, status: "completing" as const, exitCode: null, commit: null, pushed: false, error: resolved.unavailable };
      this.sessions.put(sessionId, failed);
      this.inBackground("reporting a session", this.report(failed));
      return { status: "running" };
    }
    // Shipping starts before the launch: a quick agent may exit (and complete) before launch returns.
    this.shipOutput(session);
    try {
      const record = await this.runtime.launch({
        workspaceId,
        sessionId,
        cwd: this.worktreeOf(workspaceId),
        command: resolved.command,
        env: resolved.env,
        logFile,
      });
      const current = this.sessions.get(sessionId);
      if (current?.status === "running") this.sessions.put(sessionId, { ...current, generation: record.generation });
    } catch (error) {
      this.stopShipping(sessionId, false);
      if (session.turn === 1) this.sessions.delete(sessionId);
      else this.sessions.put(sessionId, { ...session, status: "completed", error: (error as Error).message });
      if (error instanceof RuntimeError) throw new RequestError(error.status, error.message);
      throw error;
    }
    return { status: "running" };
  }

  /** An agent exited (or vanished): commit, push, and report once. Safe to call again after a crash. */
  private complete(record: RuntimeRecord): Promise<void> {
    const running = this.completing.get(record.sessionId);
    if (running) return running;
    const work = (async () => {
      const session = this.sessions.get(record.sessionId);
      if (!session || session.status === "stopped" || session.status === "completed") return this.runtime.forget(record);
      if (session.status === "completing") return this.report(session).then(() => this.runtime.forget(record));
      const lastOutput = this.stopShipping(session.sessionId, true);
      const worktree = this.worktreeOf(record.workspaceId);
      const workspace = this.workspaces.get(record.workspaceId);
      let error = record.state === "vanished" ? "the agent's tmux session vanished without an exit code" : undefined;
      if (record.exitCode !== 0 && record.state === "exited") error = `agent exited with code ${record.exitCode}${this.logTail(record)}`;
      // A CLI with an event stream says itself how its run ended; that beats guessing from output.
      const reported = session.agent === "claude-code" ? streamJsonError(this.readLog(record)) : undefined;
      if (reported) error = error ? `${error}; ${reported}` : reported;
      let commit: string | null = null;
      let pushed = false;
      try {
        await git.commitAll(worktree, `${session.promptFirstLine}\n\nAgent-Session: ${session.sessionId}`);
        commit = await git.headCommit(worktree);
        if (this.options.config.GIT_PUSH === "auto" && workspace && (await git.hasRemote(worktree, "origin"))) {
          try {
            await git.push(worktree, workspace.branch);
            pushed = true;
          } catch (pushError) {
            error = [error, `push failed: ${(pushError as Error).message}`].filter(Boolean).join("; ");
          }
        }
      } catch (commitError) {
        error = [error, `commit failed: ${(commitError as Error).message}`].filter(Boolean).join("; ");
      }
      if (record.state === "vanished") this.update(record.workspaceId, { status: "error", error });
      const conversationId = session.agent === "claude-code" ? (streamJsonConversation(this.readLog(record)) ?? session.conversationId) : undefined;
      const completing: SessionRecord = {
        ...(this.sessions.get(session.sessionId) ?? session),
        status: "completing",
        exitCode: record.exitCode ?? null,
        commit,
        pushed,
        error,
        generation: record.generation,
        conversationId,
      };
      this.sessions.put(session.sessionId, completing);
      // The output's last batch lands before the completion (unless it is refused or given up).
      if (lastOutput) await this.options.outbox.settled(lastOutput);
      await this.report(completing);
      this.runtime.forget(record);
    })().finally(() => this.completing.delete(record.sessionId));
    this.completing.set(record.sessionId, work);
    return work;
  }

  private readLog(record: RuntimeRecord) {
    try {
      return fs.readFileSync(this.logFileOf(record.workspaceId, record.sessionId), "utf8");
    } catch {
      return "";
    }
  }

  private logTail(record: RuntimeRecord) {
    const tail = this.readLog(record).trim().split("\n").slice(-10).join("\n");
    return tail ? `: ${tail}` : "";
  }

  /** Enqueues the completion callback under a message id fixed per session generation, then marks it sent. */
  private async report(session: SessionRecord) {
    const workspace = this.workspaces.get(session.workspaceId);
    const messageId = `${session.sessionId}-t${session.turn}-completed`;
    const succeeded = session.exitCode === 0 && !!session.commit && !session.error?.includes("vanished");
    this.options.outbox.enqueue(messageId, callbackPaths.agentCompleted(session.sessionId), session.callbackToken, {
      messageId,
      workspaceId: session.workspaceId,
      outcome: succeeded ? "succeeded" : "failed",
      exitCode: session.exitCode ?? null,
      branch: workspace?.branch ?? "unknown",
      commit: session.commit ?? null,
      pushed: session.pushed ?? false,
      ...(session.error ? { error: clip(session.error) } : {}),
    });
    this.sessions.put(session.sessionId, { ...session, status: "completed" });
    this.options.log("info", "agent session finished", { workspaceId: session.workspaceId, sessionId: session.sessionId, succeeded, commit: session.commit });
  }

  /** Stops every agent of the workspace; the worktree stays. 404 only when nothing is known of it. */
  async stop(workspaceId: string): Promise<void> {
    const workspace = this.workspaces.get(workspaceId);
    const runtimes = this.runtime.forWorkspace(workspaceId);
    if (!workspace && runtimes.length === 0) throw new RequestError(404, `workspace ${workspaceId} not found`);
    await this.runtime.whileStopping(workspaceId, async () => {
      for (const { value } of this.sessions.list()) {
        if (value.workspaceId !== workspaceId || value.status !== "running") continue;
        this.stopShipping(value.sessionId, true);
        this.sessions.put(value.sessionId, { ...value, status: "stopped" });
      }
      await this.runtime.stop(workspaceId);
    });
    if (workspace && (workspace.status === "creating" || workspace.status === "running")) this.update(workspaceId, { status: "stopped" });
  }

  /** True when the branch has work that is not pushed; a check that fails counts as dirty. */
  private async hasUnpushedWork(workspace: WorkspaceRecord): Promise<boolean> {
    const worktree = this.worktreeOf(workspace.id);
    if (!fs.existsSync(worktree)) return false;
    try {
      if ((await git.status(worktree)).trim() !== "") return true;
      const head = await git.headCommit(worktree);
      if (head === workspace.baseCommit) return false;
      if (!(await git.hasRemote(worktree, "origin"))) return true;
      return (await git.remoteBranchCommit(worktree, workspace.branch)) !== head;
    } catch {
      return true;
    }
  }

  /**
   * Deletes a workspace: the intent first (an interrupted delete shows as deletion_failed after a
   * restart), the dirty check (409, nothing stopped), then stop everything, remove the worktree and
   * its branch, and last the record.
   */
  async delete(workspaceId: string, force: boolean): Promise<void> {
    const workspace = this.workspaces.get(workspaceId);
    if (!workspace && this.runtime.forWorkspace(workspaceId).length === 0) throw new RequestError(404, `workspace ${workspaceId} not found`);
    await this.runtime.whileStopping(workspaceId, async () => {
      if (workspace && !force && (await this.hasUnpushedWork(workspace))) {
        throw new RequestError(409, `workspace ${workspaceId} has work that is not pushed; delete with force=true to discard it`);
      }
      if (workspace) this.update(workspaceId, { status: "deleting" });
      for (const { value } of this.sessions.list()) {
        if (value.workspaceId !== workspaceId) continue;
        this.stopShipping(value.sessionId, false);
        this.sessions.put(value.sessionId, { ...value, status: "stopped" });
      }
      await this.runtime.stop(workspaceId);
      await this.provisioning.get(workspaceId)?.catch(() => undefined);
      fs.rmSync(this.dirOf(workspaceId), { recursive: true, force: true });
      for (const { value } of this.sessions.list()) if (value.workspaceId === workspaceId) this.sessions.delete(value.sessionId);
      this.workspaces.delete(workspaceId);
    });
  }
}
