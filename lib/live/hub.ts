/**
 * The read side of the live channel: one LISTEN per process, fanned out to every open stream.
 * Postgres delivers each NOTIFY to every listening process, so a second app instance sees the
 * same changes.
 */
import type { Database } from "@/db/client";
import { LIVE_CHANNEL, parseLivePayload } from "./publish";

/** `resync`: the channel was down for a while; every stream re-reads what it shows. */
export type LiveNotice = { taskId: string; eventId: number; resync?: boolean };
type Listener = (notice: LiveNotice) => void;

export class LiveHub {
  private readonly listeners = new Set<Listener>();
  private started: Promise<void> | undefined;

  constructor(private readonly database: Database) {}

  /** Resolves once LISTEN is active, so nothing published after this call is missed. */
  async subscribe(listener: Listener): Promise<() => void> {
    this.started ??= this.database
      .listen(
        LIVE_CHANNEL,
        (payload) => {
          const notice = parseLivePayload(payload);
          if (notice) for (const l of this.listeners) l(notice);
        },
        () => {
          for (const l of this.listeners) l({ taskId: "*", eventId: 0, resync: true });
        },
      )
      .then(() => undefined);
    this.listeners.add(listener);
    try {
      await this.started;
    } catch (error) {
      this.started = undefined;
      this.listeners.delete(listener);
      throw error;
    }
    return () => this.listeners.delete(listener);
  }

  get size() {
    return this.listeners.size;
  }
}

const globalForHub = globalThis as typeof globalThis & { __liveHub?: LiveHub };

export function liveHub(database: Database): LiveHub {
  globalForHub.__liveHub ??= new LiveHub(database);
  return globalForHub.__liveHub;
}
