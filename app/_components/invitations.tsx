"use client";
import { useState, type FormEvent } from "react";
import { CreateInvitationRequest } from "@/lib/contracts/api";
import { ApiRequestError } from "../_lib/api";
import { useCreateInvitation, useInvitations, useRemoveInvitation } from "../_lib/queries";
import { ErrorBanner } from "./error-banner";
import styles from "./settings.module.css";

/** An admin's list of who may sign in by invitation: invite an email, see who came, remove one. */
export function Invitations() {
  const { data, error, isPending } = useInvitations();
  const create = useCreateInvitation();
  const remove = useRemoveInvitation();
  const [email, setEmail] = useState("");
  const [problem, setProblem] = useState<string>();

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    const checked = CreateInvitationRequest.safeParse({ email });
    if (!checked.success) return setProblem(`Email ${checked.error.issues[0]!.message}`);
    setProblem(undefined);
    create.mutate(checked.data, {
      onSuccess: () => setEmail(""),
      onError: (failure) => setProblem(failure instanceof ApiRequestError ? failure.message : "Something went wrong."),
    });
  }

  return (
    <section className="card" aria-labelledby="people-heading">
      <h2 id="people-heading">People</h2>
      <p className="muted section-lead">
        Sign-in is closed to everyone this control plane does not name. Invite a person by an email address verified on
        their GitHub account; organisations, teams and emails in <code>AUTH_ALLOWED_ORGS</code>,{" "}
        <code>AUTH_ALLOWED_TEAMS</code> and <code>AUTH_ALLOWED_EMAILS</code> are let in too.
      </p>
      <form className={`form ${styles.tokenForm}`} onSubmit={onSubmit} noValidate aria-label="Invite a person">
        <div className="field">
          <label htmlFor="invite-email">Email</label>
          <div className="inline-field">
            <input
              id="invite-email"
              type="email"
              value={email}
              onChange={(event) => setEmail(event.target.value)}
              aria-invalid={problem ? "true" : undefined}
              aria-describedby={problem ? "invite-email-error" : undefined}
            />
            <button type="submit" className="button primary" disabled={create.isPending} aria-busy={create.isPending}>
              Invite
            </button>
          </div>
          {problem && (
            <p id="invite-email-error" className="field-error" role="alert">
              {problem}
            </p>
          )}
        </div>
      </form>
      {error && <ErrorBanner title="Could not load the invitations.">{error.message}</ErrorBanner>}
      {isPending && <p className="muted">Loading…</p>}
      {data && data.invitations.length === 0 && <p className="muted">Nobody is invited yet.</p>}
      {data && data.invitations.length > 0 && (
        <ul className={styles.tokenList} data-testid="invitation-list">
          {data.invitations.map((invitation) => (
            <li key={invitation.email}>
              <span className="break">{invitation.email}</span>{" "}
              <span className="muted">{invitation.acceptedAt ? "signed in" : "not signed in yet"}</span>{" "}
              <button type="button" className="button" disabled={remove.isPending} onClick={() => remove.mutate(invitation.email)}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
