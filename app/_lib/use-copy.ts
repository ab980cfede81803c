"use client";
import { useState, type RefObject } from "react";

export type Copied = "idle" | "copied" | "refused";

/** Selects an element's text, so it can be copied by hand when the clipboard is not ours to write. */
function selectText(element: HTMLElement | null) {
  const selection = window.getSelection();
  if (!element || !selection) return;
  const range = document.createRange();
  range.selectNodeContents(element);
  selection.removeAllRanges();
  selection.addRange(range);
}

/** Copies `text` to the clipboard; where the browser refuses, selects the element that shows it instead. */
export function useCopy(text: string, shown: RefObject<HTMLElement | null>) {
  const [copied, setCopied] = useState<Copied>("idle");
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("copied");
    } catch {
      selectText(shown.current);
      setCopied("refused");
    }
  }
  return { copied, copy };
}
