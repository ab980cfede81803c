"use client";
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { SendMessageRequest } from "@/lib/contracts/api";
import { ApiRequestError, newClientId } from "../_lib/api";
import { useSendMessage } from "../_lib/queries";
import { ErrorBanner } from "./error-banner";
import styles from "./followup.module.css";

const LABEL = "Follow-up";
const INPUT_ID = "followup-body";
const ERROR_ID = "followup-body-error";
type SendError = { message: string; onField: boolean };

/** "body is required" → "Follow-up is required": the API names its field, the form its label. */
function toSendError(message: string, field: string | undefined): SendError {
  if (field !== "body") return { message, onField: false };
  return { message: message.startsWith("body ") ? `${LABEL} ${message.slice(5)}` : message, onField: true };
}

/**
 * A follow-up for the task's agent: delivered as its next turn (queued while it works). Each
 * message gets its own client id, kept while the same text is sent again after a failure, so a
 * request that did arrive is not stored twice.
 */
export function MessageForm({ taskId, hint }: { taskId: string; hint: string }) {
  const form = useRef<HTMLFormElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const attempt = useRef<{ body: string; clientId: string } | null>(null);
  const send = useSendMessage(taskId);
  const [body, setBody] = useState("");
  const [error, setError] = useState<SendError>();
  const busy = send.isPending;

  useEffect(() => {
    if (error?.onField) input.current?.focus();
  }, [error]);

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const checked = SendMessageRequest.safeParse({ body });
    if (!checked.success) {
      setError(toSendError(`body ${checked.error.issues[0]?.message ?? "is invalid"}`, "body"));
      return;
    }
    setError(undefined);
    const clientId = attempt.current?.body === body ? attempt.current.clientId : newClientId();
    attempt.current = { body, clientId };
    send.mutate(
      { body, clientId },
      {
        onSuccess: () => {
          attempt.current = null;
          setBody("");
        },
        onError: (failure) =>
          setError(
            failure instanceof ApiRequestError ? toSendError(failure.message, failure.field) : { message: "Something went wrong.", onField: false },
          ),
      },
    );
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) {
      event.preventDefault();
      form.current?.requestSubmit();
    }
  }

  const fieldError = error?.onField ? error.message : undefined;
  return (
    <form ref={form} className={styles.messageForm} onSubmit={onSubmit} noValidate data-testid="followup-form">
      <div className="field">
        <label htmlFor={INPUT_ID}>{LABEL}</label>
        <textarea
          ref={input}
          id={INPUT_ID}
          name="body"
          value={body}
          onChange={(e) => {
            setBody(e.target.value);
            if (error?.onField) setError(undefined);
          }}
          onKeyDown={onKeyDown}
          placeholder="Ask for a change, or answer the agent"
          rows={3}
          readOnly={busy}
          aria-invalid={fieldError ? true : undefined}
          aria-describedby={fieldError ? ERROR_ID : undefined}
        />
      </div>
      {error && !error.onField && (
        <ErrorBanner title="The message was not sent." testId="followup-error">
          {error.message}
        </ErrorBanner>
      )}
      <div className={styles.messageFoot}>
        {fieldError ? (
          <p id={ERROR_ID} className="field-error">
            {fieldError}
          </p>
        ) : (
          <p className="field-hint">{hint}</p>
        )}
        <button type="submit" className="button primary" disabled={busy} aria-busy={busy} data-testid="followup-send">
          {busy ? "Sending…" : "Send"}
        </button>
      </div>
    </form>
  );
}
