"use client";
import { useState } from "react";
import { CreateTokenForm, type NewApiToken } from "./create-token-form";
import { TokenList } from "./token-list";
import { TokenSecret } from "./token-secret";

/** Team mode's personal API tokens: make one (its secret shown once), see them all, revoke one. */
export function ApiTokens() {
  const [created, setCreated] = useState<NewApiToken | null>(null);
  return (
    <section className="card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">Personal API tokens</h2>
      <p className="muted section-lead">
        Scripts and CI call the API as you with a token, sent as <code>Authorization: Bearer acp_…</code>. Make one per
        script or machine, so each can be revoked on its own.
      </p>
      <CreateTokenForm onCreated={setCreated} />
      {created && <TokenSecret key={created.id} token={created} onDone={() => setCreated(null)} />}
      <TokenList />
    </section>
  );
}
