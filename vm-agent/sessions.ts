/**
 * Agent sessions in ready workspaces: start (idempotent per session id and per Idempotency-Key),
 * follow-up prompts, interrupts, output shipping, and completion when the runtime coordinator
 * reports an exit (commit, push, one callback per turn). Every state change is a durable record
 * first, so a restarted vm-agent reports what the last one could not.
 */
import fs from "node:fs";
import path from "node:path";
import { callbackPaths, TurnDiff, type AgentSessionState, type AgentSessionStatus, type FollowUpPromptRequest, type InterruptAgentSessionRequest, type NodeHeartbeatCallback, type SessionSecrets, type StartAgentSessionRequest } from "../lib/contracts/vm-agent";
import { AGENT_HOME_FOLDERS, agentConversation, agentLaunch, agentReportedError, agentSummary, agentUsage } from "./agents/commands";
import { clipSummary } from "../lib/contracts/agents/adapter";
import { agentEnvironment } from "./agents/launch";
import type { TurnChecks } from "../lib/contracts/checks";
import { planChecks, runChecks } from "./checks";
import { commitAndPush, completionBody, completionMessageId, firstLine, joinErrors, runError } from "./completion";
import { BootLog } from "./boot-log";
import { turnDiff } from "./diff";
import type { InheritedEnvironment, VmAgentConfig } from "./config";
import { RequestError } from "./errors";
import type { WorkspaceGit } from "./workspace-git";
import { TICKET_VARIABLE, type GitCredentials } from "./git-credentials";
import type { Logger } from "./log";
import type { Outbox } from "./outbox";
import { OutputShipper } from "./output";
import { both, HashedSecrets, hashedRedactor, hashSecrets, redactor, type Redact } from "./redact";
import type { EgressLaunch } from "./egress/network";
import type { WorkspacePaths } from "./paths";
import type { RuntimeCoordinator, RuntimeRecord } from "./runtime/coordinator";
import { RuntimeError } from "./runtime/processes";
import { RecordStore } from "./state/records";
import { SessionRecord, type WorkspaceRecord } from "./state/schemas";
import { userEnvironment } from "./users";
import { withHomeHeld } from "./workspace-fs";

export type SessionConfig = Pick<
  VmAgentConfig,
  "SCRIPT_AGENT_COMMAND" | "CLAUDE_CODE_BIN" | "ANTHROPIC_BASE_URL" | "CLAUDE_ALLOWED_TOOLS" | "CODEX_BIN" | "OPENAI_BASE_URL" | "GIT_PUSH" | "OUTPUT_FLUSH_INTERVAL" | "AGENT_TIMEOUT" | "DIFF_MAX_BYTES" | "CHECK_TIMEOUT"
>;

export type SessionManagerOptions = {
  config: SessionConfig;
  stateDir: string;
  paths: WorkspacePaths;
  workspaces: RecordStore<typeof WorkspaceRecord>;
  runtime: RuntimeCoordinator;
  credentials: GitCredentials;
  /** How the daemon's own git runs in a workspace's worktree (as its user) and pushes from it. */
  gitAs: WorkspaceGit;
  /** The daemon's environment its children inherit (config.ts). */
  inherited: InheritedEnvironment;
  /**
   * The workspace's way out for a session of `agent` (egress/network.ts): its model API admitted,
   * its namespace and proxy made sure of; undefined for a workspace on the node's network.
   */
  network: (workspace: WorkspaceRecord, agent: SessionRecord["agent"]) => Promise<EgressLaunch | undefined>;
  outbox: Outbox;
  log: Logger;
};

export class SessionManager {
  private readonly sessions: RecordStore<typeof SessionRecord>;
  private readonly completing = new Map<string, Promise<void>>();
  /** Per session, the launch of its turn while it is on its way (an interrupt waits for it: then there is an agent to signal). */
  private readonly launching = new Map<string, Promise<unknown>>();
  private readonly shippers = new Map<string, OutputShipper>();
  /** Per session, what stops its running checks when its workspace is stopped. */
  private readonly checking = new Map<string, AbortController>();
  /**
   * Per session, what hides its secrets in what leaves the node (output, error text): the
   * workspace's GitHub token and ticket (its credential record) and the keys its turns were handed,
   * found by their hashes (`state/redactions/<session>.json`, owner-only), so a restarted daemon
   * hides them too without keeping any key at rest. Built again from disk when not in memory.
   */
  private readonly redactors = new Map<string, Redact>();
  private readonly redactions: RecordStore<typeof HashedSecrets>;
  private closed = false;

