"use client";
import Link from "next/link";
import type { TaskDetail, TaskNetworkView } from "@/lib/contracts/api";
import { absoluteTime, isTerminal, relativeTime } from "../_lib/format";
import { EGRESS_POLICIES, refusalReasonText, refusalSummary, refusedConnections } from "../_lib/network";
import { useNow } from "../_lib/use-now";
import styles from "./network.module.css";

/** Hosts shown before the rest fold away. */
const HOSTS_SHOWN = 5;

/** A failed task whose workspace had connections refused: a failing install or fetch may be why. */
export const networkNeedsAttention = (task: TaskDetail) => task.status === "failed" && task.network.refusals.length > 0;

function Hosts({ hosts, testId }: { hosts: string[]; testId: string }) {
  const shown = hosts.slice(0, HOSTS_SHOWN);
  const rest = hosts.slice(HOSTS_SHOWN);
  const list = (items: string[]) => items.map((host) => <li key={host}><code>{host}</code></li>);
  return (
    <div data-testid={testId}>
      <ul className={styles.hostList}>{list(shown)}</ul>
      {rest.length > 0 && (
        <details className={styles.hostMore}>
          <summary>and {rest.length} more</summary>
          <ul className={styles.hostList}>{list(rest)}</ul>
        </details>
      )}
    </div>
  );
}

function Enforcement({ enforcement }: { enforcement: TaskNetworkView["enforcement"] }) {
  if (!enforcement) return null;
  if (enforcement.mode === "namespaces") {
    return <p className={styles.networkEnforcement} data-testid="network-enforcement" data-mode="namespaces">Enforced on the node.</p>;
  }
  return (
    <p className={`${styles.networkEnforcement} ${styles.networkUnenforced}`} data-testid="network-enforcement" data-mode="none">
      Not enforced{enforcement.reason ? `: ${enforcement.reason}` : ""}. This workspace can reach anything its node can.
    </p>
  );
}

function Refusals({ network, now }: { network: TaskNetworkView; now: number }) {
  return (
    <ul className={styles.refusals} data-testid="network-refusals">
      {network.refusals.map((refusal) => (
        <li key={`${refusal.host}:${refusal.port}:${refusal.reason}`} className={styles.refusal} data-testid="network-refusal" data-reason={refusal.reason}>
          <span className={`mono ${styles.refusalWhat}`}>{refusalSummary(refusal)}</span>{" "}
          <span className={styles.refusalWhy}>
            {refusalReasonText(refusal.reason, network.policy)} · last{" "}
            <time dateTime={refusal.lastAt} title={absoluteTime(refusal.lastAt)}>{relativeTime(refusal.lastAt, now)}</time>
          </span>
        </li>
      ))}
    </ul>
  );
}

/**
 * The task's network: its workspace's egress policy (and an allow-list's hosts), whether its node
 * enforces it, and the connections the node's proxy refused, live. Prominent when the task failed
 * with refusals, since a refused registry or fetch is a likely cause.
 */
export function TaskNetwork({ task }: { task: TaskDetail }) {
  const network = task.network;
  const now = useNow(30_000, !isTerminal(task.status) || network.refusals.length > 0);
  const attention = networkNeedsAttention(task);
  const refused = refusedConnections(network.refusals);
  return (
    <section className={`card ${styles.taskNetwork}${attention ? ` ${styles.networkAttention}` : ""}`} aria-labelledby="network-heading" data-testid="task-network">
      <h2 id="network-heading">
        Network
        {refused > 0 && <span className="count" data-testid="network-refused-count">{refused} refused</span>}
      </h2>
      {attention && (
        <p className={styles.networkLead} data-testid="network-attention">
          The workspace&apos;s network refused {refused} {refused === 1 ? "connection" : "connections"}; a failed install or fetch may be why. Allow what it
          needs in <Link href="/settings#network" className="link">Settings → Network</Link> (or start the task with another policy), then retry.
        </p>
      )}
      <dl className={`meta ${styles.networkFacts}`}>
        <dt>Policy</dt>
        <dd>
          {network.policy ? (
            <>
              <code data-testid="network-policy" data-policy={network.policy}>{network.policy}</code>{" "}
              <span className="muted">{EGRESS_POLICIES[network.policy].explanation}</span>
            </>
          ) : (
            <span className="muted" data-testid="network-policy" data-policy="">not recorded (started before network policies)</span>
          )}
        </dd>
        {network.policy === "allow-list" && (
          <>
            <dt>Allowed</dt>
            <dd>
              {network.allowHosts.length > 0 ? <Hosts hosts={network.allowHosts} testId="network-allow-hosts" /> : <span className="muted">no hosts</span>}
              <span className={`muted ${styles.networkNote}`}>and the agent&apos;s model API</span>
            </dd>
          </>
        )}
        {network.policy !== "none" && network.allowPrivate.length > 0 && (
          <>
            <dt>Private</dt>
            <dd>
              <Hosts hosts={network.allowPrivate} testId="network-allow-private" />
            </dd>
          </>
        )}
      </dl>
      <Enforcement enforcement={network.enforcement} />
      {network.refusals.length > 0 ? (
        <>
          <h3 className={styles.refusalsHead}>Refused connections</h3>
          <Refusals network={network} now={now} />
        </>
      ) : (
        <p className={`muted ${styles.networkNone}`} data-testid="network-no-refusals">No connection refused.</p>
      )}
    </section>
  );
}
