/** React Query hooks for reads and the two writes. Live streams (./live) keep the reads fresh. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { cancelTask, createTask, isNotFound } from "./api";
import { taskKeys, taskQuery, tasksQuery } from "./cache";

/** The task list (`GET /api/tasks`), fetched once; `useLiveTasks` keeps it current. */
export const useTasks = () => useQuery(tasksQuery());

/** One task (`GET /api/tasks/{id}`), fetched once; `useLiveTask` keeps it current. A 404 is not retried. */
export const useTask = (id: string) =>
  useQuery({ ...taskQuery(id), retry: (failures, error) => !isNotFound(error) && failures < 2 });

export const useCreateTask = () => useMutation({ mutationFn: createTask });

export function useCancelTask(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => cancelTask(id),
    // The live stream brings the new state; one read covers a stream that is down.
    onSuccess: () => client.invalidateQueries({ queryKey: taskKeys.detail(id) }),
  });
}
