import Link from "next/link";
import { ErrorKind, type ErrorList } from "@/lib/contracts/api";
import { KIND_DESCRIPTIONS, KIND_LABELS } from "./error-kind-badge";
import styles from "./errors.module.css";

const hrefFor = (kind: ErrorKind | null) => (kind ? `/errors?kind=${kind}` : "/errors");

/** Filter chips: all, or one kind, each with its count. The choice lives in the URL. */
export function ErrorKindFilter({ kind, counts }: { kind: ErrorKind | null; counts: ErrorList["counts"] | undefined }) {
  const total = counts ? Object.values(counts).reduce((a, b) => a + b, 0) : undefined;
  const chips: { value: ErrorKind | null; label: string; count: number | undefined; title: string }[] = [
    { value: null, label: "All", count: total, title: "Every kind" },
    ...ErrorKind.options.map((value) => ({ value, label: KIND_LABELS[value], count: counts?.[value], title: KIND_DESCRIPTIONS[value] })),
  ];
  return (
    <nav className={styles.chips} aria-label="Filter by kind">
      {chips.map((chip) => (
        <Link
          key={chip.label}
          href={hrefFor(chip.value)}
          replace
          scroll={false}
          className={styles.chip}
          aria-current={chip.value === kind ? "true" : undefined}
          title={chip.title}
          data-testid={`kind-filter-${chip.value ?? "all"}`}
        >
          {chip.label}
          {chip.count !== undefined && <span className={styles.chipCount}>{chip.count}</span>}
        </Link>
      ))}
    </nav>
  );
}
