/**
 * Workspaces on this node: accept (synchronous checks, 202), provision in the background (see
 * provision.ts), stop and delete; agent sessions are delegated to the session manager and agent
 * processes to the runtime coordinator. Every state change is a durable record first, so a
 * restarted vm-agent picks up where the last one stopped. HTTP handlers call this module only.
 */
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { BootLog } from "./boot-log";
import { callbackPaths, Id, type WorkspaceIsolation, type CreateWorkspaceRequest, type NodeInventory, type PushAgainResponse, type FollowUpPromptRequest, type InterruptAgentSessionRequest, type StartAgentSessionRequest } from "../lib/contracts/vm-agent";
import { clip, commitAndPush } from "./completion";
import type { EgressNetwork, EgressConfig } from "./egress/network";
import { formatMs } from "./exec";
import type { InheritedEnvironment, VmAgentConfig } from "./config";
import { RequestError } from "./errors";
import * as git from "./git";
import type { GitCredentials, CredentialRequest } from "./git-credentials";
import type { Logger } from "./log";
import type { Outbox } from "./outbox";
import type { WorkspacePaths } from "./paths";
import { provisionWorktree, StageError, type ProvisionConfig } from "./provision";
import { redactor } from "./redact";
import type { RuntimeCoordinator } from "./runtime/coordinator";
import { killProcessesIn, RuntimeError } from "./runtime/processes";
import { killUserProcesses, type WorkspaceUsers, type WorkspaceUser } from "./users";
import { removeWorkspaceFolder, resolvesInside } from "./workspace-fs";
import type { SessionManager, SessionConfig } from "./sessions";
import { isHeld } from "./state/held";
import type { RecordStore } from "./state/records";
import type { WorkspaceRecord } from "./state/schemas";
import type { WorkspaceGit } from "./workspace-git";

export { RequestError };


/**
 * What the manager works with, built by daemon.ts (the one place the daemon is assembled): the
 * workspaces' folders and records, their users, network, credentials, agents' runtime and sessions.
 */
export type WorkspaceManagerOptions = {
  config: Pick<VmAgentConfig, "NODE_ID" | "VM_AGENT_WORK_DIR" | "STOP_GRACE" | "WORKSPACE_USERS" | "WORKSPACE_UID_MIN" | "WORKSPACE_UID_CLAIMS" | "VM_AGENT_HELPERS_DIR"> & ProvisionConfig & SessionConfig & EgressConfig;
  /** The daemon's environment its children inherit (config.ts). */
  inherited: InheritedEnvironment;
  paths: WorkspacePaths;
  workspaces: RecordStore<typeof WorkspaceRecord>;
  credentials: GitCredentials;
  users: WorkspaceUsers;
  egress: EgressNetwork;
  runtime: RuntimeCoordinator;
  sessions: SessionManager;
  /** How the daemon's own git runs in a workspace (workspace-git.ts). */
  gitAs: WorkspaceGit;
  outbox: Outbox;
  log: Logger;
};

export class WorkspaceManager {
  private readonly paths: WorkspacePaths;
  private readonly workspaces: RecordStore<typeof WorkspaceRecord>;
  readonly runtime: RuntimeCoordinator;
  readonly sessions: SessionManager;
  readonly credentials: GitCredentials;
  readonly users: WorkspaceUsers;
  readonly egress: EgressNetwork;
  private readonly gitAs: WorkspaceGit;
  private readonly provisioning = new Map<string, Promise<void>>();
  private readonly provisioningAborts = new Map<string, AbortController>();
  private closed = false;

  constructor(private readonly options: WorkspaceManagerOptions) {
    ({ paths: this.paths, workspaces: this.workspaces, runtime: this.runtime, sessions: this.sessions, credentials: this.credentials, users: this.users, egress: this.egress, gitAs: this.gitAs } = options);
  }

  /** The log for lines about one workspace: each carries its id and its task's. */
  private logFor(workspace: Pick<WorkspaceRecord, "id" | "taskId">) {
    return this.options.log.child({ workspaceId: workspace.id, taskId: workspace.taskId });
  }

