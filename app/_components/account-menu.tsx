"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useId, useRef, useState } from "react";
import type { Me } from "@/lib/contracts/api";
import { ApiRequestError } from "../_lib/api";
import { useMe, useSignOut } from "../_lib/queries";
import styles from "./shell.module.css";

const isSignedOut = (error: unknown) => error instanceof ApiRequestError && error.status === 401;

/** The first letter of the name, for the small round mark beside it. */
const initial = (name: string) => (name.trim()[0] ?? "?").toUpperCase();

function SignOutButton({ mode = "team" }: { mode?: "local" | "team" }) {
  const signOut = useSignOut(mode);
  const busy = signOut.isPending || signOut.isSuccess;
  return (
    <>
      <button type="button" className={mode === "local" ? styles.accountLocalSignOut : styles.accountItem} onClick={() => signOut.mutate()} disabled={busy} aria-busy={busy}>
        {busy ? "Signing out…" : "Sign out"}
      </button>
      {signOut.error && (
        <p className={`field-error ${styles.accountError}`} role="alert">
          {signOut.error.message}
        </p>
      )}
    </>
  );
}

/** The signed-in person: a button with their name that opens Settings and Sign out. */
function PersonMenu({ user }: { user: Me["user"] }) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panelId = useId();
  const pathname = usePathname();

  // Closes on a click elsewhere, or on Escape (which gives the focus back to the button).
  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      setOpen(false);
      button.current?.focus();
    };
    document.addEventListener("pointerdown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const admin = user.role === "admin";
  return (
    <div className={styles.account} ref={root} data-testid="account-menu">
      <button
        ref={button}
        type="button"
        className={styles.accountButton}
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((was) => !was)}
        title={user.email || user.name}
        // The name is hidden on narrow screens; the button keeps it.
        aria-label={`${user.name}${admin ? " (admin)" : ""}: account menu`}
      >
        <span className={styles.avatar} aria-hidden="true">
          {initial(user.name)}
        </span>
        <span className={styles.accountName} data-testid="account-name">
          {user.name}
        </span>
        {admin && (
          <span className="badge" data-testid="admin-badge">
            admin
          </span>
        )}
        <svg className={styles.caret} width="10" height="10" viewBox="0 0 10 10" aria-hidden="true">
          <path d="M2 3.5 5 6.5 8 3.5" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
      </button>
      <div id={panelId} className={styles.accountPanel} hidden={!open}>
        <div className={styles.accountWho}>
          <strong className="break">{user.name}</strong>
          {user.email && <span className="muted break">{user.email}</span>}
          <span className="muted">{admin ? "Admin" : "Member"}</span>
        </div>
        <Link
          href="/settings"
          className={styles.accountItem}
          aria-current={pathname === "/settings" ? "page" : undefined}
          onClick={() => setOpen(false)}
        >
          Settings
        </Link>
        <SignOutButton />
      </div>
    </div>
  );
}

/**
 * The right end of the top bar. Team mode: who is signed in (an "admin" badge for admins) with a
 * menu for Settings and Sign out. Local mode: a quiet "Local mode". Nothing on the sign-in page.
 */
export function AccountMenu() {
  const pathname = usePathname();
  const { data: me, error } = useMe();
  if (pathname === "/sign-in") return null;
  if (me?.mode === "local") {
    return (
      <span className={styles.accountLocalGroup}>
        <span className={styles.accountLocal} title="One person on this machine, signed in with a one-time link (AUTH_MODE=local)" data-testid="local-mode">
          Local mode
        </span>
        <SignOutButton mode="local" />
      </span>
    );
  }
  if (me) return <PersonMenu user={me.user} />;
  if (isSignedOut(error)) {
    return (
      <Link href={`/sign-in?next=${encodeURIComponent(pathname ?? "/")}`} className={`button small ${styles.accountSignIn}`}>
        Sign in
      </Link>
    );
  }
  return null;
}
