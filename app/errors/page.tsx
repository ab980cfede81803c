import type { Metadata } from "next";
import { ErrorKind } from "@/lib/contracts/api";
import { ErrorList } from "../_components/error-list";

export const metadata: Metadata = { title: "Errors" };

export default async function ErrorsPage({ searchParams }: { searchParams: Promise<{ kind?: string | string[] }> }) {
  const { kind } = await searchParams;
  const parsed = ErrorKind.safeParse(kind);
  return <ErrorList kind={parsed.success ? parsed.data : null} />;
}
