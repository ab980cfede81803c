/**
 * The daemon assembled in one place: every part (outbox, tmux, workspace users, egress, git
 * credentials, runtime coordinator, sessions, workspaces, heartbeat, HTTPS server) built from one
 * options object, and the start that main.ts and the tests both run: adopt what a previous run
 * left, serve, report ready, then send heartbeats.
 */
import fs from "node:fs";
import { defaultTmuxSocket, nodeWorkDirLayout } from "../lib/contracts/node-layout";
import { callbackPaths, CONTRACT_VERSION, nodeEndpoint, type NodeHeartbeatCallback, type NodeReadyCallback } from "../lib/contracts/vm-agent";
import { modelApiHost } from "./agents/commands";
import type { InheritedEnvironment, VmAgentConfig } from "./config";
import { EgressNetwork } from "./egress/network";
import { GitCredentials } from "./git-credentials";
import { HealthSampler } from "./health";
import { Heartbeat } from "./heartbeat";
import type { Logger } from "./log";
import { Outbox } from "./outbox";
import { WorkspacePaths } from "./paths";
import { RuntimeCoordinator } from "./runtime/coordinator";
import { Tmux } from "./runtime/tmux";
import { createVmAgentServer, VM_AGENT_VERSION } from "./server";
import { SessionManager } from "./sessions";
import { RecordStore } from "./state/records";
import { WorkspaceRecord } from "./state/schemas";
import { WorkspaceUsers } from "./users";
import { workspaceGit } from "./workspace-git";
import { WorkspaceManager } from "./workspaces";

export type DaemonOptions = {
  config: VmAgentConfig;
  /** What its children may see of the daemon's own environment (config.ts inheritedEnvironment). */
  inherited: InheritedEnvironment;
  log: Logger;
  /** The source of the callbacks' retry jitter, in [0, 1): Math.random unless a test pins it. */
  retryRandom?: () => number;
};

/**
 * One ready report at a time, under one id: a previous run's that is still undelivered names a port
 * or a certificate this run may no longer serve, and arriving after this run's it would pin a stale
 * one. It is dropped before the outbox resumes the rest; this run's own is sent once it listens.
 */
export const READY_MESSAGE_ID = "node-ready";

/** Builds every part of the daemon; nothing runs until start(). */
export function assembleDaemon(options: DaemonOptions) {
  const { config, inherited, log } = options;
  const layout = nodeWorkDirLayout(config.VM_AGENT_WORK_DIR);
  // Workspace users pass through the work folder to their own (0750) folder, and see nothing else:
  // the daemon's state and outbox are its own.
  for (const [dir, mode] of [[layout.root, 0o711], [layout.workspaces, 0o711], [layout.state, 0o700]] as const) {
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, mode);
  }
  const outbox = new Outbox(
    layout.outbox,
    config.CONTROL_PLANE_URL,
    {
      maxAttempts: config.CALLBACK_MAX_ATTEMPTS,
      maxElapsedMs: config.CALLBACK_MAX_ELAPSED,
      baseDelayMs: config.CALLBACK_BASE_DELAY,
      maxDelayMs: config.CALLBACK_MAX_DELAY,
      requestTimeoutMs: config.CALLBACK_REQUEST_TIMEOUT,
      ...(options.retryRandom ? { random: options.retryRandom } : {}),
    },
    log,
  );
  const tmux = new Tmux(config.TMUX_SOCKET ?? defaultTmuxSocket(config.NODE_ID), inherited);
  const paths = new WorkspacePaths(layout.root);
  const workspaces = new RecordStore(layout.workspaceRecords, WorkspaceRecord);
  const credentials = new GitCredentials(layout.state, layout.daemonEndpoint, config.VM_AGENT_HELPERS_DIR);
  const users = new WorkspaceUsers(config.NODE_ID, config.WORKSPACE_USERS, layout.root, { claims: config.WORKSPACE_UID_CLAIMS, min: config.WORKSPACE_UID_MIN }, config.VM_AGENT_HELPERS_DIR);
  const egress = new EgressNetwork({ config, stateDir: layout.state, workspaces, outbox, log, credential: (workspaceId, ticket, request) => credentials.answer(workspaceId, ticket, request) });
  const gitAs = workspaceGit({ paths, users, credentials, inherited });
  // The coordinator reports exits to the sessions (made next), which launch through the coordinator.
  const runtime = new RuntimeCoordinator({
    nodeId: config.NODE_ID,
    daemonPath: inherited.PATH ?? "",
    tmux,
    stateDir: layout.state,
    log,
    stopGraceMs: config.STOP_GRACE,
    interruptGraceMs: config.INTERRUPT_GRACE,
    agentTimeoutMs: config.AGENT_TIMEOUT,
    onExit: (record) => sessions.onExit(record),
  });
  const sessions = new SessionManager({
    config,
    stateDir: layout.state,
    paths,
    workspaces,
    runtime,
    credentials,
    gitAs,
    inherited,
    network: async (workspace, agent) => {
      egress.admitModelHost(workspace.id, modelApiHost(agent, config));
      return egress.ensure(workspaces.get(workspace.id) ?? workspace, workspace.user);
    },
    outbox,
    log,
  });
  const manager = new WorkspaceManager({ config, inherited, paths, workspaces, credentials, users, egress, runtime, sessions, gitAs, outbox, log });
  const sampler = new HealthSampler(config.VM_AGENT_WORK_DIR);
  const heartbeat = new Heartbeat({
    url: new URL(callbackPaths.nodeHeartbeat(config.NODE_ID), config.CONTROL_PLANE_URL),
    token: config.NODE_CALLBACK_TOKEN,
    intervalMs: config.HEARTBEAT_INTERVAL,
    // The control plane answers again: what the outbox gave up on while it was away goes now.
    onDelivered: () => outbox.retryGivenUp(),
    requestTimeoutMs: config.CALLBACK_REQUEST_TIMEOUT,
    log,
    body: async (): Promise<NodeHeartbeatCallback> => ({
      ...(await sampler.sample()),
      workspaces: manager.count,
      // The contract's bound; a node never holds that many, but a heartbeat must stay valid.
      sessions: manager.sessions.active().slice(0, 1_000),
      version: VM_AGENT_VERSION,
      contractVersion: CONTRACT_VERSION,
    }),
  });
  const server = createVmAgentServer({ config, manager, log });
  return { config, outbox, tmux, manager, heartbeat, server };
}