  /** Picks up after a restart: interrupted deletes show as failed, provisioning restarts, agents are adopted. */
  async startup() {
    // Before anything is provisioned again: whether workspaces get their own network.
    await this.egress.probe(this.users.enabled ? undefined : this.users.isolation().reason);
    for (const { value } of this.workspaces.list()) {
      if (value.status === "deleting") this.workspaces.put(value.id, { ...value, status: "deletion_failed", error: "the vm-agent restarted during delete" });
      if (value.status === "creating") {
        // The setup script a killed daemon left runs on in its own group: stop it before provisioning again.
        const orphans = killProcessesIn(this.paths.dir(value.id));
        if (orphans.length) this.logFor(value).warn("stopped what an earlier run left provisioning", { pids: orphans });
        this.startProvisioning(value);
      }
    }
    // Users of workspaces a crash left half-deleted (their records are gone).
    await this.users.removeAllExcept((workspaceId) => this.workspaces.get(workspaceId) !== undefined);
    // The adopted agents' way out: their proxies listen again, their forwarders are checked.
    await this.egress.adopt();
    this.sessions.startup();
    const adopted = await this.runtime.startup();
    // Interrupts a crash may have cut short reach their (adopted) agents.
    await this.sessions.resumeInterrupts();
    return adopted;
  }

  /** Detaches without stopping agents: they keep working in tmux for the next vm-agent. */
  shutdown() {
    this.closed = true;
    this.sessions.shutdown();
    this.runtime.shutdown();
    this.egress.close();
  }

  /** How the node keeps workspaces apart (users) and holds them to their egress (namespaces), for the ready callback. */
  isolation(): WorkspaceIsolation {
    return { ...this.users.isolation(), egress: this.egress.enforcement() };
  }

  get count() {
    return this.workspaces.list().filter((w) => isHeld(w.value)).length;
  }

  private known(workspaceId: string): WorkspaceRecord {
    const workspace = this.workspaces.get(workspaceId);
    if (!workspace) throw new RequestError(404, `workspace ${workspaceId} not found`);
    return workspace;
  }

  private update(workspaceId: string, change: Partial<WorkspaceRecord>) {
    const current = this.workspaces.get(workspaceId);
    if (current) this.workspaces.put(workspaceId, { ...current, ...change });
  }

  /** Accepts a workspace request (202) and provisions it in the background; a repeat is a no-op. */
  async create(request: CreateWorkspaceRequest): Promise<{ status: "creating" | "running" }> {
    this.paths.dir(request.workspaceId); // refuses ids that would leave the work folder
    const existing = this.workspaces.get(request.workspaceId);
    if (existing) {
      if (existing.status === "creating" || existing.status === "running") return { status: existing.status };
      throw new RequestError(409, `workspace ${request.workspaceId} is ${existing.status}`);
    }
    if (request.repository.startsWith("-")) throw new RequestError(422, "repository must not start with '-'", "repository");
    const cannotEnforce = this.egress.creationRefusal(this.users.enabled);
    if (cannotEnforce) throw new RequestError(409, cannotEnforce);
    // A folder of this node's (a workspace's worktree, say) is never a source: root would read it.
    if (path.isAbsolute(request.repository) && resolvesInside(request.repository, this.options.config.VM_AGENT_WORK_DIR)) {
      throw new RequestError(422, "repository must not be inside the vm-agent's work folder", "repository");
    }
    if (path.isAbsolute(request.repository) && !(await git.isRepository(request.repository, this.options.inherited))) {
      throw new RequestError(422, `repository ${request.repository} does not exist on this node or is not a git repository`, "repository");
    }
    const record: WorkspaceRecord = {
      id: request.workspaceId,
      taskId: request.taskId,
      repository: request.repository,
      branch: request.branch,
      ...(request.baseBranch ? { baseBranch: request.baseBranch } : {}),
      callbackToken: request.callbackToken,
      gitIdentity: request.gitIdentity,
      ...(request.attribution ? { attribution: request.attribution } : {}),
      egress: this.egress.plan(request.workspaceId, request.egress),
      status: "creating",
    };
    // A concurrent twin of this request may have won while the repository was checked.
    const raced = this.workspaces.get(record.id);
    if (raced) return { status: raced.status === "running" ? "running" : "creating" };
    // Before the record: a provisioning restarted after a crash finds its credentials.
    this.credentials.create(record.id, record.repository, request.secrets.GITHUB_TOKEN, request.forgeHosts);
    this.workspaces.put(record.id, record);
    // One line per workspace this node created: what the chaos suite counts as the side effect.
    this.logFor(record).info("workspace accepted");
    this.startProvisioning(record);
    return { status: "creating" };
  }

