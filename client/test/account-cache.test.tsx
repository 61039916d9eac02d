/**
 * @jest-environment jsdom
 */
/**
 * The account area's cache updates (client/src/cache/account.ts) against the app's real graphcache
 * configuration: a client whose only network is a scripted exchange, so each test states what the server
 * answered and reads back what every screen would then see from the cache.
 */
import { gql, makeResult, type Client, type Operation } from 'urql';
import { makeSubject, type Subject } from 'wonka';
import { operationName, scriptedClient, unscripted } from './scripted';

type Answer = (operation: Operation) => Record<string, unknown>;

interface Harness {
  client: Client;
  /** Operations that reached the "server", by operation name. */
  sent: string[];
  /** Delivers a notificationReceived event on the open subscription. */
  notify(notification: Record<string, unknown>): void;
}

/** A client with the app's cache in front of a scripted server (`answers` by operation name). */
function harness(answers: Record<string, Answer>): Harness {
  const sent: string[] = [];
  const events: Subject<Record<string, unknown>> = makeSubject();
  const client = scriptedClient({
    events: events.source,
    seen: (operation) => sent.push(operationName(operation)),
    respond: (operation) => {
      const answer = answers[operationName(operation)];
      if (!answer) throw unscripted(operation);
      return makeResult(operation, { data: answer(operation) });
    },
  });
  return { client, sent, notify: (notification) => events.next(notification) };
}

const ME_ID = 'u1';

function note(id: string, readAt: string | null = null) {
  return {
    __typename: 'Notification',
    id,
    kind: 'RESERVATION_READY',
    message: `Message ${id}`,
    createdAt: '2026-11-20T10:00:00.000Z',
    readAt,
    book: { __typename: 'Book', id: `b-${id}`, title: `Book ${id}` },
    loan: null,
    reservation: { __typename: 'Reservation', id: `r-${id}`, status: 'READY', pickupBy: '2026-11-27T10:00:00.000Z' },
  };
}

function page(nodes: ReturnType<typeof note>[], endCursor: string | null, hasNextPage: boolean, totalCount: number) {
  return {
    __typename: 'NotificationConnection',
    totalCount,
    edges: nodes.map((node) => ({ __typename: 'NotificationEdge', cursor: `c-${node.id}`, node })),
    pageInfo: { __typename: 'PageInfo', hasNextPage, endCursor },
  };
}

const NOTIFICATION_FIELDS = `
  id kind message createdAt readAt
  book { id title }
  loan { id dueAt }
  reservation { id status pickupBy }
`;

const Bell = gql`
  query TestBell {
    me {
      id
      unreadNotificationCount
    }
  }
`;

const Inbox = gql`
  query TestInbox($unreadOnly: Boolean, $first: Int, $after: String) {
    me {
      id
      notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
        totalCount
        edges { cursor node { ${NOTIFICATION_FIELDS} } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

const Received = gql`
  subscription TestReceived {
    notificationReceived { ${NOTIFICATION_FIELDS} }
  }
`;

const MarkRead = gql`
  mutation TestMarkRead($ids: [ID!]!) {
    markNotificationsRead(ids: $ids)
  }