  constructor(private readonly options: SessionManagerOptions) {
    this.sessions = new RecordStore(path.join(options.stateDir, "sessions"), SessionRecord);
    this.redactions = new RecordStore(path.join(options.stateDir, "redactions"), HashedSecrets, { ownerOnly: true });
  }

  /** After a restart: interrupted reports go out again, running sessions ship their output again. */
  startup() {
    for (const { value } of this.sessions.list()) {
      if (value.status === "completing") this.inBackground("reporting a session", this.report(value));
      if (value.status === "running") this.shipOutput(value);
    }
  }

  shutdown() {
    this.closed = true;
    for (const shipper of this.shippers.values()) shipper.stop(false);
    this.shippers.clear();
  }

  /** The log for lines about one session: each carries its id, its workspace's and its task's. */
  private logFor(session: Pick<SessionRecord, "workspaceId" | "sessionId">) {
    const taskId = this.options.workspaces.get(session.workspaceId)?.taskId;
    return this.options.log.child({ workspaceId: session.workspaceId, sessionId: session.sessionId, ...(taskId ? { taskId } : {}) });
  }

  /** Work nobody awaits: a failure is logged (unless the daemon is shutting down), never unhandled. */
  private inBackground(what: string, work: Promise<unknown>) {
    work.catch((error: unknown) => {
      if (!this.closed) this.options.log.error(`${what} failed`, { error: String(error) });
    });
  }

  /** The runtime saw an agent exit (or vanish, or time out): complete its turn in the background. */
  onExit(record: RuntimeRecord) {
    this.inBackground("completing a session", this.complete(record));
  }

  /** Starts a session in a ready workspace; a repeat (same session id, or same Idempotency-Key) starts nothing. */
  async start(workspace: WorkspaceRecord, sessionId: string, request: StartAgentSessionRequest, idempotencyKey?: string): Promise<{ status: "running" }> {
    if (idempotencyKey) {
      const prior = this.sessions.list().find((s) => s.value.idempotencyKey === idempotencyKey)?.value;
      if (prior && (prior.sessionId !== sessionId || prior.workspaceId !== workspace.id)) {
        throw new RequestError(422, `Idempotency-Key was already used to start session ${prior.sessionId}`, "Idempotency-Key");
      }
    }
    const existing = this.sessions.get(sessionId);
    if (existing) {
      if (existing.workspaceId !== workspace.id) throw new RequestError(409, `session ${sessionId} belongs to another workspace`);
      return { status: "running" };
    }
    if (workspace.status !== "running") throw new RequestError(409, `workspace ${workspace.id} is ${workspace.status}, not running`);
    const session: SessionRecord = {
      sessionId,
      workspaceId: workspace.id,
      agent: request.agent,
      ...(request.model ? { model: request.model } : {}),
      callbackToken: request.callbackToken,
      status: "running",
      turn: 1,
      promptFirstLine: firstLine(request.prompt),
      outputOffset: 0,
      turnLogStart: 0,
      ...(request.checks ? { checks: request.checks } : {}),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    };
    return this.launchTurn(session, workspace, request);
  }

  /**
   * A follow-up message to an idle session: the agent runs again in the same worktree and, when
   * its CLI keeps conversations, resumes the same one. 409 while the session is still working.
   */
  async prompt(workspace: WorkspaceRecord, sessionId: string, request: FollowUpPromptRequest): Promise<{ status: "running" }> {
    const session = this.sessions.get(sessionId);
    if (!session || session.workspaceId !== workspace.id) throw new RequestError(404, `session ${sessionId} not found`);
    // A resend of a prompt whose turn has started (the control plane retried its call): nothing new.
    if (request.turn !== undefined && session.turn >= request.turn) return { status: "running" };
    if (request.turn !== undefined && request.turn !== session.turn + 1) throw new RequestError(409, `session ${sessionId} is at turn ${session.turn}, not ${request.turn - 1}`, "turn");
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
    return this.launchTurn(next, workspace, request);
  }

