import type { DomainEvent } from '@shelfwise/kit';
import type { NotificationKind } from './generated/prisma/client.js';
import type { NewNotification, Preferences } from './data/NotificationRepository.js';

const DAY_MS = 86_400_000;
/** Longest book title quoted in a message; longer ones are cut with an ellipsis. */
const MAX_TITLE_LENGTH = 200;

/** Dates in messages: "25 Nov 2026", in UTC (the service clock's time zone). */
const DATE_FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

const FINE_REASONS: Record<string, string> = {
  OVERDUE: ' for an overdue loan',
  LOST: ' for a lost item',
  DAMAGED: ' for a damaged item',
};

/** Which preference switches each kind on or off. */
const PREFERENCE_OF: Record<NotificationKind, keyof Omit<Preferences, 'dueSoonDaysBefore'>> = {
  DUE_SOON: 'dueSoon',
  OVERDUE: 'overdue',
  RESERVATION_READY: 'reservationReady',
  RESERVATION_EXPIRED: 'reservationExpired',
  FINE_ASSESSED: 'fineAssessed',
};

/** What to do with one event for one patron. */
export type Plan =
  | { wanted: true; notification: NewNotification & { onceKey: string | null } }
  | { wanted: false; reason: 'kind switched off' | 'not yet within the reminder lead time' };

/**
 * Decides from the event and the patron's preferences whether they get a notification, and writes it.
 * Pure: the text is built from the event's own data (never from other services), the references (book,
 * loan, reservation) are kept for federation to resolve.
 */
export function planNotification(event: DomainEvent, preferences: Preferences): Plan {
  const kind = event.type;
  if (!preferences[PREFERENCE_OF[kind]]) return { wanted: false, reason: 'kind switched off' };
  const data = event.data ?? {};
  const refs = { bookId: event.bookId ?? null, loanId: event.loanId ?? null, reservationId: event.reservationId ?? null };
  const title = bookTitle(data);
  const dueAt = dateOf(data.dueAt);
  let onceKey: string | null = null;
  let message: string;
  switch (kind) {
    case 'DUE_SOON': {
      const daysLeft = daysLeftOf(data.daysLeft, dueAt, event.occurredAt);
      // loans announces a due date once per day left, from DUE_SOON_MAX_DAYS ahead; the first within the
      // patron's lead time wins, the rest find the onceKey taken. One reminder per loan and due date.
      if (daysLeft !== null && daysLeft > preferences.dueSoonDaysBefore)
        return { wanted: false, reason: 'not yet within the reminder lead time' };
      onceKey = `DUE_SOON:${event.loanId ?? event.id}:${dueAt?.toISOString() ?? ''}`;
      // loans rounds the days left up (1 = due within the next 24 hours).
      const when = daysLeft === null ? 'soon' : daysLeft <= 0 ? 'today' : daysLeft === 1 ? 'within a day' : `in ${daysLeft} days`;
      message = `${title ? quote(title) : 'A book you borrowed'} is due back ${when}${dueAt ? ` (${formatDate(dueAt)})` : ''}. Return or renew it in time to avoid a fine.`;
      break;
    }
    case 'OVERDUE':
      onceKey = event.loanId ? `OVERDUE:${event.loanId}:${dueAt?.toISOString() ?? ''}` : null;
      message = `${title ? quote(title) : 'A book you borrowed'} ${dueAt ? `was due back on ${formatDate(dueAt)} and ` : ''}is now overdue. Please return it as soon as you can; overdue fines may apply.`;
      break;
    case 'RESERVATION_READY': {
      const pickupBy = dateOf(data.pickupBy);
      message = `${title ? quote(title) : 'A book you reserved'} is ready for pickup at the library desk.${pickupBy ? ` Collect it by ${formatDate(pickupBy)}.` : ''}`;
      break;
    }
    case 'RESERVATION_EXPIRED': {
      const pickupBy = dateOf(data.pickupBy);
      message = `Your hold on ${title ? quote(title) : 'a book'} expired because it was not picked up ${pickupBy ? `by ${formatDate(pickupBy)}` : 'in time'}.`;
      break;
    }
    case 'FINE_ASSESSED': {
      // One notification per fine, whichever way (and however often) it was announced.
      onceKey = event.fineId ? `FINE_ASSESSED:${event.fineId}` : null;
      const amount = formatAmount(data.amountCents, data.currency);
      const reason = typeof data.reason === 'string' ? (FINE_REASONS[data.reason] ?? '') : '';
      const late = data.reason === 'OVERDUE' && typeof data.daysOverdue === 'number' && data.daysOverdue > 0 ? data.daysOverdue : null;
      const details = [title ? quote(title) : null, late === null ? null : late === 1 ? '1 day late' : `${late} days late`].filter(Boolean);
      message = `${amount ? `A fine of ${amount}` : 'A fine'} was added to your account${reason}${details.length ? ` (${details.join(', ')})` : ''}.`;
      break;
    }
  }
  return { wanted: true, notification: { userId: event.userId, kind, message, ...refs, onceKey } };
}

type Data = NonNullable<DomainEvent['data']>;

function bookTitle(data: Data): string | null {
  const raw = typeof data.bookTitle === 'string' ? data.bookTitle : typeof data.title === 'string' ? data.title : '';
  const title = raw.replace(/\s+/g, ' ').trim();
  if (!title) return null;
  return title.length > MAX_TITLE_LENGTH ? `${title.slice(0, MAX_TITLE_LENGTH - 1)}…` : title;
}

function quote(title: string): string {
  return `“${title}”`;
}

function dateOf(value: Data[string] | undefined): Date | null {
  if (typeof value !== 'string') return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** The event's `daysLeft`, else whole days from when it happened to the due date, else unknown. */
function daysLeftOf(value: Data[string] | undefined, dueAt: Date | null, occurredAt: string): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  const at = Date.parse(occurredAt);
  if (!dueAt || Number.isNaN(at)) return null;
  return Math.ceil((dueAt.getTime() - at) / DAY_MS);
}

export function formatDate(at: Date): string {
  return DATE_FORMAT.format(at);
}

/** 150 and "USD" → "$1.50"; without a (valid) currency code → "1.50". Null without a whole amount. */
export function formatAmount(cents: Data[string] | undefined, currency: Data[string] | undefined): string | null {
  if (typeof cents !== 'number' || !Number.isInteger(cents) || cents < 0) return null;
  const units = cents / 100;
  if (typeof currency === 'string' && /^[A-Za-z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase(), minimumFractionDigits: 2 }).format(
        units,
      );
    } catch {
      // Not a currency Intl knows: fall through to the plain amount with the code after it.
      return `${units.toFixed(2)} ${currency.toUpperCase()}`;
    }
  }
  return units.toFixed(2);
}
