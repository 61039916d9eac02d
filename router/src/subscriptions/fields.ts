import {
  BOOK_AVAILABILITY_CHANNEL,
  badInput,
  isBookAvailabilityEvent,
  isNotificationCreatedEvent,
  isUuid,
  NOTIFICATION_CHANNEL,
  unauthenticated,
  type BookAvailabilityEvent,
  type NotificationCreatedEvent,
  type Viewer,
} from '@shelfwise/kit';
import type { GraphQLError } from 'graphql';

/**
 * A field of a subscription's return type fetched through the gateway for each event: the query root
 * field that returns it (`book(id:)`) and the value of each of its arguments, taken from the event.
 */
export interface GatewayField<TEvent> {
  /** The Query field to ask for, e.g. `book`. */
  rootField: string;
  /** Its arguments: GraphQL type and the value for one event. */
  args: Record<string, { type: string; value: (event: TEvent) => unknown }>;
}

/**
 * How the router serves one `Subscription` field: where its events come from, which subscribers each
 * event is for, and how the value of the field's return type is made from an event. Either the whole
 * value is fetched through the gateway (`root`), or every field of the return type is carried by the
 * event or fetched through the gateway (checked at start-up).
 */
export interface SubscriptionFieldDefinition<TEvent = unknown> {
  /** The Subscription field, e.g. `bookAvailabilityChanged`. */
  field: string;
  /** The bus channel its events arrive on (kit events.ts). */
  channel: string;
  /** The event in a bus message, or null when the message is not one (it is then dropped and logged). */
  parse(message: unknown): TEvent | null;
  /**
   * The keys a subscription listens on, from its (coerced) arguments and the caller; an event reaches the
   * subscriptions listening on its {@link eventKey}. Throws a GraphQLError (BAD_USER_INPUT, FORBIDDEN …)
   * to refuse the subscription.
   */
  listenKeys(args: Record<string, unknown>, viewer: Viewer | null): string[];
  eventKey(event: TEvent): string;
  /**
   * Set when the whole value is fetched through the gateway: the subscriber's selection is sent as is
   * under this Query field (which returns the same type, or null when the subscriber may not see it),
   * once per event per group. An event it answers null for, without errors, sends no frame. The two
   * maps below are then empty.
   */
  root?: GatewayField<TEvent>;
  /** Fields of the return type whose value the event carries. */
  eventFields: Record<string, (event: TEvent) => unknown>;
  /** Fields of the return type fetched through the gateway, once per event per distinct selection. */
  gatewayFields: Record<string, GatewayField<TEvent>>;
}

/** Most book ids one `bookAvailabilityChanged` subscription may watch. */
export const MAX_WATCHED_BOOKS = 100;

function refuseBookIds(message: string): GraphQLError {
  return badInput(message, { field: 'bookIds' });
}

/** `Subscription.bookAvailabilityChanged(bookIds:)`: public, from books' availability events. */
export const bookAvailabilityChanged: SubscriptionFieldDefinition<BookAvailabilityEvent> = {
  field: 'bookAvailabilityChanged',
  channel: BOOK_AVAILABILITY_CHANNEL,
  parse: (message) => (isBookAvailabilityEvent(message) ? message : null),
  listenKeys(args) {
    const ids = args.bookIds as string[];
    if (ids.length === 0) throw refuseBookIds('bookIds is empty; give the ids of 1 to 100 books to watch.');
    if (ids.length > MAX_WATCHED_BOOKS) {
      throw refuseBookIds(`bookIds has ${ids.length} ids; one subscription watches at most ${MAX_WATCHED_BOOKS} books. Split them.`);
    }
    const bad = ids.find((id) => !isUuid(id));
    if (bad !== undefined) throw refuseBookIds(`"${bad.slice(0, 64)}" is not a valid book id.`);
    return [...new Set(ids.map((id) => id.toLowerCase()))];
  },
  eventKey: (event) => event.bookId.toLowerCase(),
  eventFields: {
    bookId: (event) => event.bookId,
    availableCopies: (event) => event.availableCopies,
    totalCopies: (event) => event.totalCopies,
  },
  gatewayFields: {
    book: { rootField: 'book', args: { id: { type: 'ID!', value: (event) => event.bookId } } },
  },
};

/**
 * `Subscription.notificationReceived`: the signed-in user's own new notifications, from notifications'
 * NOTIFICATION_CHANNEL. A subscription listens on its viewer's user id only, and each event is resolved
 * as that viewer through `Query.notification(id:)` (null for anyone else's), so the notifications
 * subgraph's owner-only rule applies as well.
 */
export const notificationReceived: SubscriptionFieldDefinition<NotificationCreatedEvent> = {
  field: 'notificationReceived',
  channel: NOTIFICATION_CHANNEL,
  parse: (message) => (isNotificationCreatedEvent(message) ? message : null),
  listenKeys(_args, viewer) {
    if (!viewer) {
      throw unauthenticated(
        'Sign in to receive your notifications: send connectionParams.authorization "Bearer <accessToken>" in connection_init.',
      );
    }
    return [viewer.userId.toLowerCase()];
  },
  eventKey: (event) => event.userId.toLowerCase(),
  root: { rootField: 'notification', args: { id: { type: 'ID!', value: (event) => event.notificationId } } },
  eventFields: {},
  gatewayFields: {},
};

/** Every Subscription field the router serves. */
export const SUBSCRIPTION_FIELDS: readonly SubscriptionFieldDefinition[] = [
  bookAvailabilityChanged as unknown as SubscriptionFieldDefinition,
  notificationReceived as unknown as SubscriptionFieldDefinition,
];
