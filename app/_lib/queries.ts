/** React Query hooks for reads and writes. Live streams (./live) keep the reads fresh. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ErrorKind, PickCandidateRequest, SendMessageRequest, TaskDetail } from "@/lib/contracts/api";
import {
  cancelTask,
  createApiToken,
  createMachineRegistration,
  createTask,
  destroyNode,
  fetchApiTokens,
  fetchInvitations,
  createInvitation,
  removeInvitation,
  fetchMe,
  fetchNetworkSettings,
  putNetworkSettings,
  fetchBudgetSettings,
  putBudgetSettings,
  setTaskBudget,
  fetchTaskDiff,
  pushHeldWork,
  discardHeldWork,
  fetchRepositoryBranches,
  finishTask,
  isNotFound,
  pickCandidate,
  retryTask,
  revokeApiToken,
  sendTaskMessage,
  deleteSecret,
  fetchSecrets,
  putSecret,
  signOut,
  localSignOut,
  startGithubSignIn,
  fetchUsage,
  type UsageScope,
} from "./api";
import { errorsQuery, nodeKeys, nodesQuery, taskKeys, taskQuery, tasksQuery } from "./cache";

/** The task list (`GET /api/tasks`), fetched once; `useLiveTasks` keeps it current. */
export const useTasks = () => useQuery(tasksQuery());

/** One task (`GET /api/tasks/{id}`), fetched once; `useLiveTask` keeps it current. A 404 is not retried. */
export const useTask = (id: string) =>
  useQuery({ ...taskQuery(id), retry: (failures, error) => !isNotFound(error) && failures < 2 });

export const useCreateTask = () => useMutation({ mutationFn: createTask });

/**
 * A change to one task (cancel, retry, a follow-up, finish now). The live stream brings the task's
 * new state; one read after success covers a stream that is down.
 */
function useTaskAction<I = void, R = unknown>(id: string, call: (input: I) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: () => client.invalidateQueries({ queryKey: taskKeys.detail(id) }),
  });
}

export const useCancelTask = (id: string) => useTaskAction(id, () => cancelTask(id));
export const useRetryTask = (id: string) => useTaskAction(id, () => retryTask(id));
export const useSendMessage = (id: string) => useTaskAction(id, (input: SendMessageRequest) => sendTaskMessage(id, input));
export const useFinishTask = (id: string) => useTaskAction(id, () => finishTask(id));
/**
 * Sets the task's budget: its answer is the task's budget at once (the live stream then brings the
 * task's release, and one read covers a stream that is down).
 */
export function useSetTaskBudget(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (budgetUsd: number) => setTaskBudget(id, budgetUsd),
    onSuccess: (budget) => {
      client.setQueryData<TaskDetail>(taskKeys.detail(id), (task) => (task ? { ...task, budget } : task));
      return client.invalidateQueries({ queryKey: taskKeys.detail(id) });
    },
  });
}
/**
 * Best of N: picks a candidate from the page of `id` (any of the group's). Its answer is the group at
 * once; the live stream brings the candidates' new states, and one read covers a stream that is down.
 */
export function usePickCandidate(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: PickCandidateRequest) => pickCandidate(id, input),
    onSuccess: (group) => {
      client.setQueryData<TaskDetail>(taskKeys.detail(id), (task) => (task ? { ...task, group } : task));
      return client.invalidateQueries({ queryKey: taskKeys.detail(id) });
    },
  });
}
export const usePushHeldWork = (id: string) => useTaskAction(id, () => pushHeldWork(id));
export const useDiscardHeldWork = (id: string) => useTaskAction(id, () => discardHeldWork(id));

/** A repository's branches for the submit form, once its name has stopped changing; kept a minute. */
export const useRepositoryBranches = (repository: string) =>
  useQuery({
    queryKey: ["repository-branches", repository],
    queryFn: ({ signal }) => fetchRepositoryBranches(repository, signal),
    enabled: repository.length > 0,
    staleTime: 60_000,
    retry: false,
  });

/** A task's diff with its patch, read once per head commit (a turn's diff never changes). */
export const useTaskDiff = (id: string, head: string) =>
  useQuery({ queryKey: [...taskKeys.detail(id), "diff", head], queryFn: ({ signal }) => fetchTaskDiff(id, signal), staleTime: Infinity });

/** The nodes (`GET /api/nodes`), fetched once; `useLiveNodes` keeps them current. */
export const useNodes = (all: boolean) => useQuery(nodesQuery(all));

/** The newest errors of `kind` (`GET /api/errors`), fetched once; `useLiveErrors` keeps them current. */
export const useErrors = (kind: ErrorKind | null) => useQuery(errorsQuery(kind));

