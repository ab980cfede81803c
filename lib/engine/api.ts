/**
 * The durable-execution engine's REST API, as far as recovery needs it: is the engine there, and
 * is a run still alive. A plain client over fetch (Inngest's `/v1` API), so the domain can ask
 * without importing the SDK client. The dev server caches run look-ups, hence the cache-busting query.
 */
import type { Config } from "../config";

/** Alive: the engine is working on it. Ended: it finished one way or another. Unknown: the engine has no such run. */
export type RunState = "alive" | "ended" | "unknown";

export class EngineUnreachableError extends Error {}
/** The engine answered, but not in a way we can read: one run's answer, not the engine being down. */
export class EngineAnswerError extends Error {}

export type EngineApi = {
  readonly url: string;
  /** True when the engine answers its health check. */
  reachable(): Promise<boolean>;
  /** Throws EngineUnreachableError when the engine cannot be asked, EngineAnswerError when its answer cannot be read. */
  runState(runId: string): Promise<RunState>;
  /** Whether the engine has this event (a restarted dev server has forgotten every event). */
  eventKnown(eventId: string): Promise<boolean>;
  /** The runs the event started, with their states: a run is listed from when it is scheduled, before its first step. */
  eventRuns(eventId: string): Promise<{ runId: string; state: RunState }[]>;
};

const ALIVE = new Set(["Running", "Scheduled"]);

export function engineUrl(config: Pick<Config, "INNGEST_BASE_URL" | "INNGEST_DEV">): string {
  if (config.INNGEST_BASE_URL) return config.INNGEST_BASE_URL.replace(/\/$/, "");
  if (config.INNGEST_DEV && /^https?:\/\//.test(config.INNGEST_DEV)) return config.INNGEST_DEV.replace(/\/$/, "");
  return config.INNGEST_DEV ? "http://127.0.0.1:8288" : "https://api.inngest.com";
}

/** The /v1 API answers `{ data, error, status }`, with its own status in the body (v1.1.0 sends HTTP 200 for a missing event). */
function parseAnswer(text: string, httpStatus: number): { data: unknown; error?: string; status: number } {
  try {
    const body = JSON.parse(text) as { data?: unknown; error?: string; status?: number };
    return { data: body.data ?? null, error: body.error, status: body.status ?? httpStatus };
  } catch {
    return { data: null, error: text.slice(0, 200), status: httpStatus };
  }
}

export function engineApi(config: Pick<Config, "INNGEST_BASE_URL" | "INNGEST_DEV" | "INNGEST_SIGNING_KEY" | "ENGINE_REQUEST_TIMEOUT">): EngineApi {
  const url = engineUrl(config);
  const headers: Record<string, string> = config.INNGEST_SIGNING_KEY ? { authorization: `Bearer ${config.INNGEST_SIGNING_KEY}` } : {};
  const get = async (path: string) => {
    try {
      return await fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(config.ENGINE_REQUEST_TIMEOUT) });
    } catch (error) {
      throw new EngineUnreachableError(`the engine at ${url} is unreachable: ${(error as Error).message}`);
    }
  };
  const getJson = async (path: string) => {
    const response = await get(path);
    return parseAnswer(await response.text(), response.status);
  };
  return {
    url,
    async reachable() {
      try {
        return (await get("/health")).ok;
      } catch {
        return false;
      }
    },
    async eventKnown(eventId) {
      const answer = await getJson(`/v1/events/${encodeURIComponent(eventId)}?fresh=${Date.now()}`);
      if (answer.data) return true;
      if (answer.status === 404 || /not found/i.test(answer.error ?? "")) return false;
      throw new EngineAnswerError(`the engine answered ${answer.status} for event ${eventId}: ${answer.error ?? ""}`);
    },
    async eventRuns(eventId) {
      const response = await get(`/v1/events/${encodeURIComponent(eventId)}/runs?fresh=${Date.now()}`);
      const text = await response.text();
      // v1.1.0 cannot encode a list holding a failed run's record (see runState): it answers an empty 200, which holds no live run.
      if (response.ok && text.trim() === "") return [];
      const answer = parseAnswer(text, response.status);
      if (Array.isArray(answer.data)) {
        return (answer.data as { run_id?: unknown; status?: unknown; ended_at?: unknown }[])
          .filter((run): run is { run_id: string; status?: unknown; ended_at?: unknown } => typeof run.run_id === "string")
          .map((run) => ({ runId: run.run_id, state: !run.ended_at && (run.status === undefined || ALIVE.has(String(run.status))) ? ("alive" as const) : ("ended" as const) }));
      }
      if (answer.status === 404 || /not found/i.test(answer.error ?? "")) return [];
      throw new EngineAnswerError(`the engine answered ${answer.status} for the runs of event ${eventId}: ${answer.error ?? ""}`);
    },
    async runState(runId) {
      const path = `/v1/runs/${encodeURIComponent(runId)}?fresh=${Date.now()}`;
      const response = await get(path);
      const text = await response.text();
      // v1.1.0 stores a failed run's output (its error text) unquoted, so encoding that run's record
      // fails and it answers 200 with an empty body (pkg/cqrs/sqlitecqrs toCQRSRun: Output is
      // json.RawMessage of the stored text). A run with no finish row always encodes, so an empty
      // 200 is a run that ended.
      if (response.ok && text.trim() === "") return "ended";
      const answer = parseAnswer(text, response.status);
      const status = (answer.data as { status?: string } | null)?.status;
      if (status) return ALIVE.has(status) ? "alive" : "ended";
      // v1.1.0 answers "Unable to load function run" for a run it does not have (a restart lost it).
      if (answer.status === 404 || /unable to load function run|not found/i.test(answer.error ?? "")) return "unknown";
      throw new EngineAnswerError(`the engine answered ${answer.status} for run ${runId}: ${answer.error ?? ""}`);
    },
  };
}
