/**
 * The React Query cache as the live streams fill it. Keys: `["tasks"]` holds the `TaskList`,
 * `["task", id]` holds one `TaskDetail`, `["nodes", {all}]` a `NodeList` and
 * `["errors", {kind}]` an `ErrorList`.
 */
import { hashKey, queryOptions, type QueryClient, type QueryKey } from "@tanstack/react-query";
import type { ErrorKind, ErrorList, LiveMessage, NodeList, NodeView, TaskDetail, TaskList, TaskSummary } from "@/lib/contracts/api";
import { fetchErrors, fetchNodes, fetchTask, fetchTasks } from "./api";
import { listedSummary } from "./candidates";

export const taskKeys = {
  list: () => ["tasks"] as const,
  detail: (id: string) => ["task", id] as const,
};

export const nodeKeys = {
  all: () => ["nodes"] as const,
  list: (all: boolean) => ["nodes", { all }] as const,
};

export const errorKeys = {
  list: (kind: ErrorKind | null) => ["errors", { kind }] as const,
};

// How many live writes each key has had, per client: a fetch that started before a live write
// returns older data than the cache holds, so the cache wins.
const liveWrites = new WeakMap<QueryClient, Map<string, number>>();

function writesOf(client: QueryClient): Map<string, number> {
  let writes = liveWrites.get(client);
  if (!writes) liveWrites.set(client, (writes = new Map()));
  return writes;
}

function writeLive<T>(client: QueryClient, key: QueryKey, data: T) {
  client.setQueryData(key, data);
  const writes = writesOf(client);
  const hash = hashKey(key);
  writes.set(hash, (writes.get(hash) ?? 0) + 1);
}

/** Fetches for `key`, unless a live message filled it while the request was out: then the cache is newer. */
async function fetchUnlessLive<T>(client: QueryClient, key: QueryKey, fetcher: () => Promise<T>): Promise<T> {
  const hash = hashKey(key);
  const before = writesOf(client).get(hash) ?? 0;
  const liveSince = () => (writesOf(client).get(hash) ?? 0) !== before;
  try {
    const fresh = await fetcher();
    const cached = client.getQueryData<T>(key);
    return liveSince() && cached !== undefined ? cached : fresh;
  } catch (error) {
    const cached = client.getQueryData<T>(key);
    if (liveSince() && cached !== undefined) return cached;
    throw error;
  }
}

export const tasksQuery = () =>
  queryOptions({
    queryKey: taskKeys.list(),
    queryFn: ({ client, signal }): Promise<TaskList> => fetchUnlessLive(client, taskKeys.list(), () => fetchTasks(signal)),
  });

export const taskQuery = (id: string) =>
  queryOptions({
    queryKey: taskKeys.detail(id),
    queryFn: ({ client, signal }): Promise<TaskDetail> =>
      fetchUnlessLive(client, taskKeys.detail(id), () => fetchTask(id, signal)),
  });

export const nodesQuery = (all: boolean) =>
  queryOptions({
    queryKey: nodeKeys.list(all),
    queryFn: ({ client, signal }): Promise<NodeList> => fetchUnlessLive(client, nodeKeys.list(all), () => fetchNodes(all, signal)),
  });

export const errorsQuery = (kind: ErrorKind | null) =>
  queryOptions({
    queryKey: errorKeys.list(kind),
    queryFn: ({ client, signal }): Promise<ErrorList> => fetchUnlessLive(client, errorKeys.list(kind), () => fetchErrors(kind, signal)),
  });

/** A nodes stream's list: it is always the whole list (of that stream's `all`). */
export const writeLiveNodes = (client: QueryClient, all: boolean, nodes: NodeView[]) =>
  writeLive<NodeList>(client, nodeKeys.list(all), { nodes });

/** An errors stream's list: the newest errors of that stream's kind, and the counts. */
export const writeLiveErrors = (client: QueryClient, kind: ErrorKind | null, list: ErrorList) =>
  writeLive<ErrorList>(client, errorKeys.list(kind), list);

/** New tasks go on top; a known task is replaced where it is (the list is ordered by creation). */
export function upsertSummary(list: TaskList, summary: TaskSummary): TaskList {
  const index = list.tasks.findIndex((task) => task.id === summary.id);
  if (index === -1) return { tasks: [summary, ...list.tasks] };
  const tasks = list.tasks.slice();
  tasks[index] = summary;
  return { tasks };
}

/** Writes one task stream's message into the cache (the nodes and errors streams have their own writers). */
export function applyLiveMessage(client: QueryClient, message: LiveMessage) {
  if (message.type === "tasks") {
    writeLive<TaskList>(client, taskKeys.list(), { tasks: message.tasks });
    return;
  }
  if (message.type !== "task") return;
  const { task } = message;
  writeLive<TaskDetail>(client, taskKeys.detail(task.id), task);
  // Only a list that was loaded is updated: a one-row list must not pass for the whole list. A
  // candidate of best of N other than the first is not listed (the first stands for them all).
  const list = client.getQueryData<TaskList>(taskKeys.list());
  const summary = listedSummary(task);
  if (list && summary) writeLive<TaskList>(client, taskKeys.list(), upsertSummary(list, summary));
}