export type Daemon = Awaited<ReturnType<typeof startDaemon>>;

/**
 * Starts the daemon: its certificate and the control plane's key first (a bad one fails the start),
 * then it adopts what a previous run left (records, tmux sessions, outbox), serves HTTPS, reports
 * ready through the outbox, and sends heartbeats. Throws when it cannot start.
 */
export async function startDaemon(options: DaemonOptions) {
  const { config, log } = options;
  const parts = assembleDaemon(options);
  const { outbox, manager, server, heartbeat } = parts;
  outbox.discard(READY_MESSAGE_ID);
  const identity = await server.prepare();
  await manager.startup();
  outbox.start();
  const port = await server.listen();
  // Agents' credential helpers find the daemon here, also agents adopted from a run on another port.
  manager.credentials.publishEndpoint(config.VM_AGENT_HOST, port, identity.certificate);
  const isolation = manager.isolation();
  log[isolation.mode === "users" ? "info" : "warn"]("vm-agent listening", {
    host: config.VM_AGENT_HOST,
    port,
    certificateFingerprint: identity.fingerprint,
    workspaceUsers: isolation.mode,
    ...(isolation.reason ? { why: isolation.reason } : {}),
  });
  outbox.enqueue(READY_MESSAGE_ID, callbackPaths.nodeReady(config.NODE_ID), config.NODE_CALLBACK_TOKEN, {
    endpoint: nodeEndpoint(config.VM_AGENT_PUBLIC_HOST ?? config.VM_AGENT_HOST, port),
    certificateFingerprint: identity.fingerprint,
    version: VM_AGENT_VERSION,
    contractVersion: CONTRACT_VERSION,
    isolation,
  } satisfies NodeReadyCallback);
  // The first heartbeat follows the ready callback: the control plane learns the endpoint, then the load.
  heartbeat.start();
  return {
    ...parts,
    port,
    certificateFingerprint: identity.fingerprint,
    /** Whether each workspace runs as its own user, in its own network (as the ready callback said). */
    isolation: () => manager.isolation(),
    /** Stops serving and detaches; agents keep running in tmux for the next start to adopt. */
    async close() {
      await heartbeat.stop();
      manager.shutdown();
      outbox.close();
      await server.close();
    },
  };
}
