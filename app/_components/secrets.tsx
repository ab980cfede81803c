"use client";
import { SECRET_LABELS, SecretName } from "@/lib/contracts/api";
import { useSecrets } from "../_lib/queries";
import { useNow } from "../_lib/use-now";
import { ErrorBanner } from "./error-banner";
import { SecretRow } from "./secret-row";

/** The person's model keys and GitHub token: set, replace, delete; values are never shown back. */
export function Secrets() {
  const { data, error, isPending } = useSecrets();
  const now = useNow(30_000);
  const stored = new Map((data?.secrets ?? []).map((s) => [s.name, s]));
  return (
    <section className="card" id="secrets" aria-labelledby="secrets-heading" aria-busy={isPending}>
      <h2 id="secrets-heading">Secrets</h2>
      <p className="muted section-lead">
        Your model keys and GitHub token, encrypted at rest. Each reaches only your own agents, handed to a session when it starts; a value is never shown again once saved.
      </p>
      {error && !data && <ErrorBanner title="Could not load your secrets.">{error.message}</ErrorBanner>}
      {data && (
        <ul className="rows" aria-labelledby="secrets-heading" data-testid="secret-list">
          {SecretName.options.map((name) => (
            <SecretRow key={name} name={name} label={SECRET_LABELS[name]} stored={stored.get(name)} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}
