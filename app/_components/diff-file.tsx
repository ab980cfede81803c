"use client";
import { useMemo } from "react";
import { Diff, Hunk, tokenize, type FileData, type HunkTokens, type TokenizeOptions } from "react-diff-view";
import { refractor } from "refractor";
import type { TaskDiffSummary } from "@/lib/contracts/api";
import { languageOf } from "../_lib/diff-language";
import styles from "./diff.module.css";

type FileStat = TaskDiffSummary["files"][number];

type Highlighter = Extract<TokenizeOptions, { highlight: true }>["refractor"];

/**
 * react-diff-view tokenizes with refractor's v2/v3 `highlight` (a list of nodes); refractor 5
 * answers a root: this hands over its children (the same hast nodes under another type name).
 */
const highlighter = {
  highlight: (text: string, language: string) => refractor.highlight(text, language).children,
} as unknown as Highlighter;

function useTokens(file: FileData | undefined, path: string): HunkTokens | undefined {
  return useMemo(() => {
    const language = languageOf(path);
    if (!file?.hunks.length || !language || !refractor.registered(language)) return undefined;
    try {
      return tokenize(file.hunks, { highlight: true, refractor: highlighter, language });
    } catch {
      return undefined; // highlighting is a nicety: plain text beats no diff
    }
  }, [file, path]);
}

function Counts({ stat }: { stat: FileStat }) {
  if (stat.added === null) return <span className={styles.diffBinary}>binary</span>;
  return (
    <span className={styles.diffCounts} aria-label={`${stat.added} added, ${stat.removed} removed`}>
      <span className={styles.diffAdded}>+{stat.added}</span> <span className={styles.diffRemoved}>−{stat.removed}</span>
    </span>
  );
}

/** One changed file: its name and counts, and (opened) its hunks, syntax-highlighted. */
export function DiffFile({ stat, file, open, cut }: { stat: FileStat; file: FileData | undefined; open: boolean; cut: boolean }) {
  const tokens = useTokens(file, stat.path);
  return (
    <details className={styles.diffFile} open={open} data-testid="diff-file" data-path={stat.path}>
      <summary>
        <span className={`mono ${styles.diffPath}`}>
          {stat.oldPath && <span className="muted">{stat.oldPath} → </span>}
          {stat.path}
        </span>
        <Counts stat={stat} />
      </summary>
      <div className={styles.diffFileBody}>
        {file && file.hunks.length > 0 ? (
          <Diff viewType="unified" diffType={file.type} hunks={file.hunks} tokens={tokens} className={styles.diffTable}>
            {(hunks) => hunks.map((hunk) => <Hunk key={hunk.content} hunk={hunk} />)}
          </Diff>
        ) : (
          <p className={`muted ${styles.diffNote}`}>
            {stat.added === null ? "Binary file: not shown." : cut ? "Past the diff's size limit: only its counts are kept." : file ? "Renamed or mode change only." : "No changes shown."}
          </p>
        )}
      </div>
    </details>
  );
}
