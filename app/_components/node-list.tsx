"use client";
import Link from "next/link";
import { useEffect, useState } from "react";
import type { CreatedMachineRegistration } from "@/lib/contracts/api";
import { useLiveNodes } from "../_lib/live";
import { useNodes } from "../_lib/queries";
import { useNow } from "../_lib/use-now";
import { AddMachineButton, MachineCommand } from "./add-machine";
import { ErrorBanner } from "./error-banner";
import { LiveIndicator } from "./live-indicator";
import { NodeCard } from "./node-card";
import styles from "./nodes.module.css";

/** The node named by the URL's `#node-<id>` (a link from the errors or a task page), once it is shown. */
function useTargetedNode(ready: boolean): string | null {
  const [target, setTarget] = useState<string | null>(null);
  useEffect(() => {
    if (!ready) return;
    const read = () => {
      const hash = decodeURIComponent(window.location.hash.slice(1));
      setTarget(hash.startsWith("node-") ? hash : null);
      if (hash) document.getElementById(hash)?.scrollIntoView({ block: "center" });
    };
    read();
    window.addEventListener("hashchange", read);
    return () => window.removeEventListener("hashchange", read);
  }, [ready]);
  return target;
}

/** Every node of the user, newest first, live. `all` also shows nodes stopped more than a day ago. */
export function NodeList({ all }: { all: boolean }) {
  const { data, error, isPending } = useNodes(all);
  const connection = useLiveNodes(all);
  const now = useNow(1000);
  const target = useTargetedNode(data !== undefined);
  const nodes = data?.nodes ?? [];
  const working = nodes.filter((n) => n.status !== "stopped").length;
  const [registration, setRegistration] = useState<CreatedMachineRegistration>();

  return (
    <section aria-labelledby="nodes-heading" aria-busy={isPending}>
      <div className="page-head">
        <h1 id="nodes-heading">
          Nodes {data && <span className="count" title={`${working} not stopped`}>{nodes.length}</span>}
        </h1>
        <div className={styles.pageTools}>
          <Link href={all ? "/nodes" : "/nodes?all=1"} className={styles.toggleLink} replace>
            {all ? "Hide nodes stopped over a day ago" : "Show older stopped nodes"}
          </Link>
          <LiveIndicator connection={connection} />
          <AddMachineButton onCreated={setRegistration} />
        </div>
      </div>
      {registration && <MachineCommand key={registration.id} registration={registration} now={now} onDone={() => setRegistration(undefined)} />}
      {error && !data && <ErrorBanner title="Could not load the nodes.">{error.message}</ErrorBanner>}
      {isPending && !error && <p className="muted placeholder">Loading nodes…</p>}
      {data && nodes.length === 0 && (
        <div className="card empty">
          <p className="empty-title">No nodes {all ? "" : "right now"}</p>
          <p>
            A node appears here when a task needs one: its status, health, load and the tasks on it, live.
            <br />
            After its last task it stays warm for the next one, then is destroyed. Stopped nodes stay listed for a day.
            <br />
            To run tasks on a machine of your own, add it: it gets your tasks first, and stays until you remove it.
          </p>
        </div>
      )}
      <ul className={styles.nodes} data-testid="node-list">
        {nodes.map((node) => (
          <NodeCard key={node.id} node={node} now={now} targeted={target === `node-${node.id}`} />
        ))}
      </ul>
    </section>
  );
}
