/**
 * @jest-environment jsdom
 */
/**
 * The account screens where a mistake costs something: paying fines (one idempotency key per payment,
 * reused by retries) and live notifications (the bell's count and the toasts). Rendered with the app's real
 * cache in front of a scripted server.
 */
import { jest } from '@jest/globals';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { ReactNode } from 'react';
import { Provider, makeErrorResult, makeResult, type Client, type Operation, type OperationResult } from 'urql';
import { makeSubject, type Source } from 'wonka';
import { Bell } from '../src/components/Bell';
import { formatCents } from '../src/components/ui';
import { LiveNotifications, TOAST_MS } from '../src/components/LiveNotifications';
import { Fines, paymentAttemptFor } from '../src/pages/account/Fines';
import { Notifications } from '../src/pages/Notifications';
import { operationName, scriptedClient, unscripted } from './scripted';

type Answer = (operation: Operation) => OperationResult;

function scriptedClientOf(answers: Record<string, Answer>, events?: Source<Record<string, unknown>>): Client {
  return scriptedClient({
    events,
    respond: (operation) => {
      const answer = answers[operationName(operation)];
      if (!answer) throw unscripted(operation);
      return answer(operation);
    },
  });
}

const ME = { __typename: 'User', id: 'u1' };

describe('paymentAttemptFor', () => {
  it('reuses the attempt for the same fines in any order and makes a new key for other fines', () => {
    let n = 0;
    const newKey = () => `key-${++n}`;
    const first = paymentAttemptFor(null, ['f2', 'f1'], newKey);
    expect(first.key).toBe('key-1');
    expect(paymentAttemptFor(first, ['f1', 'f2'], newKey)).toBe(first);
    expect(paymentAttemptFor(first, ['f1'], newKey).key).toBe('key-2');
  });
});

