"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import styles from "./shell.module.css";

const LINKS = [
  { href: "/", label: "Tasks", matches: (path: string) => path === "/" || path.startsWith("/tasks") },
  { href: "/nodes", label: "Nodes", matches: (path: string) => path.startsWith("/nodes") },
  { href: "/usage", label: "Usage", matches: (path: string) => path.startsWith("/usage") },
  { href: "/errors", label: "Errors", matches: (path: string) => path.startsWith("/errors") },
] as const;

/** The top bar's sections; the current one is marked. The sign-in page has none to offer. */
export function Nav() {
  const pathname = usePathname() ?? "/";
  if (pathname === "/sign-in") return null;
  return (
    <nav className={styles.nav} aria-label="Sections">
      {LINKS.map(({ href, label, matches }) => {
        const current = matches(pathname);
        return (
          <Link key={href} href={href} className={styles.navLink} aria-current={current ? "page" : undefined}>
            {label}
          </Link>
        );
      })}
    </nav>
  );
}
