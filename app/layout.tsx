import type { Metadata, Viewport } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { AccountMenu } from "./_components/account-menu";
import { Nav } from "./_components/nav";
import { Providers } from "./providers";
import "./globals.css";
import styles from "./_components/shell.module.css";

export const metadata: Metadata = {
  title: { default: "Agent Control Plane", template: "%s · Agent Control Plane" },
  description: "Run AI coding agents on machines you manage",
  // From public/: the icon also names the page's favicon, so the browser asks for no /favicon.ico.
  icons: { icon: "/icon.svg" },
  manifest: "/manifest.webmanifest",
};

export const viewport: Viewport = {
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#ffffff" },
    { media: "(prefers-color-scheme: dark)", color: "#111113" },
  ],
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a className={styles.skipLink} href="#main">
          Skip to content
        </a>
        <Providers>
          <header className={styles.topbar}>
            <Link href="/" className={styles.brand}>
              <span className={styles.brandMark} aria-hidden="true" />
              Agent Control Plane
            </Link>
            <Nav />
            <AccountMenu />
          </header>
          <main id="main" className={styles.container}>
            {children}
          </main>
        </Providers>
      </body>
    </html>
  );
}
