/**
 * Small building blocks every screen uses: loading, empty and error states (the server's message shown
 * as written), money and dates, and a page heading that takes focus on navigation so screen readers
 * announce the new page.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import type { CombinedError } from 'urql';

/** The server's error messages as written (network trouble gets one plain sentence). */
export function errorMessages(error: CombinedError | Error | null | undefined): string[] {
  if (!error) return [];
  if ('graphQLErrors' in error && error.graphQLErrors.length > 0) return error.graphQLErrors.map((e) => e.message);
  if ('networkError' in error && error.networkError) return ['Shelfwise cannot be reached right now. Check your connection and try again.'];
  return [error.message];
}

/** The first error code the server gave (`extensions.code`), if any. */
export function errorCode(error: CombinedError | null | undefined): string | undefined {
  const code = error?.graphQLErrors[0]?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

export function ErrorMessage({ error, title }: { error: CombinedError | Error | null | undefined; title?: string }) {
  const messages = errorMessages(error);
  if (messages.length === 0) return null;
  return (
    <div className="error" role="alert">
      {title && <strong>{title} </strong>}
      {messages.length === 1 ? (
        messages[0]
      ) : (
        <ul>
          {messages.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** A success or info line announced to screen readers. */
export function Notice({ children }: { children: ReactNode }) {
  return (
    <p className="notice" role="status">
      {children}
    </p>
  );
}

/** The library's currency (Query.currency), set once at boot by AppProviders; the server's default until then. */
let libraryCurrency = 'EUR';
const formatters = new Map<string, Intl.NumberFormat>();

/** Sets the currency every amount is shown in (an ISO 4217 code from the server). */
export function setLibraryCurrency(code: string): void {
  if (/^[A-Z]{3}$/.test(code)) libraryCurrency = code;
}

/** The library's currency code, e.g. "EUR". */
export function getLibraryCurrency(): string {
  return libraryCurrency;
}

/** Integer cents as money in the library's currency ("€1.50"), or in `currency` when given. */
export function formatCents(cents: number, currency = libraryCurrency): string {
  let format = formatters.get(currency);
  if (!format) {
    format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    formatters.set(currency, format);
  }
  return format.format(cents / 100);
}

/** A date for people: "24 Nov 2026". */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  return new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** A date and time for people: "24 Nov 2026, 14:05". */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** The page's <h1>: sets the document title and takes focus when the page opens. */
export function PageHeading({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Shelfwise`;
    ref.current?.focus();
  }, [title]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** A labelled form field: the label, the control, and a hint linked by aria-describedby. */
export function Field({ id, label, hint, children }: { id: string; label: string; hint?: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && (
        <small id={`${id}-hint`} className="muted">
          {hint}
        </small>
      )}
    </div>
  );
}