`;

type InboxData = { me: { notifications: { totalCount: number; edges: { node: { id: string; readAt: string | null } }[] } } };
type BellData = { me: { unreadNotificationCount: number } };

function inboxIds(client: Client, variables: Record<string, unknown>): string[] | undefined {
  const data = client.readQuery<InboxData>(Inbox, variables)?.data;
  return data?.me.notifications.edges.map((edge) => edge.node.id);
}

function unread(client: Client): number | undefined {
  return client.readQuery<BellData>(Bell, {})?.data?.me.unreadNotificationCount;
}

/** The inbox as the server has it before each test: n3, n2 unread on page 1; n1 (read) on page 2. */
function inboxServer(extra: Record<string, Answer> = {}): Harness {
  const n1 = note('n1', '2026-11-20T12:00:00.000Z');
  return harness({
    TestBell: () => ({ me: { __typename: 'User', id: ME_ID, unreadNotificationCount: 2 } }),
    TestInbox: ({ variables }) => {
      const { unreadOnly, after } = variables as { unreadOnly?: boolean; after?: string };
      const me = { __typename: 'User', id: ME_ID };
      if (unreadOnly) return { me: { ...me, notifications: page([note('n3'), note('n2')], 'c-n2', false, 2) } };
      if (after === 'c-n2') return { me: { ...me, notifications: page([n1], 'c-n1', false, 3) } };
      return { me: { ...me, notifications: page([note('n3'), note('n2')], 'c-n2', true, 3) } };
    },
    TestMarkRead: ({ variables }) => ({ markNotificationsRead: (variables as { ids: string[] }).ids.length }),
    ...extra,
  });
}

async function load(h: Harness): Promise<void> {
  await h.client.query(Bell, {}).toPromise();
  await h.client.query(Inbox, { first: 20 }).toPromise();
  await h.client.query(Inbox, { first: 20, after: 'c-n2' }).toPromise();
  await h.client.query(Inbox, { unreadOnly: true, first: 20 }).toPromise();
}

describe('account cache: notifications', () => {
  it('a received notification raises the unread count and heads every cached inbox list, once', async () => {
    const h = inboxServer();
    await load(h);
    const subscription = h.client.subscription(Received, {}).subscribe(() => undefined);
    try {
      h.notify(note('n4'));

      expect(unread(h.client)).toBe(3);
      // The full inbox (both pages merged) and the unread-only list both start with it.
      expect(inboxIds(h.client, { first: 20 })).toEqual(['n4', 'n3', 'n2', 'n1']);
      expect(inboxIds(h.client, { unreadOnly: true, first: 20 })).toEqual(['n4', 'n3', 'n2']);
      expect(h.client.readQuery<InboxData>(Inbox, { first: 20 })?.data?.me.notifications.totalCount).toBe(4);

      // The same notification delivered again (or already fetched) is not counted twice.
      h.notify(note('n4'));
      expect(unread(h.client)).toBe(3);
      expect(inboxIds(h.client, { first: 20 })).toEqual(['n4', 'n3', 'n2', 'n1']);
      // Nothing was fetched again for it: the cache answered everything.
      expect(h.sent.filter((name) => name === 'TestInbox')).toHaveLength(3);
      expect(h.sent.filter((name) => name === 'TestBell')).toHaveLength(1);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('marking read sets readAt, lowers the count by what the server marked and leaves the unread-only list', async () => {
    const h = inboxServer();
    await load(h);

    const result = await h.client.mutation(MarkRead, { ids: ['n3'] }).toPromise();
    expect(result.data).toEqual({ markNotificationsRead: 1 });

    expect(unread(h.client)).toBe(1);
    const all = h.client.readQuery<InboxData>(Inbox, { first: 20 })?.data;
    expect(all?.me.notifications.edges.find((edge) => edge.node.id === 'n3')?.node.readAt).toEqual(expect.any(String));
    expect(inboxIds(h.client, { unreadOnly: true, first: 20 })).toEqual(['n2']);
    expect(h.client.readQuery<InboxData>(Inbox, { unreadOnly: true, first: 20 })?.data?.me.notifications.totalCount).toBe(1);
    // The full list keeps it, now read.
    expect(inboxIds(h.client, { first: 20 })).toEqual(['n3', 'n2', 'n1']);
  });

  it('an already-read id marks nothing and the count stays', async () => {
    const h = inboxServer({ TestMarkRead: () => ({ markNotificationsRead: 0 }) });
    await load(h);
    await h.client.mutation(MarkRead, { ids: ['n1'] }).toPromise();
    expect(unread(h.client)).toBe(2);
  });
});

const ActiveAndPast = gql`
  query TestLoans {
    me {
      id
      active: loans(status: ACTIVE, first: 100) {
        totalCount
        edges {
          cursor
          node {
            id
            status
            dueAt
            fineCents
            book {
              id
              title
            }
          }
        }
      }
      past: loans(status: RETURNED, first: 10) {
        edges {
          cursor
          node {
            id
            status
            dueAt
            fineCents
            book {
              id
              title
            }
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
      balanceCents
    }
  }
`;

const ReturnLoan = gql`
  mutation TestReturn($loanId: ID!) {
    returnLoan(loanId: $loanId) {
      id
      status
      dueAt
      fineCents
      user {
        id
      }
      book {
        id
      }
    }
  }
`;

function loan(id: string, status: string, fineCents = 0) {
  return {
    __typename: 'Loan',
    id,
    status,
    dueAt: '2026-12-01T00:00:00.000Z',
    fineCents,
    book: { __typename: 'Book', id: `b-${id}`, title: `T ${id}` },
  };
}

function loanEdges(loans: ReturnType<typeof loan>[]) {
  return loans.map((node) => ({ __typename: 'LoanEdge', cursor: `c-${node.id}`, node }));
}

describe('account cache: loans', () => {
  it('a returned loan leaves the active list, and the returned list is fetched again', async () => {
    let returned = false;
    const h = harness({
      TestLoans: () => ({
        me: {
          __typename: 'User',
          id: ME_ID,
          balanceCents: 0,
          active: {
            __typename: 'LoanConnection',
            totalCount: returned ? 1 : 2,
            edges: loanEdges(returned ? [loan('l2', 'ACTIVE')] : [loan('l2', 'ACTIVE'), loan('l1', 'ACTIVE')]),
          },
          past: {
            __typename: 'LoanConnection',
            edges: loanEdges(returned ? [loan('l1', 'RETURNED')] : []),
            pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: null },
          },
        },
      }),
      TestReturn: () => {
        returned = true;
        return { returnLoan: { ...loan('l1', 'RETURNED'), user: { __typename: 'User', id: ME_ID } } };
      },
    });
    await h.client.query(ActiveAndPast, {}).toPromise();
    await h.client.mutation(ReturnLoan, { loanId: 'l1' }).toPromise();

    // The active list was changed in place: the cache answers it without asking the server.
    const Active = gql`
      query TestActive {
        me {
          id
          loans(status: ACTIVE, first: 100) {
            totalCount
            edges {
              cursor
              node {
                id
                status
              }
            }
          }
        }
      }
    `;
    const active = h.client.readQuery<{ me: { loans: { totalCount: number; edges: { node: { id: string } }[] } } }>(Active, {})?.data;
    expect(active?.me.loans.edges.map((edge) => edge.node.id)).toEqual(['l2']);
    expect(active?.me.loans.totalCount).toBe(1);
    expect(h.sent).toEqual(['TestLoans', 'TestReturn']);

    // The returned list was invalidated: reading it goes back to the server, which now lists the loan.
    type LoansData = { me: { past: { edges: { node: { id: string } }[] } } };
    const again = h.client.readQuery<LoansData>(ActiveAndPast, {})?.data;
    expect(h.sent).toEqual(['TestLoans', 'TestReturn', 'TestLoans']);
    expect(again?.me.past.edges.map((edge) => edge.node.id)).toEqual(['l1']);
  });
});

const FinesQuery = gql`
  query TestFines {
    me {
      id
      balanceCents
      fines {
        id
        amountCents
        status
      }
      open: fines(status: OPEN) {
        id
        amountCents
        status
      }
      payments {
        id
        amountCents
      }
    }
  }
`;

const PayFines = gql`
  mutation TestPay($input: PayFinesInput!) {
    payFines(input: $input) {
      id
      amountCents
      user {
        id
      }
      fines {
        id
        status
      }
    }
  }
`;

describe('account cache: fines', () => {
  it('a payment lowers the balance, settles its fines, joins the history, and a replay of it changes nothing', async () => {
    const fine = (id: string, amountCents: number, status = 'OPEN') => ({ __typename: 'Fine', id, amountCents, status });
    const h = harness({
      TestFines: () => ({
        me: {
          __typename: 'User',
          id: ME_ID,
          balanceCents: 800,
          fines: [fine('f1', 300), fine('f2', 500)],
          open: [fine('f1', 300), fine('f2', 500)],
          payments: [],
        },
      }),
      TestPay: () => ({
        payFines: {
          __typename: 'Payment',
          id: 'p1',
          amountCents: 300,
          user: { __typename: 'User', id: ME_ID },
          fines: [fine('f1', 300, 'PAID')],
        },
      }),
    });
    await h.client.query(FinesQuery, {}).toPromise();
    type FinesData = {
      me: { balanceCents: number; fines: { id: string; status: string }[]; open: { id: string }[]; payments: { id: string }[] };
    };

    await h.client.mutation(PayFines, { input: { fineIds: ['f1'], idempotencyKey: 'k1' } }).toPromise();
    let me = h.client.readQuery<FinesData>(FinesQuery, {})?.data?.me;
    expect(me?.balanceCents).toBe(500);
    expect(me?.fines.map((f) => `${f.id}:${f.status}`)).toEqual(['f1:PAID', 'f2:OPEN']);
    expect(me?.open.map((f) => f.id)).toEqual(['f2']);
    expect(me?.payments.map((p) => p.id)).toEqual(['p1']);

    // The same key answers the same payment: already counted.
    await h.client.mutation(PayFines, { input: { fineIds: ['f1'], idempotencyKey: 'k1' } }).toPromise();
    me = h.client.readQuery<FinesData>(FinesQuery, {})?.data?.me;
    expect(me?.balanceCents).toBe(500);
    expect(me?.payments.map((p) => p.id)).toEqual(['p1']);
  });
});

describe('account cache: holds and settings', () => {
  it('a cancelled hold leaves the waiting list; saved preferences replace the cached ones', async () => {
    const Holds = gql`
      query TestHolds {
        me {
          id
          waiting: reservations(status: WAITING, first: 50) {
            totalCount
            edges {
              cursor
              node {
                id
                status
                position
                book {
                  id
                }
              }
            }
          }
          notificationPreferences {
            dueSoon
            overdue
            reservationReady
            reservationExpired
            fineAssessed
            dueSoonDaysBefore
          }
        }
      }
    `;
    const Cancel = gql`
      mutation TestCancel($id: ID!) {
        cancelReservation(id: $id) {
          id
          status
          position
          user {
            id
          }
          book {
            id
          }
        }
      }
    `;
    const Save = gql`
      mutation TestSave($input: NotificationPreferencesInput!) {
        updateNotificationPreferences(input: $input) {
          dueSoon
          overdue
          reservationReady
          reservationExpired
          fineAssessed
          dueSoonDaysBefore
        }
      }
    `;
    const hold = (id: string, status: string, position: number | null) => ({
      __typename: 'Reservation',
      id,
      status,
      position,
      book: { __typename: 'Book', id: `b-${id}` },
    });
    const preferences = (dueSoonDaysBefore: number, fineAssessed: boolean) => ({
      __typename: 'NotificationPreferences',
      dueSoon: true,
      overdue: true,
      reservationReady: true,
      reservationExpired: true,
      fineAssessed,
      dueSoonDaysBefore,
    });
    const h = harness({
      TestHolds: () => ({
        me: {
          __typename: 'User',
          id: ME_ID,
          waiting: {
            __typename: 'ReservationConnection',
            totalCount: 2,
            edges: [hold('r1', 'WAITING', 1), hold('r2', 'WAITING', 3)].map((node) => ({
              __typename: 'ReservationEdge',
              cursor: node.id,
              node,
            })),
          },
          notificationPreferences: preferences(2, true),
        },
      }),
      TestCancel: () => ({ cancelReservation: { ...hold('r1', 'CANCELLED', null), user: { __typename: 'User', id: ME_ID } } }),
      TestSave: () => ({ updateNotificationPreferences: preferences(5, false) }),
    });
    await h.client.query(Holds, {}).toPromise();
    type HoldsData = {
      me: {
        waiting: { totalCount: number; edges: { node: { id: string } }[] };
        notificationPreferences: { dueSoonDaysBefore: number; fineAssessed: boolean };
      };
    };

    await h.client.mutation(Cancel, { id: 'r1' }).toPromise();
    await h.client.mutation(Save, { input: { dueSoonDaysBefore: 5, fineAssessed: false } }).toPromise();

    const me = h.client.readQuery<HoldsData>(Holds, {})?.data?.me;
    expect(me?.waiting.edges.map((edge) => edge.node.id)).toEqual(['r2']);
    expect(me?.waiting.totalCount).toBe(1);
    expect(me?.notificationPreferences).toMatchObject({ dueSoonDaysBefore: 5, fineAssessed: false });
  });
});
