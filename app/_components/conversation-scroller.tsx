import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { ConversationRow } from "../_lib/conversation-rows";
import { ConversationRowView } from "./conversation-row";
import styles from "./conversation.module.css";

/** First guesses of row heights (px) until a row is measured; close guesses keep the scrollbar steady. */
const ESTIMATE = { prompt: 74, message: 74, agent: 30, text: 44, reasoning: 52, tool: 36, error: 42, notice: 26, line: 19, check: 36 } as const;
const estimate = (row: ConversationRow | undefined) => (!row ? 30 : row.kind === "item" ? ESTIMATE[row.item.kind] : ESTIMATE[row.kind]);

/** Within this many pixels of the bottom counts as at the bottom. */
const BOTTOM_SLACK = 24;

/** Keeps the newest rows in view while the reader is at the bottom; scrolling up stops that until they return. */
function useFollowBottom(ref: RefObject<HTMLDivElement | null>, contentHeight: number) {
  const followingRef = useRef(true);
  const [following, setFollowing] = useState(true);
  const onScroll = useCallback(() => {
    const element = ref.current;
    if (!element) return;
    followingRef.current = element.scrollHeight - element.scrollTop - element.clientHeight <= BOTTOM_SLACK;
    setFollowing(followingRef.current);
  }, [ref]);
  useLayoutEffect(() => {
    const element = ref.current;
    if (element && followingRef.current) element.scrollTop = element.scrollHeight;
  }, [ref, contentHeight]);
  useEffect(() => {
    // The pane itself can shrink (a smaller window): the bottom stays in view then too.
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(() => {
      if (followingRef.current) element.scrollTop = element.scrollHeight;
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  // A person's move up stops following at once: the scroll event comes a frame later, and output
  // arriving in that frame would otherwise pull the pane back down.
  const onIntentUp = useCallback((event: { deltaY?: number; key?: string }) => {
    if ((event.deltaY ?? 0) < 0 || ["ArrowUp", "PageUp", "Home"].includes(event.key ?? "")) {
      followingRef.current = false;
      setFollowing(false);
    }
  }, []);
  const jumpToLatest = useCallback(() => {
    followingRef.current = true;
    setFollowing(true);
    const element = ref.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [ref]);
  return { following, onScroll, onIntentUp, jumpToLatest };
}

/**
 * The conversation's rows in a scrolling pane that renders only the rows in view (and a few around
 * them), so 10,000 lines of output scroll as easily as ten. Rows are measured as they render.
 */
export function ConversationScroller({ rows }: { rows: ConversationRow[] }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  // Which tool calls are open (and checks toggled from how they open), by row key: a row scrolled
  // out of view and back stays as it was.
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => estimate(rows[index]),
    getItemKey: (index) => rows[index]?.key ?? index,
    overscan: 8,
    paddingStart: 6,
    paddingEnd: 6,
  });
  const { following, onScroll, onIntentUp, jumpToLatest } = useFollowBottom(scrollRef, virtualizer.getTotalSize());
  // While following, the bottom is kept in view (above); the virtualiser's own shift (which keeps
  // rows above the view from moving what is read when they resize, as on a narrower window)
  // would scroll away from the bottom and be taken for the reader scrolling up.
  virtualizer.shouldAdjustScrollPositionOnItemSizeChange = following ? () => false : undefined;
  const toggle = (key: string) =>
    setExpanded((open) => {
      const next = new Set(open);
      if (!next.delete(key)) next.add(key);
      return next;
    });

  return (
    <div className={styles.conversationPane}>
      <div className={styles.conversationScroll} ref={scrollRef} onScroll={onScroll} onWheel={onIntentUp} onKeyDown={onIntentUp} tabIndex={0} role="log" aria-label="Conversation" data-testid="conversation-scroll">
        <ol className={styles.conversationRows} style={{ height: virtualizer.getTotalSize() }} data-testid="agent-output" data-rows={rows.length}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index]!;
            return (
              <li
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className={styles.conversationRow}
                data-kind={row.kind === "item" ? row.item.kind : row.kind}
                style={{ transform: `translateY(${item.start}px)` }}
              >
                <ConversationRowView row={row} expanded={expanded.has(row.key)} onToggle={() => toggle(row.key)} />
              </li>
            );
          })}
        </ol>
      </div>
      {!following && (
        <button type="button" className={`button small ${styles.jumpLatest}`} onClick={jumpToLatest} data-testid="jump-latest">
          ↓ Latest
        </button>
      )}
    </div>
  );
}