  private startProvisioning(workspace: WorkspaceRecord) {
    const abort = new AbortController();
    this.provisioningAborts.set(workspace.id, abort);
    const work = this.provision(workspace, abort.signal)
      .catch((error: unknown) => {
        if (!this.closed) this.logFor(workspace).error("provisioning failed unexpectedly", { error: String(error) });
      })
      .finally(() => {
        this.provisioning.delete(workspace.id);
        this.provisioningAborts.delete(workspace.id);
      });
    this.provisioning.set(workspace.id, work);
  }

  private async provision(workspace: WorkspaceRecord, signal: AbortSignal) {
    const { config, outbox } = this.options;
    const log = this.logFor(workspace);
    const messageId = randomUUID();
    try {
      // Inside its namespace the agent's credential helper reaches the daemon through the proxy only.
      const viaProxy = workspace.egress?.namespace ? this.egress.proxyUrl : undefined;
      const credentials = { daemonGit: this.credentials.daemonGit(workspace.id), agentHelper: this.credentials.agentHelper(workspace.id, viaProxy) };
      const runAs = { user: () => this.users.ensure(workspace.id, this.paths.home(workspace.id)), home: this.paths.home(workspace.id), inherited: this.options.inherited };
      const reporter = new BootLog(workspace.id, workspace.callbackToken, outbox, config.OUTPUT_FLUSH_INTERVAL);
      const started = Date.now();
      const { baseCommit, baseBranch, setupScript, user } = await provisionWorktree(this.paths.dir(workspace.id), workspace, config, credentials, runAs, { signal, reporter, push: this.paths.pushRepo(workspace.id), ...(viaProxy ? { network: (user: WorkspaceUser | undefined) => this.egress.ensure(workspace, user) } : {}) });
      await reporter.stage("ready", async () => {}, `provisioned in ${formatMs(Date.now() - started)}`);
      if (this.workspaces.get(workspace.id)?.status !== "creating") return; // stopped or deleted meanwhile
      this.update(workspace.id, { status: "running", baseCommit, ...(baseBranch ? { baseBranch } : {}), ...(user ? { user } : {}) });
      log.info("workspace ready", { branch: workspace.branch, setupScript });
      outbox.enqueue(messageId, callbackPaths.workspaceReady(workspace.id), workspace.callbackToken, { messageId, branch: workspace.branch, ...(baseBranch ? { baseBranch } : {}), baseCommit, setupScript });
    } catch (error) {
      if (this.workspaces.get(workspace.id)?.status !== "creating") return;
      const stage = error instanceof StageError ? error.stage : "clone";
      // git's message never holds the token (it is in no URL or argument); this makes sure of it.
      const message = redactor(this.credentials.secrets(workspace.id))((error as Error).message);
      this.update(workspace.id, { status: "error", error: message });
      log.error("workspace provisioning failed", { stage, error: message });
      outbox.enqueue(messageId, callbackPaths.provisioningFailed(workspace.id), workspace.callbackToken, { messageId, stage, error: clip(message) });
    }
  }

  /** Starts an agent session in a ready workspace (404 unknown workspace, 409 not ready); repeats start nothing. */
  startSession(workspaceId: string, sessionId: string, request: StartAgentSessionRequest, idempotencyKey?: string) {
    return this.sessions.start(this.known(workspaceId), sessionId, request, idempotencyKey);
  }