describe('Fines: paying', () => {
  function fine(id: string, amountCents: number, status = 'OPEN') {
    return {
      __typename: 'Fine',
      id,
      amountCents,
      reason: 'DAMAGED',
      status,
      createdAt: '2026-11-20T10:00:00.000Z',
      daysOverdue: null,
      note: `Note ${id}`,
      loan: null,
      waiver: null,
    };
  }

  function setup(payAnswers: ((operation: Operation) => OperationResult)[]) {
    const keys: string[] = [];
    const paid = new Set<string>();
    const client = scriptedClientOf({
      AccountFines: (operation) =>
        makeResult(operation, {
          data: {
            me: {
              ...ME,
              balanceCents: [['f1', 300] as const, ['f2', 500] as const].reduce((sum, [id, cents]) => sum + (paid.has(id) ? 0 : cents), 0),
              fines: [fine('f1', 300, paid.has('f1') ? 'PAID' : 'OPEN'), fine('f2', 500, paid.has('f2') ? 'PAID' : 'OPEN')],
              payments: [],
            },
          },
        }),
      AccountPayFines: (operation) => {
        const { input } = operation.variables as { input: { fineIds: string[]; idempotencyKey: string } };
        keys.push(input.idempotencyKey);
        const answer = payAnswers.shift();
        if (!answer) throw new Error('unexpected payment');
        const result = answer(operation);
        if (result.data) for (const id of input.fineIds) paid.add(id);
        return result;
      },
    });
    render(
      <Provider value={client}>
        <Fines />
      </Provider>,
    );
    return keys;
  }

  const offline = (operation: Operation) => makeErrorResult(operation, new TypeError('Failed to fetch'));
  const success = (id: string, fineIds: string[], amountCents: number) => (operation: Operation) =>
    makeResult(operation, {
      data: {
        payFines: {
          __typename: 'Payment',
          id,
          amountCents,
          currency: 'USD',
          createdAt: '2026-11-24T10:00:00.000Z',
          method: 'CARD',
          provider: 'test',
          reference: `ref-${id}`,
          user: ME,
          fines: fineIds.map((fineId) => ({ __typename: 'Fine', id: fineId, status: 'PAID' })),
        },
      },
    });

  it('a retried click reuses the key; the next payment gets a new one', async () => {
    const keys = setup([offline, success('p1', ['f1'], 300), success('p2', ['f2'], 500)]);
    await screen.findByText(`Balance: ${formatCents(800)}`);

    fireEvent.click(screen.getByRole('checkbox', { name: /Note f1/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Pay selected' }));
    await screen.findByText(/cannot be reached/);
    fireEvent.click(screen.getByRole('button', { name: 'Pay selected' }));
    await screen.findByText(`Payment received: ${formatCents(300, 'USD')}. Thank you.`);
    expect(await screen.findByText(`Balance: ${formatCents(500)}`)).toBeTruthy();

    fireEvent.click(screen.getByRole('checkbox', { name: /Note f2/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Pay selected' }));
    await screen.findByText(`Payment received: ${formatCents(500, 'USD')}. Thank you.`);

    expect(keys).toHaveLength(3);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it('changing the chosen fines after a failed attempt makes a new key', async () => {
    const keys = setup([offline, success('p1', ['f1', 'f2'], 800)]);
    await screen.findByText(`Balance: ${formatCents(800)}`);

    fireEvent.click(screen.getByRole('checkbox', { name: /Note f1/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Pay selected' }));
    await screen.findByText(/cannot be reached/);
    fireEvent.click(screen.getByRole('checkbox', { name: /Note f2/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Pay selected' }));
    await screen.findByText(`Payment received: ${formatCents(800, 'USD')}. Thank you.`);

    expect(keys).toHaveLength(2);
    expect(keys[1]).not.toBe(keys[0]);
  });
});

describe('live notifications', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  function notification(id: string, kind = 'RESERVATION_READY') {
    return {
      __typename: 'Notification',
      id,
      kind,
      message: `Your hold ${id} is ready`,
      createdAt: '2026-11-24T10:00:00.000Z',
      readAt: null,
      book: { __typename: 'Book', id: 'b1', title: 'Dune' },
      loan: null,
      reservation: { __typename: 'Reservation', id: 'r1', status: 'READY', pickupBy: '2026-11-30T10:00:00.000Z' },
    };
  }

  function setup(answers: Record<string, Answer> = {}, page?: ReactNode) {
    const events = makeSubject<Record<string, unknown>>();
    const client = scriptedClientOf(
      {
        BellUnreadCount: (operation) => makeResult(operation, { data: { me: { ...ME, unreadNotificationCount: 2 } } }),
        LiveNotificationsMarkRead: (operation) => makeResult(operation, { data: { markNotificationsRead: 1 } }),
        ...answers,
      },
      events.source,
    );
    render(
      <Provider value={client}>
        <Bell />
        <LiveNotifications />
        {page}
      </Provider>,
    );
    // Results reach the screen after the cache's microtasks: let them run inside act().
    return (n: Record<string, unknown>) =>
      act(async () => {
        events.next(n);
        await Promise.resolve();
      });
  }

  it('an arrival raises the bell and shows a toast linking to the holds tab', async () => {
    const notify = setup();
    await screen.findByRole('link', { name: 'Notifications 2 unread' });

    await notify(notification('n1'));

    expect(await screen.findByRole('link', { name: 'Notifications 3 unread' })).toBeTruthy();
    const status = screen.getByRole('status');
    expect(status.textContent).toContain('Your hold n1 is ready');
    expect(screen.getByRole('link', { name: 'Open' }).getAttribute('href')).toBe('/account?tab=holds');

    // Opening it is reading it: the toast goes and the count comes down.
    fireEvent.click(screen.getByRole('link', { name: 'Open' }));
    await waitFor(() => expect(screen.getByRole('link', { name: 'Notifications 2 unread' })).toBeTruthy());
    expect(status.textContent).toBe('');
  });

  it('a toast leaves by itself, but not while the pointer is on it', async () => {
    const notify = setup();
    await screen.findByRole('link', { name: 'Notifications 2 unread' });
    jest.useFakeTimers();

    await notify(notification('n1', 'FINE_ASSESSED'));
    const toast = screen.getByText(/Your hold n1 is ready/).closest('.toast') as HTMLElement;
    expect(screen.getByRole('link', { name: 'Open' }).getAttribute('href')).toBe('/account?tab=fines');

    fireEvent.mouseEnter(toast);
    act(() => jest.advanceTimersByTime(TOAST_MS * 3));
    expect(screen.queryByText(/Your hold n1 is ready/)).not.toBeNull();

    fireEvent.mouseLeave(toast);
    act(() => jest.advanceTimersByTime(TOAST_MS));
    expect(screen.queryByText(/Your hold n1 is ready/)).toBeNull();
    // Dismissing is not reading: the bell still counts it.
    expect(screen.getByRole('link', { name: 'Notifications 3 unread' })).toBeTruthy();
  });

  /** The inbox's answer: `unread` are unread, the rest read; `unreadOnly` leaves the read ones out. */
  function inbox(unread: string[], read: string[] = []): Answer {
    return (operation) => {
      const unreadOnly = operation.variables?.unreadOnly === true;
      const nodes = [
        ...unread.map((id) => notification(id)),
        ...(unreadOnly ? [] : read.map((id) => ({ ...notification(id), readAt: '2026-11-24T09:00:00.000Z' }))),
      ];
      const edges = nodes.map((node) => ({ __typename: 'NotificationEdge', cursor: node.id, node }));
      const notifications = {
        __typename: 'NotificationConnection',
        totalCount: edges.length,
        edges,
        pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: edges.at(-1)?.cursor ?? null },
      };
      return makeResult(operation, { data: { me: { ...ME, unreadNotificationCount: unread.length, notifications } } });
    };
  }

  it('a toast leaves at once when its notification is marked read in the inbox; the others stay', async () => {
    const notify = setup({ NotificationsInbox: inbox(['n1', 'n2']) }, <Notifications />);
    const list = await screen.findByRole('list', { name: 'All notifications' });
    jest.useFakeTimers();

    await notify(notification('n1'));
    await notify(notification('n2'));
    const status = document.querySelector('.toasts') as HTMLElement;
    expect(within(status).getByText(/Your hold n1 is ready/)).toBeTruthy();
    expect(within(status).getByText(/Your hold n2 is ready/)).toBeTruthy();

    const item = within(list)
      .getByText(/Your hold n1 is ready/)
      .closest('li') as HTMLElement;
    await act(async () => {
      fireEvent.click(within(item).getByRole('button', { name: 'Mark as read' }));
      await Promise.resolve();
    });

    // Long before its timer: the read one is gone, the unread one is still there.
    expect(within(status).queryByText(/Your hold n1 is ready/)).toBeNull();
    expect(within(status).getByText(/Your hold n2 is ready/)).toBeTruthy();
    // The one left keeps its timer and its Dismiss button.
    fireEvent.click(within(status).getByRole('button', { name: 'Dismiss' }));
    expect(status.textContent).toBe('');
  });

  it('"Mark all as read" takes every toast away', async () => {
    let marked = false;
    const notify = setup(
      {
        NotificationsInbox: (operation) => (marked ? inbox([], ['n1', 'n2']) : inbox(['n1', 'n2']))(operation),
        LiveNotificationsMarkRead: (operation) => {
          marked = true;
          return makeResult(operation, { data: { markNotificationsRead: 2 } });
        },
      },
      <Notifications />,
    );
    await screen.findByRole('list', { name: 'All notifications' });
    jest.useFakeTimers();
    await notify(notification('n1'));
    await notify(notification('n2'));
    const status = document.querySelector('.toasts') as HTMLElement;
    expect(within(status).getAllByRole('button', { name: 'Dismiss' })).toHaveLength(2);

    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Mark all as read' }));
      for (let i = 0; i < 5; i += 1) await Promise.resolve();
    });

    expect(await screen.findByText('All notifications are marked as read.')).toBeTruthy();
    expect(status.textContent).toBe('');
  });
});
