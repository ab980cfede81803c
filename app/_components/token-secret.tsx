"use client";
import { useEffect, useRef } from "react";
import { useCopy } from "../_lib/use-copy";
import type { NewApiToken } from "./create-token-form";
import styles from "./secret.module.css";

/** A token just made: its secret, shown this once, with a Copy button. Keyed by the token's id. */
export function TokenSecret({ token, onDone }: { token: NewApiToken; onDone: () => void }) {
  const value = useRef<HTMLElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const { copied, copy } = useCopy(token.token, value);

  // Shown in place of the form's result: take the focus there, so it is read out and seen.
  useEffect(() => box.current?.focus(), []);

  return (
    <div className={styles.secret} ref={box} tabIndex={-1} role="region" aria-labelledby="new-token-title" data-testid="new-token">
      <p id="new-token-title" className={styles.secretTitle}>
        <strong>Token “{token.name}” created.</strong> Copy it now: you will not see it again.
      </p>
      <div className={styles.secretBox}>
        <code ref={value} className={styles.secretValue} data-testid="new-token-value">
          {token.token}
        </code>
        <button type="button" className="button small" onClick={copy}>
          {copied === "copied" ? "Copied" : "Copy"}
        </button>
      </div>
      <div className={styles.secretFoot}>
        <p className="muted" role="status">
          {copied === "refused"
            ? "The browser did not allow copying: the token is selected, copy it with Ctrl+C (⌘C)."
            : "Keep it in a password manager or your CI's secrets; only its first characters are kept here."}
        </p>
        <button type="button" className="button small" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
