"use client";
import { useEffect, useRef, useState, type FormEvent } from "react";
import type { SecretName, SecretView } from "@/lib/contracts/api";
import { absoluteTime, relativeTime } from "../_lib/format";
import { useDeleteSecret, usePutSecret } from "../_lib/queries";
import { ConfirmActions } from "./confirm-actions";
import settingsStyles from "./settings.module.css";
import confirmStyles from "./confirm.module.css";
import { pillAttributes } from "../_lib/status-tone";

/** A value typed once: sent, then dropped from the page (never shown back). */
function SecretForm({ name, label, onDone }: { name: SecretName; label: string; onDone: () => void }) {
  const put = usePutSecret();
  const [value, setValue] = useState("");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const inputId = `secret-${name}-value`;
  const errorId = `${inputId}-error`;

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (put.isPending) return;
    put.mutate({ name, value }, { onSuccess: () => { setValue(""); onDone(); } });
  }

  return (
    <form className={`form ${settingsStyles.secretForm}`} onSubmit={onSubmit} noValidate aria-label={`Set ${label}`} data-testid={`secret-form-${name}`}>
      <label htmlFor={inputId} className="sr-only">{label}</label>
      <div className="inline-field">
        <input
          ref={input}
          id={inputId}
          type="password"
          value={value}
          onChange={(e) => { setValue(e.target.value); put.reset(); }}
          autoComplete="off"
          spellCheck={false}
          placeholder="Paste the value"
          {...(put.error ? { "aria-invalid": true, "aria-describedby": errorId } : {})}
        />
        <button type="submit" className="button primary small" disabled={put.isPending} aria-busy={put.isPending}>
          {put.isPending ? "Saving…" : "Save"}
        </button>
        <button type="button" className="button small" onClick={onDone} disabled={put.isPending}>
          Cancel
        </button>
      </div>
      {put.error && <p id={errorId} className="field-error" role="alert">{put.error.message}</p>}
    </form>
  );
}

function DeleteConfirm({ name, label, onClose }: { name: SecretName; label: string; onClose: () => void }) {
  const remove = useDeleteSecret();
  const keep = useRef<HTMLButtonElement>(null);
  useEffect(() => keep.current?.focus(), []);
  return (
    <div className={confirmStyles.confirm} role="alertdialog" aria-labelledby={`delete-${name}`} data-testid={`secret-delete-confirm-${name}`}
      onKeyDown={(e) => { if (e.key === "Escape" && !remove.isPending) onClose(); }}>
      <p id={`delete-${name}`}>
        <strong>Delete your {label}?</strong> Tasks that need it are refused until you add one again; agents already running keep theirs.
      </p>
      {remove.error && <p className="field-error" role="alert">{remove.error.message}</p>}
      <ConfirmActions keepRef={keep} onKeep={onClose} onConfirm={() => remove.mutate(name, { onSuccess: onClose })} busy={remove.isPending} label="Delete" busyLabel="Deleting…" testId={`secret-delete-${name}`} />
    </div>
  );
}

/** One kind of secret: set or not, when it was last changed, and add / replace / delete. */
export function SecretRow({ name, label, stored, now }: { name: SecretName; label: string; stored: SecretView | undefined; now: number }) {
  const [mode, setMode] = useState<"idle" | "editing" | "deleting">("idle");
  return (
    <li data-testid={`secret-${name}`} data-set={stored ? "true" : "false"}>
      <div className={`${settingsStyles.tokenRow} ${settingsStyles.secretRow}`}>
        <div className={settingsStyles.tokenMain}>
          <span className="row-title">{label}</span>
          <span className={settingsStyles.tokenMeta}>
            <code>{name}</code>
            {stored ? (
              <span>
                Updated <time dateTime={stored.updatedAt} title={absoluteTime(stored.updatedAt)}>{relativeTime(stored.updatedAt, now)}</time>
              </span>
            ) : (
              <span>Not set</span>
            )}
          </span>
        </div>
        <span className="pill" {...pillAttributes(stored ? { tone: "good" } : { tone: "quiet", hollow: true })} data-testid="secret-state">
          <span className="pill-dot" aria-hidden="true" />
          {stored ? "Set" : "Not set"}
        </span>
        <div className={settingsStyles.tokenAction}>
          <button type="button" className="button small" onClick={() => setMode("editing")} disabled={mode !== "idle"} data-testid={`secret-edit-${name}`}>
            {stored ? "Replace" : "Add"}
          </button>
          {stored && (
            <button type="button" className="button danger small" onClick={() => setMode("deleting")} disabled={mode !== "idle"}>
              Delete
            </button>
          )}
        </div>
      </div>
      {mode === "editing" && <SecretForm name={name} label={label} onDone={() => setMode("idle")} />}
      {mode === "deleting" && stored && <DeleteConfirm name={name} label={label} onClose={() => setMode("idle")} />}
    </li>
  );
}