/** Usage over the last `days` days (`GET /api/usage`); no live stream, so it is read again every minute while shown. */
export const useUsage = (days: number, scope: UsageScope, enabled = true) =>
  useQuery({ queryKey: ["usage", { days, scope }], queryFn: ({ signal }) => fetchUsage(days, scope, signal), enabled, refetchInterval: 60_000 });

export function useDestroyNode(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (force: boolean) => destroyNode(id, force),
    // The live stream brings the node's new state; one read covers a stream that is down.
    onSuccess: () => client.invalidateQueries({ queryKey: nodeKeys.all() }),
  });
}

/** Makes a machine's install command; the machine shows up in the node list (live) once it registers. */
export const useCreateMachineRegistration = () => useMutation({ mutationFn: createMachineRegistration });

export const accountKeys = {
  me: () => ["me"] as const,
  tokens: () => ["api-tokens"] as const,
  invitations: () => ["invitations"] as const,
  secrets: () => ["secrets"] as const,
  network: () => ["network-settings"] as const,
  budgets: () => ["budget-settings"] as const,
};

/** The signed-in person's secrets (`GET /api/secrets`): names and times, never values. */
export const useSecrets = () => useQuery({ queryKey: accountKeys.secrets(), queryFn: ({ signal }) => fetchSecrets(signal) });

export function usePutSecret() {
  const client = useQueryClient();
  return useMutation({ mutationFn: putSecret, onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.secrets() }) });
}

export function useDeleteSecret() {
  const client = useQueryClient();
  return useMutation({ mutationFn: deleteSecret, onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.secrets() }) });
}

/** The person's network settings (`GET /api/settings/network`): their default policy, allowed hosts and private ranges. */
export const useNetworkSettings = () => useQuery({ queryKey: accountKeys.network(), queryFn: ({ signal }) => fetchNetworkSettings(signal) });

/** Saves them; the answer (hosts as stored: lower-cased, de-duplicated) becomes the cached settings. */
export function useSaveNetworkSettings() {
  const client = useQueryClient();
  return useMutation({ mutationFn: putNetworkSettings, onSuccess: (saved) => client.setQueryData(accountKeys.network(), saved) });
}

/** The person's spend limits and what they spent today and this month (`GET /api/settings/budgets`), read again each visit. */
export const useBudgetSettings = () =>
  useQuery({ queryKey: accountKeys.budgets(), queryFn: ({ signal }) => fetchBudgetSettings(signal), staleTime: 0 });

/** Saves them; the answer (the limits now in force) becomes the cached view. Tasks they held are released on the server. */
export function useSaveBudgetSettings() {
  const client = useQueryClient();
  return useMutation({ mutationFn: putBudgetSettings, onSuccess: (saved) => client.setQueryData(accountKeys.budgets(), saved) });
}

/** The control plane's invitations (`GET /api/invitations`, an admin's). */
export const useInvitations = () => useQuery({ queryKey: accountKeys.invitations(), queryFn: ({ signal }) => fetchInvitations(signal) });

export function useCreateInvitation() {
  const client = useQueryClient();
  return useMutation({ mutationFn: createInvitation, onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.invitations() }) });
}

export function useRemoveInvitation() {
  const client = useQueryClient();
  return useMutation({ mutationFn: removeInvitation, onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.invitations() }) });
}

/** Who is signed in and the mode (`GET /api/me`); a 401 means nobody is (team mode). Sign-in and sign-out reload the page. */
export const useMe = () => useQuery({ queryKey: accountKeys.me(), queryFn: ({ signal }) => fetchMe(signal) });

/** The signed-in person's API tokens (`GET /api/tokens`), read again on each visit so "last used" is current. */
export const useApiTokens = () =>
  useQuery({ queryKey: accountKeys.tokens(), queryFn: ({ signal }) => fetchApiTokens(signal), staleTime: 0 });

export function useCreateApiToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: createApiToken,
    onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.tokens() }),
  });
}

export function useRevokeApiToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: revokeApiToken,
    onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.tokens() }),
  });
}

/** Starts sign-in with GitHub and sends the browser to GitHub's consent page. */
export const useGithubSignIn = () =>
  useMutation({
    mutationFn: startGithubSignIn,
    onSuccess: ({ url }) => window.location.assign(url),
  });

/** Signs out, then loads the sign-in page afresh (so nothing of this person stays in the cache). */
export const useSignOut = (mode: "local" | "team" = "team") =>
  useMutation({
    mutationFn: mode === "local" ? localSignOut : signOut,
    onSuccess: () => window.location.assign("/sign-in"),
  });
