"use client";
import type { SelectHTMLAttributes } from "react";
import { EgressPolicy } from "@/lib/contracts/egress";
import { EGRESS_POLICIES, POLICY_ORDER } from "../_lib/network";
import { useNetworkSettings } from "../_lib/queries";

/** The policy a new task asks for: "" for the person's default (named when known), or one of the policies. */
export function EgressSelect({ value, onPolicy, ...select }: { value: EgressPolicy | ""; onPolicy: (policy: EgressPolicy | "") => void } & Omit<SelectHTMLAttributes<HTMLSelectElement>, "value" | "onChange">) {
  const { data } = useNetworkSettings();
  const defaultPolicy = data ? ` (${EGRESS_POLICIES[data.defaultPolicy].label.toLowerCase()})` : "";
  return (
    <select
      {...select}
      value={value}
      onChange={(e) => {
        const parsed = EgressPolicy.safeParse(e.target.value);
        onPolicy(parsed.success ? parsed.data : "");
      }}
    >
      <option value="">Default{defaultPolicy}</option>
      {POLICY_ORDER.map((policy) => (
        <option key={policy} value={policy}>
          {EGRESS_POLICIES[policy].label}
        </option>
      ))}
    </select>
  );
}