  /**
   * Interrupts the session's running turn `request.turn` (the control plane's, for a task whose
   * spend budget ran out): the request is recorded on the session, then its agent gets SIGINT (and
   * is killed INTERRUPT_GRACE later if it still runs); its turn then ends as any other, as
   * interrupted (complete()). `interrupted` is false, and nothing is done, when that turn has
   * ended, is ending, was interrupted already or is not the current one: the control plane may
   * send it again. 404 when the session is not the workspace's.
   */
  async interrupt(workspace: WorkspaceRecord, sessionId: string, request: InterruptAgentSessionRequest): Promise<{ interrupted: boolean; status: AgentSessionStatus }> {
    const known = () => {
      const session = this.sessions.get(sessionId);
      if (!session || session.workspaceId !== workspace.id) throw new RequestError(404, `session ${sessionId} not found`);
      return session;
    };
    known();
    // A turn whose agent is still being started: its launch settles first, so there is an agent to signal.
    await this.launching.get(sessionId)?.catch(() => undefined);
    const interrupted = await this.interruptTurn(known(), request.turn, request.reason);
    if (interrupted) this.logFor(known()).info("turn interrupted", { turn: request.turn, reason: request.reason });
    return { interrupted, status: known().status };
  }

  /**
   * Has the runtime interrupt the session's agent when `turn` is its running turn (and not ending
   * yet): the interrupt is recorded first, unless it was already (then the runtime signals only an
   * agent that was not signalled yet, and arms its kill). True when it was recorded now.
   */
  private async interruptTurn(session: Pick<SessionRecord, "workspaceId" | "sessionId">, turn: number, reason: string): Promise<boolean> {
    const { sessionId } = session;
    let recorded = false;
    await this.options.runtime.interrupt(session.workspaceId, sessionId, () => {
      // Synchronous with the runtime's check that the agent still runs: no exit is collected between the two.
      const current = this.sessions.get(sessionId);
      if (!current || current.turn !== turn || current.status !== "running" || this.completing.has(sessionId)) return false;
      if (current.interrupt) return true;
      // Before the signal: a daemon restarted from here on still ends the turn as interrupted.
      this.sessions.put(sessionId, { ...current, interrupt: { reason } });
      recorded = true;
      return true;
    });
    return recorded;
  }

  /**
   * After a restart, once the runtime adopted its agents: a turn interrupted before it whose agent
   * may not have been signalled (a crash between the record and the signal) is signalled now, and
   * the kill of one that was is armed again.
   */
  async resumeInterrupts() {
    for (const { value } of this.sessions.list()) {
      if (value.status === "running" && value.interrupt) await this.interruptTurn(value, value.turn, value.interrupt.reason);
    }
  }

  /** Marks the workspace's sessions stopped (with `discard`, all of them and their pending output) and stops shipping. */
  markStopped(workspaceId: string, discard: boolean) {
    for (const { value } of this.sessions.list()) {
      if (value.workspaceId !== workspaceId || (!discard && value.status !== "running")) continue;
      this.checking.get(value.sessionId)?.abort();
      this.stopShipping(value.sessionId, !discard);
      this.sessions.put(value.sessionId, { ...value, status: "stopped" });
    }
  }

  /** The sessions still at work (running, or completing their turn), as the heartbeat lists them. */
  active(): NodeHeartbeatCallback["sessions"] {
    return this.sessions.list().flatMap(({ value: { sessionId, workspaceId, status } }) =>
      status === "running" || status === "completing" ? [{ sessionId, workspaceId, status }] : [],
    );
  }

  /** What the node knows of a session (404 when it is not the workspace's); a completed turn carries its completion callback's body. */
  state(workspace: WorkspaceRecord, sessionId: string): AgentSessionState {
    const session = this.sessions.get(sessionId);
    if (!session || session.workspaceId !== workspace.id) throw new RequestError(404, `session ${sessionId} not found`);
    const { workspaceId, status, turn } = session;
    return { sessionId, workspaceId, status, turn, ...(status === "completed" ? { completion: this.completion(session) } : {}) };
  }

  forgetWorkspace(workspaceId: string) {
    for (const { value } of this.sessions.list()) {
      if (value.workspaceId !== workspaceId) continue;
      this.sessions.delete(value.sessionId);
      this.redactions.delete(value.sessionId);
      this.redactors.delete(value.sessionId);
    }
  }

  private redact(session: Pick<SessionRecord, "sessionId" | "workspaceId">, text: string) {
    let redact = this.redactors.get(session.sessionId);
    if (!redact) {
      redact = both(redactor(this.options.credentials.secrets(session.workspaceId)), hashedRedactor(this.redactions.get(session.sessionId)));
      this.redactors.set(session.sessionId, redact);
    }
    return redact(text);
  }