  /** What the node knows of one of the workspace's sessions (404 for an unknown workspace or session). */
  sessionState(workspaceId: string, sessionId: string) {
    return this.sessions.state(this.known(workspaceId), sessionId);
  }

  /** A follow-up prompt to an idle session of the workspace. */
  prompt(workspaceId: string, sessionId: string, request: FollowUpPromptRequest) {
    return this.sessions.prompt(this.known(workspaceId), sessionId, request);
  }

  /** Interrupts the running turn of one of the workspace's sessions (see SessionManager.interrupt). */
  interrupt(workspaceId: string, sessionId: string, request: InterruptAgentSessionRequest) {
    return this.sessions.interrupt(this.known(workspaceId), sessionId, request);
  }

  /**
   * The workspace's credential helper asks for the agent's git (authenticated by the ticket in the
   * agent's environment, not a management token): 403 for a wrong ticket or an unknown workspace.
   */
  gitCredential(workspaceId: string, ticket: string, request: CredentialRequest) {
    const answer = this.credentials.answer(workspaceId, ticket, request);
    if (answer === "forbidden") throw new RequestError(403, "the ticket is not this workspace's");
    return answer;
  }

  /** Stops every agent of the workspace; the worktree stays. 404 only when nothing is known of it. */
  async stop(workspaceId: string): Promise<void> {
    const workspace = this.workspaces.get(workspaceId);
    if (!workspace && this.runtime.forWorkspace(workspaceId).length === 0) throw new RequestError(404, `workspace ${workspaceId} not found`);
    if (workspace && (workspace.status === "creating" || workspace.status === "running")) this.update(workspaceId, { status: "stopped" });
    await this.runtime.whileStopping(workspaceId, async () => {
      this.sessions.markStopped(workspaceId, false);
      await this.stopProvisioning(workspaceId);
      await this.runtime.stop(workspaceId);
    });
  }

  /**
   * Pushes a workspace's work again, when the person asks (its last push was refused): only a
   * stopped workspace (no agent is changing it), as the turn's own push does it.
   */
  async pushAgain(workspaceId: string): Promise<PushAgainResponse> {
    const workspace = this.workspaces.get(workspaceId);
    if (!workspace) throw new RequestError(404, `workspace ${workspaceId} not found`);
    if (workspace.status !== "stopped") throw new RequestError(409, `workspace ${workspaceId} is ${workspace.status}: only a stopped workspace's work is pushed again`);
    const worktree = this.paths.worktree(workspaceId);
    if (!fs.existsSync(worktree)) throw new RequestError(409, `workspace ${workspaceId} has no worktree left on this node`);
    const result = await commitAndPush(worktree, { subject: "Agent changes kept on the node", sessionId: "push-again", attribution: workspace.attribution, branch: workspace.branch, push: true, ...this.gitAs(workspace) });
    const error = result.error && redactor(this.credentials.secrets(workspaceId))(result.error);
    this.logFor(workspace)[result.pushed ? "info" : "warn"]("workspace pushed again", { pushed: result.pushed, error });
    return { workspaceId, commit: result.commit, pushed: result.pushed, ...(error ? { error: clip(error) } : {}) };
  }

  /** A stop or delete during provisioning ends it: its setup script is killed, and it reports nothing. */
  private async stopProvisioning(workspaceId: string) {
    this.provisioningAborts.get(workspaceId)?.abort();
    await this.provisioning.get(workspaceId);
  }

