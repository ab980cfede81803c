import type { ReactNode } from "react";

export function ErrorBanner({ title, children, testId }: { title?: string; children: ReactNode; testId?: string }) {
  return (
    <div className="banner banner-error" role="alert" data-testid={testId}>
      {title && <strong className="banner-title">{title}</strong>}
      <div className="banner-body">{children}</div>
    </div>
  );
}
