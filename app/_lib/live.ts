"use client";
/**
 * Live updates: one EventSource per view keeps the React Query caches fresh from the server's
 * stream. No polling; EventSource reconnects by itself and resumes with Last-Event-ID.
 */
import { useEffect, useState } from "react";
import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { LiveMessage, type TaskDetail, type TaskList, type TaskSummary } from "@/lib/contracts/api";
import { fetchTask, fetchTasks } from "./api";

export type Connection = "connecting" | "live" | "reconnecting";

const summaryOf = ({ id, repository, prompt, agent, status, executionStep, branch, commit, createdAt, updatedAt }: TaskSummary): TaskSummary => ({
  id,
  repository,
  prompt,
  agent,
  status,
  executionStep,
  branch,
  commit,
  createdAt,
  updatedAt,
});

function apply(client: QueryClient, message: LiveMessage) {
  if (message.type === "tasks") {
    client.setQueryData<TaskList>(["tasks"], { tasks: message.tasks });
    return;
  }
  const task = message.task;
  client.setQueryData<TaskDetail>(["task", task.id], task);
  client.setQueryData<TaskList>(["tasks"], (list) => {
    const others = (list?.tasks ?? []).filter((t) => t.id !== task.id);
    return { tasks: [summaryOf(task), ...others].sort((a, b) => b.createdAt.localeCompare(a.createdAt)) };
  });
}

function useLiveStream(url: string | undefined): Connection {
  const client = useQueryClient();
  const [connection, setConnection] = useState<Connection>("connecting");
  useEffect(() => {
    if (!url) return;
    const source = new EventSource(url);
    source.onopen = () => setConnection("live");
    source.onerror = () => setConnection("reconnecting");
    source.onmessage = (event: MessageEvent<string>) => {
      const parsed = LiveMessage.safeParse(JSON.parse(event.data));
      if (parsed.success) apply(client, parsed.data);
    };
    return () => source.close();
  }, [url, client]);
  return connection;
}

export function useLiveTasks() {
  const query = useQuery({ queryKey: ["tasks"], queryFn: fetchTasks });
  const connection = useLiveStream("/api/events");
  return { ...query, connection };
}

export function useLiveTask(id: string) {
  const query = useQuery({ queryKey: ["task", id], queryFn: () => fetchTask(id) });
  const connection = useLiveStream(`/api/tasks/${id}/events`);
  return { ...query, connection };
}
