/**
 * Workspaces on this node: provisioning (clone, branch, identity, setup script), agent sessions,
 * stop and delete. HTTP handlers call this module and nothing else. (A later issue moves agent
 * processes into tmux under one lifecycle coordinator with durable ownership records.)
 */
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import {
  callbackPaths,
  type AgentCompletedCallback,
  type CreateWorkspaceRequest,
  type StartAgentSessionRequest,
} from "../lib/contracts/vm-agent";
import type { CallbackClient } from "./callbacks";
import type { VmAgentConfig } from "./config";
import { ExecError, run } from "./exec";
import * as git from "./git";
import type { Log } from "./log";
import { startAgent, type RunningAgent } from "./agents/start-agent";

export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

type WorkspaceStatus = "creating" | "running" | "error" | "stopped";
type Session = { id: string; status: "running" | "stopped" | "error"; agent?: RunningAgent; done: Promise<void> };
type Workspace = {
  id: string;
  taskId: string;
  status: WorkspaceStatus;
  dir: string;
  worktree: string;
  branch: string;
  sessions: Map<string, Session>;
  provisioning?: Promise<void>;
};

export type WorkspaceManagerOptions = {
  config: Pick<
    VmAgentConfig,
    "VM_AGENT_WORK_DIR" | "SCRIPT_AGENT_COMMAND" | "SETUP_SCRIPT" | "SETUP_TIMEOUT" | "AGENT_TIMEOUT" | "GIT_PUSH" | "GIT_AUTHOR_NAME" | "GIT_AUTHOR_EMAIL" | "STOP_GRACE"
  >;
  sendCallback: CallbackClient;
  log: Log;
};

/** Keeps a message short enough for a callback body, keeping its end (where errors are). */
const clip = (text: string, max = 8_000) => (text.length > max ? `…${text.slice(-max)}` : text);

export class WorkspaceManager {
  private readonly workspaces = new Map<string, Workspace>();
  private readonly root: string;

  constructor(private readonly options: WorkspaceManagerOptions) {
    this.root = path.resolve(options.config.VM_AGENT_WORK_DIR, "workspaces");
    fs.mkdirSync(this.root, { recursive: true });
  }

  get count() {
    return [...this.workspaces.values()].filter((w) => w.status === "creating" || w.status === "running").length;
  }

  /** The folder of a workspace, refusing anything that would land outside the work folder. */
  private folderFor(workspaceId: string) {
    const dir = path.resolve(this.root, workspaceId);
    if (path.dirname(dir) !== this.root) throw new RequestError(400, "workspace id leaves the work folder", "workspaceId");
    return dir;
  }

  /** Accepts a workspace request (202) and provisions it in the background; a repeat is a no-op. */
  async create(request: CreateWorkspaceRequest): Promise<{ status: "creating" | "running" }> {
    const existing = this.workspaces.get(request.workspaceId);
    if (existing) {
      if (existing.status === "creating" || existing.status === "running") return { status: existing.status };
      throw new RequestError(409, `workspace ${request.workspaceId} is ${existing.status}`);
    }
    if (request.repository.startsWith("-")) throw new RequestError(422, "repository must not start with '-'", "repository");
    if (path.isAbsolute(request.repository) && !(await git.isRepository(request.repository))) {
      throw new RequestError(422, `repository ${request.repository} does not exist on this node or is not a git repository`, "repository");
    }
    const dir = this.folderFor(request.workspaceId);
    const workspace: Workspace = {
      id: request.workspaceId,
      taskId: request.taskId,
      status: "creating",
      dir,
      worktree: path.join(dir, "repo"),
      branch: request.branch,
      sessions: new Map(),
    };
    this.workspaces.set(workspace.id, workspace);
    workspace.provisioning = this.provision(workspace, request);
    return { status: "creating" };
  }

  private async provision(workspace: Workspace, request: CreateWorkspaceRequest) {
    const { config, sendCallback, log } = this.options;
    let stage = "clone";
    try {
      fs.rmSync(workspace.dir, { recursive: true, force: true });
      fs.mkdirSync(workspace.dir, { recursive: true });
      await git.clone(request.repository, workspace.worktree, workspace.dir);
      stage = "branch";
      await git.createBranch(workspace.worktree, request.branch);
      stage = "git-identity";
      const identity = request.gitIdentity ?? { name: config.GIT_AUTHOR_NAME, email: config.GIT_AUTHOR_EMAIL };
      await git.setIdentity(workspace.worktree, identity.name, identity.email);
      stage = "setup";
      const setupScript = path.resolve(workspace.worktree, config.SETUP_SCRIPT);
      const hasSetup = setupScript.startsWith(workspace.worktree + path.sep) && fs.existsSync(setupScript);
      if (hasSetup) {
        await run("bash", [setupScript], { cwd: workspace.worktree, env: agentEnvironment({}), timeoutMs: config.SETUP_TIMEOUT });
      }
      const baseCommit = await git.headCommit(workspace.worktree);
      if (workspace.status !== "creating") return; // stopped or deleted meanwhile
      workspace.status = "running";
      log("info", "workspace ready", { workspaceId: workspace.id, branch: request.branch });
      await sendCallback(callbackPaths.workspaceReady(workspace.id), request.callbackToken, {
        messageId: randomUUID(),
        branch: request.branch,
        baseCommit,
        setupScript: hasSetup ? "ran" : "absent",
      });
    } catch (error) {
      if (workspace.status !== "creating") return;
      workspace.status = "error";
      const message = error instanceof ExecError ? error.message : (error as Error).message;
      log("error", "workspace provisioning failed", { workspaceId: workspace.id, stage, error: message });
      await sendCallback(callbackPaths.provisioningFailed(workspace.id), request.callbackToken, {
        messageId: randomUUID(),
        stage,
        error: clip(message),
      });
    }
  }

