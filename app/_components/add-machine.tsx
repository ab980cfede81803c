"use client";
import { useEffect, useRef } from "react";
import type { CreatedMachineRegistration } from "@/lib/contracts/api";
import { useCreateMachineRegistration } from "../_lib/queries";
import { absoluteTime, timeUntil } from "../_lib/format";
import { useCopy } from "../_lib/use-copy";
import styles from "./secret.module.css";

/** "Add a machine": makes a one-time install command; `onCreated` shows it. */
export function AddMachineButton({ onCreated }: { onCreated: (registration: CreatedMachineRegistration) => void }) {
  const create = useCreateMachineRegistration();
  return (
    <>
      <button
        type="button"
        className="button small"
        disabled={create.isPending}
        aria-busy={create.isPending}
        onClick={() => create.mutate(undefined, { onSuccess: onCreated })}
        data-testid="add-machine"
      >
        {create.isPending ? "Making a command…" : "Add a machine"}
      </button>
      {create.error && (
        <span className="field-error" role="alert">
          {create.error.message}
        </span>
      )}
    </>
  );
}

/** The install command just made, shown this once, with a Copy button and when it expires. */
export function MachineCommand({ registration, now, onDone }: { registration: CreatedMachineRegistration; now: number; onDone: () => void }) {
  const value = useRef<HTMLElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const { copied, copy } = useCopy(registration.command, value);
  const expired = Date.parse(registration.expiresAt) <= now;

  useEffect(() => box.current?.focus(), []);

  return (
    <div className={`${styles.secret} ${styles.machineCommand}`} ref={box} tabIndex={-1} role="region" aria-labelledby="machine-command-title" data-testid="machine-command">
      <p id="machine-command-title" className={styles.secretTitle}>
        <strong>Run this on your machine</strong> (Linux with systemd; it installs the node daemon as root and joins as one of your nodes).
      </p>
      <div className={styles.secretBox}>
        <code ref={value} className={styles.secretValue} data-testid="machine-command-value">
          {registration.command}
        </code>
        <button type="button" className="button small" onClick={copy} disabled={expired}>
          {copied === "copied" ? "Copied" : "Copy"}
        </button>
      </div>
      <div className={styles.secretFoot}>
        <p className="muted" role="status">
          {copied === "refused" ? (
            "The browser did not allow copying: the command is selected, copy it with Ctrl+C (⌘C)."
          ) : expired ? (
            "This command has expired: add a machine again for a new one."
          ) : (
            <>
              Works once, until it expires{" "}
              <time dateTime={registration.expiresAt} title={absoluteTime(registration.expiresAt)} data-testid="machine-command-expiry">
                {timeUntil(registration.expiresAt, now)}
              </time>
              . The machine appears below when it has registered.
            </>
          )}
        </p>
        <button type="button" className="button small" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
