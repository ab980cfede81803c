"use client";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import type { NodeView } from "@/lib/contracts/api";
import { ApiRequestError } from "../_lib/api";
import { shortId } from "../_lib/format";
import { useDestroyNode } from "../_lib/queries";
import { ConfirmActions } from "./confirm-actions";
import styles from "./confirm.module.css";

const isConflict = (error: unknown) => error instanceof ApiRequestError && error.status === 409;

function HeldTasks({ tasks }: { tasks: NodeView["workspaces"]["tasks"] }) {
  return (
    <ul className={styles.confirmTasks}>
      {tasks.map((task) => (
        <li key={task.id}>
          <Link href={`/tasks/${task.id}`}>{task.title || shortId(task.id)}</Link>
        </li>
      ))}
    </ul>
  );
}

/** A machine someone registered is removed, not destroyed: the control plane forgets it, the machine stays theirs. */
function wordingFor(node: NodeView) {
  return node.provider === "machine"
    ? {
        button: "Remove machine",
        question: "Remove this machine?",
        consequence: "The control plane forgets it and sends it no more tasks; the machine and its daemon stay yours (stop it there with systemctl disable --now agent-control-plane-vm-agent).",
        verb: "Removing it",
        confirm: "Remove machine",
        anyway: "Remove anyway (its tasks move or fail)",
        busy: "Removing…",
        reason: "destroyed by the operator",
      }
    : {
        button: "Destroy",
        question: "Destroy this node?",
        consequence: "Its machine is removed; the next task gets a new one.",
        verb: "Destroying it",
        confirm: "Destroy node",
        anyway: "Destroy anyway (its tasks move or fail)",
        busy: "Destroying…",
        reason: "destroyed by the operator",
      };
}

/**
 * Destroy (for a registered machine: remove), with a confirm step. A node holding work says so and asks for "destroy anyway" (its
 * tasks are woken to move to another node or fail); a refusal from the server (a task landed on it
 * meanwhile) offers the same. Stays busy until the live stream shows the node stopped.
 */
export function DestroyNodeButton({ node }: { node: NodeView }) {
  const destroy = useDestroyNode(node.id);
  const [confirming, setConfirming] = useState(false);
  const keep = useRef<HTMLButtonElement>(null);
  const busy = destroy.isPending || destroy.isSuccess;
  const holdsWork = node.workspaces.count > 0 || isConflict(destroy.error);
  const words = wordingFor(node);

  useEffect(() => {
    if (confirming) keep.current?.focus();
  }, [confirming]);

  if (!confirming) {
    return (
      <button type="button" className="button danger small" onClick={() => setConfirming(true)} data-testid="node-destroy">
        {words.button}
      </button>
    );
  }

  const cancel = () => {
    setConfirming(false);
    destroy.reset();
  };
  return (
    <div
      className={styles.confirm}
      role="alertdialog"
      aria-labelledby={`confirm-${node.id}`}
      onKeyDown={(e) => {
        if (e.key === "Escape" && !busy) cancel();
      }}
      data-testid="node-destroy-confirm"
    >
      <p id={`confirm-${node.id}`}>
        {holdsWork ? (
          <>
            <strong>This node holds work.</strong>{" "}
            {node.workspaces.count > 0
              ? `${node.workspaces.count === 1 ? "One task holds" : `${node.workspaces.count} tasks hold`} a slot on it:`
              : "A task took a slot on it meanwhile."}
          </>
        ) : (
          <>
            <strong>{words.question}</strong> {words.consequence}
          </>
        )}
      </p>
      {holdsWork && node.workspaces.count > 0 && <HeldTasks tasks={node.workspaces.tasks} />}
      {holdsWork && (
        <p className={styles.confirmNote}>
          {node.workspaces.count === 1
            ? `${words.verb} anyway wakes that task: it moves to another node, or fails with “${words.reason}”.`
            : `${words.verb} anyway wakes those tasks: each moves to another node, or fails with “${words.reason}”.`}
        </p>
      )}
      {destroy.error && !isConflict(destroy.error) && (
        <p className="field-error" role="alert">
          {destroy.error.message}
        </p>
      )}
      <ConfirmActions
        keepRef={keep}
        onKeep={cancel}
        onConfirm={() => destroy.mutate(holdsWork)}
        busy={busy}
        label={holdsWork ? words.anyway : words.confirm}
        busyLabel={words.busy}
        testId="node-destroy-confirm-button"
      />
    </div>
  );
}
