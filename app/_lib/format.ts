/** Small, pure formatting helpers for the pages. */
import { RETRYABLE_TASK_STATUSES, TERMINAL_TASK_STATUSES, type TaskStatus } from "@/lib/contracts/statuses";

export const isTerminal = (status: TaskStatus) => TERMINAL_TASK_STATUSES.includes(status);
export const isRetryable = (status: TaskStatus) => RETRYABLE_TASK_STATUSES.includes(status);

/** "340 ms", "1.2 s", "3 m 4 s", "1 h 2 m". */
export function formatDuration(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 1000) return `${Math.round(safe)} ms`;
  if (safe < 60_000) return `${(Math.floor(safe / 100) / 10).toFixed(1)} s`;
  const totalSeconds = Math.floor(safe / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes} m ${totalSeconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} m`;
}

/** Time left on a clock face: "14:32", "0:05", "1:02:03"; whole seconds rounded up, never below "0:00". */
export function formatCountdown(ms: number): string {
  const totalSeconds = Math.max(0, Math.ceil(ms / 1000));
  const seconds = String(totalSeconds % 60).padStart(2, "0");
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes}:${seconds}`;
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}:${seconds}`;
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago", then the date. */
export function relativeTime(iso: string, now: number): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (Number.isNaN(seconds)) return "";
  if (seconds < 10) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 7) return `${days} d ago`;
  return new Date(iso).toLocaleDateString();
}

/** "in 45 s", "in 59 min", "in 3 h": how long until a time to come. */
export function timeUntil(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
  if (Number.isNaN(seconds)) return "";
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `in ${minutes} min` : `in ${Math.round(minutes / 60)} h`;
}

export const absoluteTime = (iso: string) => new Date(iso).toLocaleString();

export const firstLine = (text: string) => text.trim().split("\n")[0]?.trim() ?? "";

/** "/srv/repos/app" → "app", "git@github.com:org/app.git" → "app". */
export const repositoryName = (repository: string) =>
  repository.replace(/\/+$/, "").replace(/\.git$/, "").split(/[/:]/).filter(Boolean).pop() ?? repository;

export const shortSha = (sha: string) => sha.slice(0, 7);

/** "4 s ago" to the second for the first minute (a heartbeat's age ticks), then as relativeTime. */
export function secondsAgo(iso: string, now: number): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return "";
  return seconds < 60 ? `${seconds} s ago` : relativeTime(iso, now);
}

/**
 * Long ids shortened for display (the full id goes in a title): a node id ("n_3f2a9c1b04de") is
 * short enough as it is; a uuid keeps its first group ("w_40371d71-…" → "w_40371d71…").
 */
export function shortId(id: string): string {
  if (id.length <= 16) return id;
  const dash = id.indexOf("-", 8);
  return `${id.slice(0, dash > 0 && dash <= 12 ? dash : 12)}…`;
}

/** 0–100, or null when unknown, as "34 %". */
export const percent = (value: number | null) => (value === null ? "—" : `${Math.round(value)} %`);
