import type { Connection } from "../_lib/live";

export function ConnectionBadge({ connection }: { connection: Connection }) {
  const text = connection === "live" ? "Live" : connection === "connecting" ? "Connecting…" : "Reconnecting…";
  return (
    <span className={`live live-${connection}`} role="status" aria-live="polite">
      <span className="live-dot" aria-hidden="true" />
      {text}
    </span>
  );
}
