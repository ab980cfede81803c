import type { LiveConnection } from "../_lib/live";
import styles from "./live-indicator.module.css";

const TEXT: Record<LiveConnection, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

const TITLE: Record<LiveConnection, string> = {
  connecting: "Opening the live stream",
  live: "Changes appear as they happen",
  reconnecting: "The live stream dropped; reconnecting",
  offline: "No live stream",
};

/** A small dot and word for the state of the live stream. */
export function LiveIndicator({ connection }: { connection: LiveConnection }) {
  return (
    <span className={styles.live} role="status" title={TITLE[connection]} data-testid="live-indicator" data-state={connection}>
      <span className={styles.liveDot} aria-hidden="true" />
      {TEXT[connection]}
    </span>
  );
}
