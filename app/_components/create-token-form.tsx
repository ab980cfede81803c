"use client";
import { useEffect, useRef, useState, type FormEvent } from "react";
import type { z } from "zod";
import { CreateApiTokenRequest, type CreatedApiToken } from "@/lib/contracts/api";
import { ApiRequestError } from "../_lib/api";
import { useCreateApiToken } from "../_lib/queries";
import { ErrorBanner } from "./error-banner";
import styles from "./settings.module.css";

export type NewApiToken = z.infer<typeof CreatedApiToken>;
type FormError = { message: string; onName: boolean };

const INPUT_ID = "new-token-name";
const ERROR_ID = "new-token-name-error";

/** "name is required" → "Name is required": the API names the field, the form its label. */
function toFormError(message: string, field: string | undefined): FormError {
  if (field !== "name") return { message, onName: false };
  return { message: message.startsWith("name ") ? `Name ${message.slice(5)}` : message, onName: true };
}

/** Checks the name with the contract's own schema before it goes out; the API checks it again. */
function validate(name: string): FormError | undefined {
  const result = CreateApiTokenRequest.safeParse({ name });
  const issue = result.success ? undefined : result.error.issues[0];
  if (!issue) return undefined;
  const field = issue.path.map(String).join(".");
  return toFormError(field ? `${field} ${issue.message}` : issue.message, field);
}

/** A name field and a button; the made token (with its secret) goes to `onCreated`. */
export function CreateTokenForm({ onCreated }: { onCreated: (token: NewApiToken) => void }) {
  const create = useCreateApiToken();
  const input = useRef<HTMLInputElement>(null);
  const [name, setName] = useState("");
  const [error, setError] = useState<FormError>();

  useEffect(() => {
    if (error?.onName) input.current?.focus();
  }, [error]);

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (create.isPending) return;
    const problem = validate(name);
    setError(problem);
    if (problem) return;
    create.mutate(
      { name },
      {
        onSuccess: (token) => {
          setName("");
          onCreated(token);
        },
        onError: (failure) =>
          setError(
            failure instanceof ApiRequestError
              ? toFormError(failure.message, failure.field)
              : { message: "Something went wrong.", onName: false },
          ),
      },
    );
  }

  const invalid = error?.onName ? { "aria-invalid": true, "aria-describedby": ERROR_ID } : {};
  return (
    <form className={`form ${styles.tokenForm}`} onSubmit={onSubmit} noValidate aria-label="New API token">
      <div className="field">
        <label htmlFor={INPUT_ID}>Name</label>
        <div className="inline-field">
          <input
            ref={input}
            id={INPUT_ID}
            name="name"
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              if (error?.onName) setError(undefined);
            }}
            placeholder="CI deploys, laptop scripts…"
            autoComplete="off"
            maxLength={100}
            required
            {...invalid}
          />
          <button type="submit" className="button primary" disabled={create.isPending} aria-busy={create.isPending}>
            {create.isPending ? "Creating…" : "Create token"}
          </button>
        </div>
        {error?.onName ? (
          <p id={ERROR_ID} className="field-error">
            {error.message}
          </p>
        ) : (
          <p className="field-hint">Say what will use it, so you know which one to revoke.</p>
        )}
      </div>
      {error && !error.onName && <ErrorBanner title="The token was not created.">{error.message}</ErrorBanner>}
    </form>
  );
}
