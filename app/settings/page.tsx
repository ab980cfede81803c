import type { Metadata } from "next";
import { config } from "@/lib/config";
import { SettingsView } from "../_components/settings-view";

export const metadata: Metadata = { title: "Settings" };

// Per request: the spend limits' defaults are the configured USER_DAILY/MONTHLY_BUDGET_USD, read at start, not at build.
export const dynamic = "force-dynamic";

export default function SettingsPage() {
  const { USER_DAILY_BUDGET_USD, USER_MONTHLY_BUDGET_USD } = config();
  return <SettingsView budgetDefaults={{ dailyUsd: USER_DAILY_BUDGET_USD, monthlyUsd: USER_MONTHLY_BUDGET_USD }} />;
}
