"use client";
import { useState, type FormEvent, type ReactNode } from "react";
import type { NetworkSettingsView } from "@/lib/contracts/api";
import type { EgressPolicy } from "@/lib/contracts/egress";
import { ApiRequestError } from "../_lib/api";
import { EGRESS_POLICIES, entryErrorText, lines, networkErrorField, POLICY_ORDER } from "../_lib/network";
import { useNetworkSettings, useSaveNetworkSettings } from "../_lib/queries";
import { ErrorBanner } from "./error-banner";
import styles from "./network.module.css";

type Draft = { policy: EgressPolicy; hosts: string; privates: string };
type FieldName = "defaultPolicy" | "allowHosts" | "allowPrivate";

const draftOf = (settings: NetworkSettingsView): Draft => ({ policy: settings.defaultPolicy, hosts: settings.allowHosts.join("\n"), privates: settings.allowPrivate.join("\n") });
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((value, i) => value === b[i]);
const errorId = (field: FieldName) => `network-${field}-error`;

function PolicyChoice({ value, onChange, error }: { value: EgressPolicy; onChange: (policy: EgressPolicy) => void; error?: string }) {
  return (
    <fieldset className={styles.policyChoice} {...(error ? { "aria-invalid": true, "aria-describedby": errorId("defaultPolicy") } : {})}>
      <legend>Default policy</legend>
      {POLICY_ORDER.map((policy) => (
        <label key={policy} className={value === policy ? `${styles.choice} ${styles.choiceOn}` : styles.choice}>
          <input
            type="radio"
            name="network-default-policy"
            value={policy}
            checked={value === policy}
            onChange={() => onChange(policy)}
            aria-labelledby={`network-policy-${policy}`}
            aria-describedby={`network-policy-${policy}-hint`}
          />
          <span className={styles.choiceText}>
            <span id={`network-policy-${policy}`} className={styles.choiceName}>{EGRESS_POLICIES[policy].label}</span>
            <span id={`network-policy-${policy}-hint`} className={styles.choiceHint}>{EGRESS_POLICIES[policy].explanation}</span>
          </span>
        </label>
      ))}
      {error && <p id={errorId("defaultPolicy")} className="field-error" role="alert">{error}</p>}
    </fieldset>
  );
}

function ListField({ field, label, badge, value, onChange, placeholder, hint, error }: {
  field: "allowHosts" | "allowPrivate";
  label: string;
  badge?: string;
  value: string;
  onChange: (value: string) => void;
  placeholder: string;
  hint: ReactNode;
  error?: string;
}) {
  const id = `network-${field}`;
  return (
    <div className="field">
      <div className={styles.fieldLabelRow}>
        <label htmlFor={id}>{label}</label>
        {badge && <span className={styles.fieldBadge} data-testid={`${id}-badge`}>{badge}</span>}
      </div>
      <textarea
        id={id}
        className={styles.listInput}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={placeholder}
        rows={Math.min(10, Math.max(3, value.split("\n").length + 1))}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        {...(error ? { "aria-invalid": true, "aria-describedby": errorId(field) } : {})}
      />
      {error ? <p id={errorId(field)} className="field-error" role="alert">{error}</p> : <p className="field-hint">{hint}</p>}
    </div>
  );
}

/** The form, from the settings as stored; edits stay here until saved. */
function NetworkSettingsForm({ stored }: { stored: NetworkSettingsView }) {
  const save = useSaveNetworkSettings();
  const [draft, setDraft] = useState<Draft>(() => draftOf(stored));
  const hosts = lines(draft.hosts);
  const privates = lines(draft.privates);
  const dirty = draft.policy !== stored.defaultPolicy || !sameList(hosts, stored.allowHosts) || !sameList(privates, stored.allowPrivate);

  const failure = save.error;
  const blamedField = failure instanceof ApiRequestError ? failure.field : undefined;
  const blamed = networkErrorField(blamedField);
  const errorFor = (field: FieldName) => {
    if (!failure || !blamedField || blamed?.field !== field) return undefined;
    const entries = field === "allowHosts" ? hosts : field === "allowPrivate" ? privates : [];
    return entryErrorText(failure.message, blamedField, blamed.index === undefined ? undefined : entries[blamed.index]);
  };
  const edit = (change: Partial<Draft>) => {
    setDraft((current) => ({ ...current, ...change }));
    if (save.error || save.isSuccess) save.reset();
  };

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (save.isPending) return;
    save.mutate({ defaultPolicy: draft.policy, allowHosts: hosts, allowPrivate: privates }, { onSuccess: (saved) => setDraft(draftOf(saved)) });
  }

  const state = save.isPending ? "saving" : dirty ? "changed" : stored.saved ? "saved" : "defaults";
  const stateText = { saving: "Saving…", changed: "Unsaved changes", saved: "Saved", defaults: "The defaults; not saved yet" }[state];
  return (
    <form className="form" onSubmit={onSubmit} noValidate aria-label="Network settings" data-testid="network-settings">
      <PolicyChoice value={draft.policy} onChange={(policy) => edit({ policy })} error={errorFor("defaultPolicy")} />
      <ListField
        field="allowHosts"
        label="Allowed hosts"
        badge={stored.saved ? undefined : "defaults"}
        value={draft.hosts}
        onChange={(value) => edit({ hosts: value })}
        placeholder={"registry.npmjs.org\n*.pythonhosted.org\nghe.example.com:8443"}
        hint={
          <>
            For the allow-list: one per line; <code>*.domain</code> for every name under it, <code>:port</code> for a port other than 80 and 443.
            {!stored.saved && " Pre-filled with the package registries, the defaults until you save."}
          </>
        }
        error={errorFor("allowHosts")}
      />
      <ListField
        field="allowPrivate"
        label="Private addresses allowed"
        value={draft.privates}
        onChange={(value) => edit({ privates: value })}
        placeholder={"10.0.0.5\n10.1.0.0/16"}
        hint={<>Addresses or ranges on your network that allow-list and full may reach, one per line (<code>10.1.0.0/16</code>, <code>fd00::/8</code>). Loopback and cloud metadata never; the control plane and the engine never.</>}
        error={errorFor("allowPrivate")}
      />
      {failure && !blamed && <ErrorBanner title="Not saved.">{failure.message}</ErrorBanner>}
      <div className={styles.formActions}>
        <button type="submit" className="button primary" disabled={save.isPending || (!dirty && stored.saved)} aria-busy={save.isPending}>
          {save.isPending ? "Saving…" : "Save"}
        </button>
        <span className={styles.saveState} role="status" data-testid="network-save-state" data-state={state}>
          {stateText}
        </span>
      </div>
    </form>
  );
}

/** Settings → Network: the policy new tasks get by default, the hosts an allow-list admits, the private addresses allowed. */
export function NetworkSettings() {
  const { data, error, isPending } = useNetworkSettings();
  return (
    <section className="card" id="network" aria-labelledby="network-heading" aria-busy={isPending}>
      <h2 id="network-heading">Network</h2>
      <p className="muted section-lead">
        Where your tasks&apos; workspaces may connect. A task keeps the policy it was started with; the new-task form can choose another.
      </p>
      {error && !data && <ErrorBanner title="Could not load your network settings.">{error.message}</ErrorBanner>}
      {data && <NetworkSettingsForm stored={data} />}
    </section>
  );
}