  /** Starts an agent session in a ready workspace; a repeat for the same session is a no-op. */
  startSession(workspaceId: string, sessionId: string, request: StartAgentSessionRequest): { status: "running" } {
    const workspace = this.workspaces.get(workspaceId);
    if (!workspace) throw new RequestError(404, `workspace ${workspaceId} not found`);
    if (workspace.sessions.has(sessionId)) return { status: "running" };
    if (workspace.status !== "running") throw new RequestError(409, `workspace ${workspaceId} is ${workspace.status}, not running`);
    const session: Session = { id: sessionId, status: "running", done: Promise.resolve() };
    workspace.sessions.set(sessionId, session);
    session.done = this.runSession(workspace, session, request);
    return { status: "running" };
  }

  private async runSession(workspace: Workspace, session: Session, request: StartAgentSessionRequest) {
    const { config, sendCallback, log } = this.options;
    let exitCode: number | null = null;
    let error: string | undefined;
    let commit: string | null = null;
    let pushed = false;
    try {
      session.agent = startAgent(request.agent, {
        cwd: workspace.worktree,
        env: agentEnvironment({ AGENT_PROMPT: request.prompt, AGENT_SESSION_ID: session.id }),
        scriptCommand: config.SCRIPT_AGENT_COMMAND,
        timeoutMs: config.AGENT_TIMEOUT,
        logFile: path.join(workspace.dir, `agent-${session.id}.log`),
      });
      const exit = await session.agent.exited;
      exitCode = exit.code;
      if (exit.code !== 0) error = exit.error ?? `agent exited with ${exit.signal ?? `code ${exit.code}`}${exit.tail ? `: ${exit.tail}` : ""}`;
      if (session.status !== "running") return; // stopped: nothing to report or commit
      const firstLine = request.prompt.split("\n")[0]!.trim().slice(0, 72) || "Agent changes";
      await git.commitAll(workspace.worktree, `${firstLine}\n\nAgent-Session: ${session.id}`);
      commit = await git.headCommit(workspace.worktree);
      if (config.GIT_PUSH === "auto" && (await git.hasRemote(workspace.worktree, "origin"))) {
        try {
          await git.push(workspace.worktree, workspace.branch);
          pushed = true;
        } catch (pushError) {
          error = [error, `push failed: ${(pushError as Error).message}`].filter(Boolean).join("; ");
        }
      }
    } catch (failure) {
      error = (failure as Error).message;
    }
    if (session.status !== "running") return;
    const outcome = exitCode === 0 && commit ? "succeeded" : "failed";
    session.status = outcome === "succeeded" ? "stopped" : "error";
    log("info", "agent session finished", { workspaceId: workspace.id, sessionId: session.id, outcome, exitCode, commit, pushed });
    const body: AgentCompletedCallback = {
      messageId: randomUUID(),
      workspaceId: workspace.id,
      outcome,
      exitCode,
      branch: workspace.branch,
      commit,
      pushed,
      ...(error ? { error: clip(error) } : {}),
    };
    await sendCallback(callbackPaths.agentCompleted(session.id), request.callbackToken, body);
  }

  /** Stops every agent in the workspace; the worktree stays. */
  async stop(workspaceId: string): Promise<void> {
    const workspace = this.workspaces.get(workspaceId);
    if (!workspace) throw new RequestError(404, `workspace ${workspaceId} not found`);
    workspace.status = workspace.status === "error" ? "error" : "stopped";
    await Promise.all(
      [...workspace.sessions.values()].map(async (session) => {
        if (session.status !== "running") return;
        session.status = "stopped";
        await session.agent?.stop(this.options.config.STOP_GRACE);
      }),
    );
  }

  /** Stops the workspace and removes its folder. */
  async delete(workspaceId: string): Promise<void> {
    await this.stop(workspaceId);
    const workspace = this.workspaces.get(workspaceId)!;
    await workspace.provisioning?.catch(() => undefined);
    fs.rmSync(workspace.dir, { recursive: true, force: true });
    this.workspaces.delete(workspaceId);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.workspaces.keys()].map((id) => this.stop(id)));
  }
}

/** What an agent or setup script may see: no control-plane tokens, no node secrets. */
function agentEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const allowed = ["PATH", "HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "USER", "SHELL"];
  const env: Record<string, string> = {};
  for (const key of allowed) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  return { ...env, ...extra } as NodeJS.ProcessEnv;
}
