/**
 * How every pipeline stage opens: one read of what it acts on, and one answer when there is nothing
 * to act on. A stage of a task that ended (cancelled, or failed by a callback) only cleans up
 * (ENDED); a stage whose node, workspace or session is gone, or is no longer the task's, is `lost`
 * (the run leaves the node, or fails the task when its agent was working). Each stage then decides
 * from the rows it was handed, so none reads the task or checks "node gone" by hand.
 */
import type { Runtime } from "../runtime";
import { GONE_NODE_STATUSES } from "../contracts/statuses";
import { getNode } from "../nodes/lifecycle";
import { clientForNode, VmAgentRequestError, type VmAgentClient } from "../nodes/vm-agent-client";
import { getSession } from "../sessions/lifecycle";
import { getTask } from "../tasks/queries";
import { isTerminal } from "../tasks/state-machine";
import { getWorkspace } from "../workspaces/lifecycle";

/** A wait's check found nothing to act on yet. */
export const PENDING = "pending" as const;
/** The task ended (cancelled, or failed by a callback): the run only cleans up. */
export const ENDED = "ended" as const;
/** The task's node is gone. */
export const LOST = "lost" as const;

type Task = NonNullable<Awaited<ReturnType<typeof getTask>>>;
type Node = NonNullable<Awaited<ReturnType<typeof getNode>>>;
type Workspace = NonNullable<Awaited<ReturnType<typeof getWorkspace>>>;
type Session = NonNullable<Awaited<ReturnType<typeof getSession>>>;

/** What a stage acts on besides its task: the task's node, its workspace (and that one's node), or its agent session (and that one's workspace and node). */
export type StageOn = { node: string } | { workspace: string } | { session: string };

/** A call to the node's daemon; a node that cannot be reached and is gone (or going) answers LOST, anything else throws for a retry. */
export type NodeCall = <T>(call: (client: VmAgentClient) => Promise<T>) => Promise<T | typeof LOST>;

type Reached<O> = { lost: false; node: Node; call: NodeCall } & (O extends { workspace: string } | { session: string } ? { workspace: Workspace } : unknown) &
  (O extends { session: string } ? { session: Session } : unknown);
/** Something the stage needs is gone; the session is there when only its node or workspace is (an ended turn still counts). */
type Unreached = { lost: true; session?: Session };

export type Stage<O extends StageOn> = { task: Task } & (Reached<O> | Unreached);
/** What the implementation answers, whatever `on` names (each overload says which parts are there). */
type AnyStage = { task: Task } | ({ task: Task } & Unreached) | { task: Task; lost: false; node: Node; call: NodeCall; workspace?: Workspace; session?: Session };

/** Where a stage reads the person's secrets for the node (lib/secrets/agent-keys.ts). */
export const keySource = (rt: Runtime) => ({ executor: rt.db, ring: rt.secrets, config: rt.config });

const isGone = (node: Node) => GONE_NODE_STATUSES.includes(node.status);

/** Wraps calls to `node`'s daemon (see NodeCall). */
export function nodeCaller(rt: Runtime, node: Node): NodeCall {
  return async (call) => {
    try {
      return await call(clientForNode(rt, node));
    } catch (error) {
      if (error instanceof VmAgentRequestError && error.status === undefined) {
        const now = await getNode(rt.db, node.id);
        if (!now || isGone(now) || rt.provider.isRunning?.(now) === false) return LOST;
      }
      throw error;
    }
  };
}

/** Opens a stage of `taskId`: ENDED when the task has ended, else the task and what `on` names, or `lost: true` when that is gone. */
export async function openStage(rt: Runtime, taskId: string): Promise<{ task: Task } | typeof ENDED>;
export async function openStage<O extends StageOn>(rt: Runtime, taskId: string, on: O): Promise<Stage<O> | typeof ENDED>;
export async function openStage(rt: Runtime, taskId: string, on?: StageOn): Promise<AnyStage | typeof ENDED> {
  const task = await getTask(rt.db, taskId);
  if (!task || isTerminal(task.status)) return ENDED;
  if (!on) return { task };
  const lost = (session?: Session): AnyStage => ({ task, lost: true, ...(session ? { session } : {}) });

  const session = "session" in on ? await getSession(rt.db, on.session) : undefined;
  if ("session" in on && !session) return lost();
  const workspaceId = "workspace" in on ? on.workspace : session?.workspaceId;
  const workspace = workspaceId ? await getWorkspace(rt.db, workspaceId) : undefined;
  if (workspaceId && !workspace) return lost(session);
  // A stage named by its workspace or node acts for the task only while the task is still there.
  if ("workspace" in on && task.workspaceId !== on.workspace) return lost();
  if ("node" in on && task.nodeId !== on.node) return lost();
  const node = await getNode(rt.db, "node" in on ? on.node : workspace!.nodeId);
  if (!node || isGone(node)) return lost(session);
  return { task, lost: false, node, call: nodeCaller(rt, node), ...(workspace ? { workspace } : {}), ...(session ? { session } : {}) };
}
