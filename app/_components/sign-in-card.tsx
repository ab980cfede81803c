"use client";
import Link from "next/link";
import { useMe, useGithubSignIn } from "../_lib/queries";
import { ErrorBanner } from "./error-banner";
import styles from "./sign-in.module.css";

/** What better-auth's `?error=` codes mean to the person; anything else reads as a plain failure. */
const FAILURES: Record<string, string> = {
  access_denied: "GitHub sign-in was cancelled.",
  state_mismatch: "The sign-in expired or was started in another tab. Please try again.",
  please_restart_the_process: "The sign-in expired or was started in another tab. Please try again.",
  invalid_code: "GitHub did not confirm the sign-in. Please try again.",
  unable_to_get_user_info: "GitHub did not share your profile. Please try again.",
  email_not_found: "Your GitHub account has no verified email address to sign in with.",
  email_not_verified: "Your GitHub email address is not verified.",
  account_not_linked: "An account with your email exists, but GitHub did not confirm the address is yours.",
  not_admitted:
    "Your GitHub account is not let in here. Ask an admin to invite an email address verified on your GitHub account, or to let in an organisation or team you belong to.",
  sign_in_closed:
    "Nobody can sign in here yet: this control plane lets in only the people it is told about. Its operator makes the first admin with `npm run admin -- create-user --email <address> --admin`, invites people with `npm run admin -- invite --email <address>` (admins also in Settings → People), or names GitHub organisations, teams or emails in AUTH_ALLOWED_ORGS, AUTH_ALLOWED_TEAMS or AUTH_ALLOWED_EMAILS.",
};

function GithubMark() {
  return (
    <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" fill="currentColor">
      <path d="M8 0C3.58 0 0 3.58 0 8c0 3.54 2.29 6.53 5.47 7.59.4.07.55-.17.55-.38 0-.19-.01-.82-.01-1.49-2.01.37-2.53-.49-2.69-.94-.09-.23-.48-.94-.82-1.13-.28-.15-.68-.52-.01-.53.63-.01 1.08.58 1.23.82.72 1.21 1.87.87 2.33.66.07-.52.28-.87.51-1.07-1.78-.2-3.64-.89-3.64-3.95 0-.87.31-1.59.82-2.15-.08-.2-.36-1.02.08-2.12 0 0 .67-.21 2.2.82.64-.18 1.32-.27 2-.27.68 0 1.36.09 2 .27 1.53-1.04 2.2-.82 2.2-.82.44 1.1.16 1.92.08 2.12.51.56.82 1.27.82 2.15 0 3.07-1.87 3.75-3.65 3.95.29.25.54.73.54 1.48 0 1.07-.01 1.93-.01 2.2 0 .21.15.46.55.38A8.013 8.013 0 0 0 16 8c0-4.42-3.58-8-8-8Z" />
    </svg>
  );
}

function SignInButton({ next }: { next: string }) {
  const signIn = useGithubSignIn();
  // Stays busy while the browser leaves for GitHub.
  const busy = signIn.isPending || signIn.isSuccess;
  const start = () =>
    signIn.mutate({ callbackURL: next, errorCallbackURL: `/sign-in?error=1&next=${encodeURIComponent(next)}` });
  return (
    <>
      {signIn.error && <ErrorBanner title="Could not start the sign-in.">{signIn.error.message}</ErrorBanner>}
      <button type="button" className={`button primary ${styles.signInButton}`} onClick={start} disabled={busy} aria-busy={busy}>
        <GithubMark />
        {busy ? "Going to GitHub…" : "Sign in with GitHub"}
      </button>
      <p className={styles.signInNote}>Only people this control plane lets in may sign in: invited by an admin, or in a GitHub organisation or team it names.</p>
    </>
  );
}

/** Why local mode's one-time link was refused (app/api/local-sign-in). */
const LINK_FAILURES: Record<string, string> = {
  used: "This sign-in link was used already: each link works once.",
  expired: "This sign-in link has expired.",
  invalid: "This sign-in link is not one this control plane made.",
};

/**
 * Local mode, signed out: the way in is the one-time link the terminal shows, since only the
 * person at this machine can read it (any process here can reach the page, not the link).
 */
function LocalSignIn({ failure }: { failure?: string }) {
  return (
    <>
      {failure !== undefined && (
        <ErrorBanner title="Sign-in did not complete." testId="sign-in-error">
          {LINK_FAILURES[failure] ?? "Please try again."}
        </ErrorBanner>
      )}
      <p className={styles.signInText} data-testid="local-sign-in">
        This control plane runs in local mode, for you on this machine. To sign in, open the sign-in link that{" "}
        <code>npm start</code> printed in its terminal. To print a new one, run:
      </p>
      <pre className={styles.signInCommand}>
        <code>npm run admin -- sign-in-url</code>
      </pre>
      <p className={styles.signInNote}>
        Each link works once and expires. Scripts send the token in <code>DATA_DIR/local-token</code> as{" "}
        <code>Authorization: Bearer …</code>.
      </p>
    </>
  );
}

/** The sign-in page's card: how to sign in in this mode; a signed-in person is offered the way on. */
export function SignInCard({ mode, next, failure }: { mode: "local" | "team"; next: string; failure?: string }) {
  const { data: me, isPending } = useMe();
  return (
    <section className={`card ${styles.signIn}`} aria-labelledby="sign-in-heading">
      <span className={styles.signInMark} aria-hidden="true" />
      <h1 id="sign-in-heading">Agent Control Plane</h1>
      <p className={`muted ${styles.signInLead}`}>Run AI coding agents on machines you manage.</p>
      {isPending ? (
        <p className={`muted ${styles.signInWait}`} aria-busy="true">
          One moment…
        </p>
      ) : me ? (
        <>
          <p className={styles.signInText}>
            {me.mode === "local" ? "You are signed in." : <>You are signed in as <strong>{me.user.name}</strong>.</>}
          </p>
          <Link href={next} className={`button primary ${styles.signInButton}`}>
            Continue
          </Link>
        </>
      ) : mode === "local" ? (
        <LocalSignIn failure={failure} />
      ) : (
        <>
          {failure !== undefined && (
            <ErrorBanner title="Sign-in did not complete." testId="sign-in-error">
              {FAILURES[failure] ?? "Please try again."}
              {failure && !FAILURES[failure] && <span className="muted"> ({failure})</span>}
            </ErrorBanner>
          )}
          <SignInButton next={next} />
        </>
      )}
    </section>
  );
}