  /** Starts the turn's agent; while its launch is on its way, an interrupt of the session waits for it. */
  private launchTurn(turn: SessionRecord, workspace: WorkspaceRecord, request: { prompt: string; secrets: SessionSecrets; forgeHosts?: string[] }): Promise<{ status: "running" }> {
    const launch = this.launchTurnNow(turn, workspace, request);
    this.launching.set(turn.sessionId, launch);
    const settled = () => {
      if (this.launching.get(turn.sessionId) === launch) this.launching.delete(turn.sessionId);
    };
    launch.then(settled, settled);
    return launch;
  }

  private async launchTurnNow(turn: SessionRecord, workspace: WorkspaceRecord, request: { prompt: string; secrets: SessionSecrets; forgeHosts?: string[] }): Promise<{ status: "running" }> {
    const { prompt, secrets } = request;
    const { paths, config, runtime, credentials } = this.options;
    const { workspaceId, sessionId } = turn;
    const logFile = paths.logFile(workspaceId, sessionId);
    // A new turn's output starts where the log ends now.
    const logEnd = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    const session: SessionRecord = { ...turn, outputOffset: logEnd, lastOutputOffset: undefined, turnLogStart: logEnd, usage: undefined, summary: undefined, checkResult: undefined, interrupt: undefined };
    this.sessions.put(sessionId, session);
    // The request's GitHub token (if any) is the workspace's from now on; the agent's git asks for it with the ticket.
    const ticket = credentials.forTurn(workspace, secrets.GITHUB_TOKEN, request.forgeHosts);
    // Before the agent starts: what it is handed is hidden from here on, by this daemon and the next.
    this.redactions.put(sessionId, hashSecrets(Object.values(secrets), this.redactions.get(sessionId)));
    this.redactors.delete(sessionId);
    // The launch prepares the CLI's folder in the HOME as root: only while the HOME is held (workspace-fs.ts).
    const home = paths.home(workspaceId);
    const resolved = withHomeHeld(home, workspace.user, AGENT_HOME_FOLDERS, () => agentLaunch(session.agent, { prompt, sessionId, home, settings: config, secrets, resume: session.conversationId, model: session.model, inherited: this.options.inherited }));
    if ("unavailable" in resolved) {
      const failed = { ...session, status: "completing" as const, exitCode: null, commit: null, pushed: false, error: resolved.unavailable };
      this.sessions.put(sessionId, failed);
      this.inBackground("reporting a session", this.report(failed));
      return { status: "running" };
    }
    // Shipping starts before the launch: a quick agent may exit (and complete) before launch returns.
    this.shipOutput(session);
    try {
      const network = await this.options.network(workspace, session.agent);
      // Git never prompts on the agent's terminal: without credentials it fails, as anywhere unattended.
      const env = { ...resolved.env, ...userEnvironment(workspace.user, paths.home(workspaceId)), ...network?.env, [TICKET_VARIABLE]: ticket, GIT_TERMINAL_PROMPT: "0" };
      const envFile = paths.envFile(workspaceId, sessionId);
      // The prompt waits beside the environment file (the workspace's folder, the daemon's own) for the launcher.
      const stdin = resolved.stdin === undefined ? {} : { stdin: { file: path.join(path.dirname(envFile), `agent-${sessionId}.prompt`), text: resolved.stdin } };
      const launch = { workspaceId, sessionId, cwd: paths.worktree(workspaceId), command: resolved.command, env, envFile, logFile, ...stdin };
      const start = () => runtime.launch({ ...launch, ...(workspace.user ? { user: workspace.user } : {}), ...(network ? { namespace: network.namespace } : {}) });
      // The first turn's start is the workspace's last boot stage: its environment file and the agent's session.
      const record = session.turn === 1 ? await new BootLog(workspaceId, session.callbackToken, this.options.outbox, config.OUTPUT_FLUSH_INTERVAL).stage("environment", start, "the agent's environment file and its tmux session") : await start();
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

  /** Starts shipping the session's output from where the last shipment ended. */
  private shipOutput(session: SessionRecord) {
    this.shippers.get(session.sessionId)?.stop(false);
    const target = { ...session, logFile: this.options.paths.logFile(session.workspaceId, session.sessionId) };
    const shipper = new OutputShipper({
      target,
      outbox: this.options.outbox,
      flushIntervalMs: this.options.config.OUTPUT_FLUSH_INTERVAL,
      offset: session.outputOffset,
      resendFrom: session.lastOutputOffset,
      redact: (line) => this.redact(session, line),
      onShipped: (start, end) => {
        const current = this.sessions.get(session.sessionId);
        if (current) this.sessions.put(session.sessionId, { ...current, outputOffset: end, lastOutputOffset: start });
      },
      log: this.options.log,
    });
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

  /** The session's log from `from` (the current turn's start): what this turn's agent wrote. */
  private readLog(record: RuntimeRecord, from: number) {
    try {
      const log = fs.readFileSync(this.options.paths.logFile(record.workspaceId, record.sessionId));
      return log.subarray(Math.min(from, log.length)).toString("utf8");
    } catch {
      return "";
    }
  }

  /** An agent exited (or vanished, or timed out): commit, push, and report once. Safe to call again after a crash. */
  private complete(record: RuntimeRecord): Promise<void> {
    const running = this.completing.get(record.sessionId);
    if (running) return running;
    const work = (async () => {
      const { runtime, workspaces, config, paths } = this.options;
      const session = this.sessions.get(record.sessionId);
      if (!session || session.status === "stopped" || session.status === "completed") return runtime.forget(record);
      if (session.status === "completing") return this.report(session).then(() => runtime.forget(record));
      const workspace = workspaces.get(record.workspaceId);
      // Interrupted at the control plane's request (recorded before its agent was signalled).
      const interrupted = session.interrupt !== undefined;
      // Only this turn's part: an earlier turn's error, conversation, usage or summary is not this one's.
      const log = this.readLog(record, session.turnLogStart);
      const tail = log.trim().split("\n").slice(-10).join("\n");
      // A CLI with an event stream says itself how its run ended; that beats guessing from output.
      const reported = agentReportedError(session.agent, log);
      // An interrupted agent's end is the interrupt's doing (SIGINT's exit code 130, its CLI's own
      // "aborted" result, no code once killed after its grace): no error of the turn.
      const agentError = interrupted ? undefined : joinErrors(runError(record, config.AGENT_TIMEOUT, tail ? `: ${tail}` : ""), reported);
      const committed = await commitAndPush(paths.worktree(record.workspaceId), {
        subject: session.promptFirstLine,
        sessionId: session.sessionId,
        attribution: workspace?.attribution,
        branch: workspace?.branch,
        push: config.GIT_PUSH === "auto",
        // A workspace whose record is gone has no user to run git as: refused as root, as before.
        ...(workspace ? this.options.gitAs(workspace) : { as: { inherited: this.options.inherited } }),
      });
      if (workspace && committed.commit) await this.saveDiff(workspace, session);
      // The checks run on what the turn committed; a failed agent's turn fails without them. Their
      // lines go to the session's log while its output is still shipped, so the page shows them live.
      // Nor after an interrupted turn: it was cut short because its task's spend budget is spent, and
      // checks on its half-done work would fail, which the control plane hands back to the agent as
      // another turn the budget no longer allows. The next turn, once the budget is raised, runs them.
      const checkResult = workspace && committed.commit && !agentError && !interrupted ? await this.runTurnChecks(workspace, session) : undefined;
      const lastOutput = this.stopShipping(session.sessionId, true);
      // Stopped while its checks ran (the task was cancelled): it stays stopped, and reports nothing.
      if (this.sessions.get(session.sessionId)?.status === "stopped") return runtime.forget(record);
      const found = joinErrors(agentError, committed.error);
      const error = found && this.redact(session, found);
      const current = workspaces.get(record.workspaceId);
      // An interrupted agent killed after its grace by a daemon that died before recording it left no exit code either: no fault of the node.
      if (record.state === "vanished" && current && !interrupted) workspaces.put(current.id, { ...current, status: "error", error });
      const completing: SessionRecord = {
        ...(this.sessions.get(session.sessionId) ?? session),
        status: "completing",
        exitCode: record.exitCode ?? null,
        commit: committed.commit,
        pushed: committed.pushed,
        pushFailed: committed.pushFailed,
        error,
        generation: record.generation,
        conversationId: agentConversation(session.agent, log) ?? session.conversationId,
        usage: agentUsage(session.agent, log),
        summary: this.summaryOf(session, log),
        ...(checkResult ? { checkResult } : {}),
      };
      this.sessions.put(session.sessionId, completing);
      // Every batch of the output lands before the completion: they share one outbox lane, so the
      // last one settling means all have (delivered, unless one was refused or given up).
      if (lastOutput) await this.options.outbox.settled(lastOutput);
      await this.report(completing);
      runtime.forget(record);
    })().finally(() => this.completing.delete(record.sessionId));
    this.completing.set(record.sessionId, work);
    return work;
  }

  /** The agent's closing summary as it may leave the node: redacted whole first, so the clip cannot cut a secret out of the redactor's sight. */
  private summaryOf(session: SessionRecord, log: string): string | undefined {
    const summary = agentSummary(session.agent, log);
    return summary === undefined ? undefined : clipSummary(this.redact(session, summary));
  }

  /**
   * The repository's checks on the turn's commit (checks.ts), as the workspace's user in its
   * namespace, with the agent's environment but none of its secrets; their output is appended to
   * the session's log (the daemon's file) between marker lines. A check that cannot be planned or
   * run is a failed check, never a failed turn.
   */
  private async runTurnChecks(workspace: WorkspaceRecord, session: SessionRecord): Promise<TurnChecks> {
    const { paths, config } = this.options;
    const worktree = paths.worktree(workspace.id);
    const logFile = paths.logFile(workspace.id, session.sessionId);
    const writeLine = (line: string) => fs.appendFileSync(logFile, `${line}\n`);
    const stop = new AbortController();
    this.checking.set(session.sessionId, stop);
    try {
      const plan = await planChecks(worktree, session.checks, workspace.user);
      if (plan.commands.length === 0) return { source: plan.source, commands: [], passed: !plan.error, ...(plan.error ? { error: plan.error } : {}) };
      const network = await this.options.network(workspace, session.agent);
      const env = agentEnvironment(this.options.inherited, { GIT_TERMINAL_PROMPT: "0", ...userEnvironment(workspace.user, paths.home(workspace.id)), ...network?.env });
      const checks = await runChecks(plan, { worktree, env, ...(workspace.user ? { user: workspace.user } : {}), ...(network ? { network } : {}), timeoutMs: config.CHECK_TIMEOUT, writeLine, signal: stop.signal });
      this.logFor(session).info("checks ran", { source: checks.source, passed: checks.passed, commands: checks.commands.length });
      // What leaves the node is redacted like the agent's own output.
      return { ...checks, commands: checks.commands.map((c) => ({ ...c, command: this.redact(session, c.command), outputTail: this.redact(session, c.outputTail) })) };
    } catch (error) {
      const message = this.redact(session, `the checks could not be run: ${(error as Error).message}`);
      this.logFor(session).warn("checks could not be run", { error: message });
      return { source: "none", commands: [], passed: false, error: message.slice(0, 2_000) };
    } finally {
      this.checking.delete(session.sessionId);
    }
  }

  /** Reads the branch's diff against its base and keeps it for the completion; a diff that cannot be read is logged, not fatal. */
  private async saveDiff(workspace: WorkspaceRecord, session: SessionRecord) {
    const { paths, config } = this.options;
    try {
      const diff = await turnDiff(paths.worktree(workspace.id), { baseBranch: workspace.baseBranch, baseCommit: workspace.baseCommit, as: this.options.gitAs(workspace).as, maxBytes: config.DIFF_MAX_BYTES });
      fs.writeFileSync(paths.diffFile(workspace.id, session.sessionId, session.turn), JSON.stringify(diff), { mode: 0o600 });
    } catch (error) {
      this.logFor(session).warn("could not read the turn's diff", { error: String(error) });
    }
  }

  private readDiff(session: SessionRecord): TurnDiff | undefined {
    try {
      return TurnDiff.parse(JSON.parse(fs.readFileSync(this.options.paths.diffFile(session.workspaceId, session.sessionId, session.turn), "utf8")));
    } catch {
      return undefined;
    }
  }

  /** The completion callback's body for the session's turn: what report() sends and state() shows. */
  private completion(session: SessionRecord) {
    const workspace = this.options.workspaces.get(session.workspaceId);
    return completionBody(session, workspace?.branch ?? "unknown", completionMessageId(session), this.readDiff(session));
  }

  /** Enqueues the completion callback under a message id fixed per session turn, then marks it sent. */
  private async report(session: SessionRecord) {
    const body = this.completion(session);
    this.options.outbox.enqueue(body.messageId, callbackPaths.agentCompleted(session.sessionId), session.callbackToken, body);
    this.sessions.put(session.sessionId, { ...session, status: "completed" });
    this.logFor(session).info("agent session finished", { outcome: body.outcome, commit: session.commit, ...(body.interrupted ? { interrupted: true } : {}) });
  }
}
