"use client";
import { useEffect, useRef, useState } from "react";
import type { ApiTokenView } from "@/lib/contracts/api";
import { absoluteTime, relativeTime } from "../_lib/format";
import { useRevokeApiToken } from "../_lib/queries";
import { ConfirmActions } from "./confirm-actions";
import confirmStyles from "./confirm.module.css";
import settingsStyles from "./settings.module.css";

function When({ label, iso, now }: { label: string; iso: string | null; now: number }) {
  if (!iso) return <span>{label} never</span>;
  return (
    <span>
      {label}{" "}
      <time dateTime={iso} title={absoluteTime(iso)}>
        {relativeTime(iso, now)}
      </time>
    </span>
  );
}

/** Revoke, with a confirm step: scripts that use the token are refused from their next request. */
function RevokeConfirm({ token, onClose }: { token: ApiTokenView; onClose: () => void }) {
  const revoke = useRevokeApiToken();
  const keep = useRef<HTMLButtonElement>(null);
  const busy = revoke.isPending;

  useEffect(() => keep.current?.focus(), []);

  return (
    <div
      className={`${confirmStyles.confirm} ${settingsStyles.tokenConfirm}`}
      role="alertdialog"
      aria-labelledby={`revoke-${token.id}`}
      onKeyDown={(e) => {
        if (e.key === "Escape" && !busy) onClose();
      }}
      data-testid="token-revoke-confirm"
    >
      <p id={`revoke-${token.id}`}>
        <strong>Revoke “{token.name}”?</strong> Anything using it is refused from its next request. This cannot be undone.
      </p>
      {revoke.error && (
        <p className="field-error" role="alert">
          {revoke.error.message}
        </p>
      )}
      <ConfirmActions keepRef={keep} onKeep={onClose} onConfirm={() => revoke.mutate(token.id, { onSuccess: onClose })} busy={busy} label="Revoke token" busyLabel="Revoking…" />
    </div>
  );
}

/** One token: name, prefix, when it was made and last used, and whether it still works. */
export function TokenRow({ token, now }: { token: ApiTokenView; now: number }) {
  const [confirming, setConfirming] = useState(false);
  const revoked = token.revokedAt !== null;
  return (
    <li className={revoked ? settingsStyles.tokenRevoked : undefined} data-testid={`token-${token.id}`} data-revoked={revoked}>
      <div className={settingsStyles.tokenRow}>
        <div className={settingsStyles.tokenMain}>
          <span className="row-title">{token.name}</span>
          <span className={settingsStyles.tokenMeta}>
            <code title="The token's first characters">{token.prefix}…</code>
            <When label="Created" iso={token.createdAt} now={now} />
            <When label="Last used" iso={token.lastUsedAt} now={now} />
            {revoked && <When label="Revoked" iso={token.revokedAt} now={now} />}
          </span>
        </div>
        {revoked ? (
          <span className="pill" data-tone="quiet" data-hollow data-testid="token-state" title={`Revoked ${absoluteTime(token.revokedAt ?? "")}`}>
            <span className="pill-dot" aria-hidden="true" />
            Revoked
          </span>
        ) : (
          <span className="pill" data-tone="good" data-testid="token-state">
            <span className="pill-dot" aria-hidden="true" />
            Active
          </span>
        )}
        <div className={settingsStyles.tokenAction}>
          {!revoked && (
            <button
              type="button"
              className="button danger small"
              onClick={() => setConfirming(true)}
              disabled={confirming}
              aria-expanded={confirming}
            >
              Revoke
            </button>
          )}
        </div>
      </div>
      {confirming && !revoked && <RevokeConfirm token={token} onClose={() => setConfirming(false)} />}
    </li>
  );
}
