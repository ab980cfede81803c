"use client";
import type { Me } from "@/lib/contracts/api";
import { useMe } from "../_lib/queries";
import { ApiTokens } from "./api-tokens";
import { ErrorBanner } from "./error-banner";
import { Invitations } from "./invitations";
import { NetworkSettings } from "./network-settings";
import { Secrets } from "./secrets";
import { SpendLimits, type BudgetDefaults } from "./spend-limits";
import styles from "./settings.module.css";

function Account({ user }: { user: Me["user"] }) {
  return (
    <section className="card" aria-labelledby="account-heading">
      <h2 id="account-heading">Account</h2>
      <dl className="facts">
        <dt>Name</dt>
        <dd className="break">{user.name}</dd>
        <dt>Email</dt>
        <dd className="break">{user.email || <span className="muted">—</span>}</dd>
        <dt>Role</dt>
        <dd>
          {user.role === "admin" ? (
            <>
              <span className="badge">admin</span> <span className="muted">invites people (below)</span>
            </>
          ) : (
            "member"
          )}
        </dd>
      </dl>
    </section>
  );
}

function LocalModeTokens() {
  return (
    <section className="card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">Personal API tokens</h2>
      <p className="section-lead">
        API tokens are for team mode, where people sign in with GitHub. This control plane runs in local mode, for
        the one person on this machine: scripts send the local token, kept in <code>DATA_DIR/local-token</code>{" "}
        (readable by you only), as <code>Authorization: Bearer …</code>.
      </p>
      <p className="muted section-lead">
        Start it with <code>AUTH_MODE=team</code> to give each person an account and their own tokens.
      </p>
    </section>
  );
}

/**
 * The settings page: the person's secrets, their tasks' network, their spend limits, their account
 * and personal API tokens (team mode). `budgetDefaults`: the configured limits per day and month.
 */
export function SettingsView({ budgetDefaults }: { budgetDefaults: BudgetDefaults }) {
  const { data: me, error, isPending } = useMe();
  return (
    <div className={styles.settings} aria-busy={isPending}>
      <div className="page-head">
        <h1>Settings</h1>
      </div>
      {error && !me && <ErrorBanner title="Could not load your account.">{error.message}</ErrorBanner>}
      {isPending && <p className="muted placeholder">Loading…</p>}
      {me && <Secrets />}
      {me && <NetworkSettings />}
      {me && <SpendLimits defaults={budgetDefaults} />}
      {me?.mode === "local" && <LocalModeTokens />}
      {me?.mode === "team" && (
        <>
          <ApiTokens />
          <Account user={me.user} />
          {me.user.role === "admin" && <Invitations />}
        </>
      )}
    </div>
  );
}
