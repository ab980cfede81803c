"use client";
import { useApiTokens } from "../_lib/queries";
import { useNow } from "../_lib/use-now";
import { ErrorBanner } from "./error-banner";
import { TokenRow } from "./token-row";
import styles from "./settings.module.css";

/** The signed-in person's tokens, newest first, revoked ones included (marked). Never a secret. */
export function TokenList() {
  const { data, error, isPending } = useApiTokens();
  const now = useNow(30_000);
  const tokens = data?.tokens ?? [];
  const active = tokens.filter((token) => token.revokedAt === null).length;

  return (
    <div className={styles.tokenList} aria-busy={isPending}>
      <div className="list-head">
        <h3 id="token-list-heading">
          Your tokens{" "}
          {data && (
            <span className="count" title={`${active} active`}>
              {tokens.length}
            </span>
          )}
        </h3>
      </div>
      {error && !data && <ErrorBanner title="Could not load your tokens.">{error.message}</ErrorBanner>}
      {isPending && !error && <p className="muted placeholder">Loading tokens…</p>}
      {data && tokens.length === 0 && (
        <div className="empty">
          <p className="empty-title">No tokens yet</p>
          <p>Create one above; only its name and first characters are listed here.</p>
        </div>
      )}
      <ul className="rows" aria-labelledby="token-list-heading" data-testid="token-list">
        {tokens.map((token) => (
          <TokenRow key={token.id} token={token} now={now} />
        ))}
      </ul>
    </div>
  );
}
