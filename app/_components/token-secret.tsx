"use client";
import { useEffect, useRef, useState } from "react";
import type { NewApiToken } from "./create-token-form";

type Copied = "idle" | "copied" | "refused";

/** Selects the token's text, so it can be copied by hand when the clipboard is not ours to write. */
function selectText(element: HTMLElement | null) {
  const selection = window.getSelection();
  if (!element || !selection) return;
  const range = document.createRange();
  range.selectNodeContents(element);
  selection.removeAllRanges();
  selection.addRange(range);
}

/** A token just made: its secret, shown this once, with a Copy button. Keyed by the token's id. */
export function TokenSecret({ token, onDone }: { token: NewApiToken; onDone: () => void }) {
  const [copied, setCopied] = useState<Copied>("idle");
  const value = useRef<HTMLElement>(null);
  const box = useRef<HTMLDivElement>(null);

  // Shown in place of the form's result: take the focus there, so it is read out and seen.
  useEffect(() => box.current?.focus(), []);

  async function copy() {
    try {
      await navigator.clipboard.writeText(token.token);
      setCopied("copied");
    } catch {
      selectText(value.current);
      setCopied("refused");
    }
  }

  return (
    <div className="secret" ref={box} tabIndex={-1} role="region" aria-labelledby="new-token-title" data-testid="new-token">
      <p id="new-token-title" className="secret-title">
        <strong>Token “{token.name}” created.</strong> Copy it now: you will not see it again.
      </p>
      <div className="secret-box">
        <code ref={value} className="secret-value" data-testid="new-token-value">
          {token.token}
        </code>
        <button type="button" className="button small" onClick={copy}>
          {copied === "copied" ? "Copied" : "Copy"}
        </button>
      </div>
      <div className="secret-foot">
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