  /** What this node holds, for the control plane's orphan check (contract: NodeInventory). */
  async inventory(): Promise<NodeInventory> {
    const records = this.workspaces.list().map((r) => r.value);
    const workspaces: NodeInventory["workspaces"] = records.map((w) => ({ workspaceId: w.id, taskId: w.taskId, recorded: true, status: w.status, path: this.paths.dir(w.id) }));
    // Folders no record names (a crash between the folder and its record, or something else's).
    for (const entry of fs.readdirSync(this.paths.root, { withFileTypes: true })) {
      if (records.some((w) => w.id === entry.name) || !Id.safeParse(entry.name).success) continue;
      workspaces.push({ workspaceId: entry.name, taskId: null, recorded: false, status: entry.isDirectory() ? "unrecorded" : "not-a-folder", path: path.join(this.paths.root, entry.name) });
    }
    const tmuxSessions = (await this.runtime.sessions()).map(({ name, record }) => ({ name, ...(record ? { workspaceId: record.workspaceId, sessionId: record.sessionId } : {}) }));
    return { workspaces: workspaces.slice(0, 10_000), tmuxSessions: tmuxSessions.slice(0, 10_000) };
  }

  /** Stops a tmux session on the node's socket that no runtime record owns (404 none, 409 a recorded one's). */
  async stopOrphanTmuxSession(name: string) {
    let stopped: boolean;
    try {
      stopped = await this.runtime.stopUnowned(name);
    } catch (error) {
      if (error instanceof RuntimeError) throw new RequestError(error.status, error.message);
      throw error;
    }
    if (!stopped) throw new RequestError(404, `no tmux session ${name}`);
  }

  /**
   * A folder in the workspaces folder that no record names: what runs in it is stopped, and it is
   * removed without following links (a link there is removed, never what it points at).
   */
  private async deleteUnrecorded(workspaceId: string) {
    const dir = this.paths.dir(workspaceId);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(dir);
    } catch {
      throw new RequestError(404, `workspace ${workspaceId} not found`);
    }
    if (stat.isDirectory()) {
      const stopped = killProcessesIn(dir);
      if (stopped.length) this.options.log.warn("stopped what ran in an unrecorded workspace folder", { workspaceId, pids: stopped });
    }
    await this.removeFolder(workspaceId);
    await this.egress.remove(workspaceId);
    await this.users.remove(workspaceId);
    this.options.log.warn("removed an unrecorded workspace folder", { workspaceId });
  }

  /**
   * Removes the workspace's folder: every process of its user is stopped first (one could swap a
   * folder for a link while root removes it), then what the user owns there is removed as the user.
   */
  private async removeFolder(workspaceId: string) {
    const user = this.users.find(workspaceId);
    if (user) killUserProcesses(user.uid);
    await removeWorkspaceFolder(this.paths.dir(workspaceId), user);
  }

  /**
   * Deletes a workspace: the dirty check (409, nothing stopped, unless forced), the intent (an
   * interrupted delete shows as deletion_failed after a restart), then stop everything, remove the
   * worktree and its branch, and last the records.
   */
  async delete(workspaceId: string, force: boolean): Promise<void> {
    const workspace = this.workspaces.get(workspaceId);
    if (!workspace && this.runtime.forWorkspace(workspaceId).length === 0) return this.runtime.whileStopping(workspaceId, () => this.deleteUnrecorded(workspaceId));
    await this.runtime.whileStopping(workspaceId, async () => {
      const worktree = this.paths.worktree(workspaceId);
      const dirty = async (found: WorkspaceRecord) => {
        const { as, remote } = this.gitAs(found);
        return git.hasUnpushedWork(worktree, found.baseCommit, found.branch, as, remote);
      };
      if (workspace && !force && fs.existsSync(worktree) && (await dirty(workspace))) {
        throw new RequestError(409, `workspace ${workspaceId} has work that is not pushed; delete with force=true to discard it`);
      }
      if (workspace) this.update(workspaceId, { status: "deleting" });
      this.sessions.markStopped(workspaceId, true);
      await this.stopProvisioning(workspaceId);
      await this.runtime.stop(workspaceId);
      await this.removeFolder(workspaceId);
      await this.egress.remove(workspaceId);
      await this.users.remove(workspaceId);
      this.credentials.remove(workspaceId);
      this.sessions.forgetWorkspace(workspaceId);
      this.workspaces.delete(workspaceId);
    });
  }
}
