/**
 * Live availability: how many copies of a book are on the shelf ("2 of 3 on the shelf", "4 people
 * waiting"), kept current by `bookAvailabilityChanged`. The subscription selects the Book itself, so the
 * normalized cache updates that Book and every screen showing it re-renders, without a reload and without
 * each screen handling events.
 */
import { useEffect, useRef } from 'react';
import { useClient } from 'urql';
import { graphql } from '../gql';

/** Most book ids one `bookAvailabilityChanged` subscription may watch (the router's MAX_WATCHED_BOOKS). */
export const MAX_WATCHED_BOOKS = 100;

const LiveAvailabilitySubscription = graphql(`
  subscription LiveAvailability($bookIds: [ID!]!) {
    bookAvailabilityChanged(bookIds: $bookIds) {
      bookId
      availableCopies
      totalCopies
      book {
        id
        availableCopies
        totalCopies
        holdQueueLength
      }
    }
  }
`);

/** The same, with each copy's status, for the book page's list of copies. */
const LiveAvailabilityWithCopiesSubscription = graphql(`
  subscription LiveAvailabilityWithCopies($bookIds: [ID!]!) {
    bookAvailabilityChanged(bookIds: $bookIds) {
      bookId
      availableCopies
      totalCopies
      book {
        id
        availableCopies
        totalCopies
        holdQueueLength
        copies {
          id
          status
        }
      }
    }
  }
`);

/** "2 of 3 on the shelf". */
export function availabilityText(availableCopies: number, totalCopies: number): string {
  return `${availableCopies} of ${totalCopies} on the shelf`;
}

/** "1 person waiting", "4 people waiting"; null when nobody waits. */
export function waitingText(holdQueueLength: number): string | null {
  if (holdQueueLength <= 0) return null;
  return holdQueueLength === 1 ? '1 person waiting' : `${holdQueueLength} people waiting`;
}

/** The ids, each once and in their first order, split into lists the router accepts in one subscription. */
export function chunkIds(ids: readonly string[], size = MAX_WATCHED_BOOKS): string[][] {
  const unique = [...new Set(ids)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += size) chunks.push(unique.slice(i, i + size));
  return chunks;
}

/**
 * Keeps the given books' availability live while the calling component is mounted. Nothing is opened for
 * an empty list. The ids are watched in chunks of at most {@link MAX_WATCHED_BOOKS}; chunks are keyed by
 * their ids, so loading another page of results opens one more subscription instead of replacing them all.
 *
 * @param options.copies also keep each copy's status current (the book page); off for lists, where the
 *   router would otherwise fetch every copy of a book for each event
 */
export function useLiveAvailability(bookIds: readonly string[], options: { copies?: boolean } = {}): void {
  const document = options.copies ? LiveAvailabilityWithCopiesSubscription : LiveAvailabilitySubscription;
  const client = useClient();
  const active = useRef(new Map<string, { unsubscribe(): void }>());
  // A string key: a new array with the same ids (every render) must not resubscribe.
  const key = chunkIds(bookIds)
    .map((chunk) => chunk.join(','))
    .join('|');

  useEffect(() => {
    const wanted = new Map(key ? key.split('|').map((chunk) => [chunk, chunk.split(',')] as const) : []);
    for (const [chunk, subscription] of active.current) {
      if (wanted.has(chunk)) continue;
      subscription.unsubscribe();
      active.current.delete(chunk);
    }
    for (const [chunk, ids] of wanted) {
      if (active.current.has(chunk)) continue;
      // The results need no handling here: graphcache writes each event's Book, which re-renders its readers.
      active.current.set(
        chunk,
        client.subscription(document, { bookIds: ids }).subscribe(() => undefined),
      );
    }
  }, [client, document, key]);

  useEffect(() => {
    const subscriptions = active.current;
    return () => {
      for (const subscription of subscriptions.values()) subscription.unsubscribe();
      subscriptions.clear();
    };
  }, [client, document]);
}

/** What a book's availability line needs; a Book from any query that selected these fields. */
export interface AvailabilityFields {
  availableCopies: number;
  totalCopies: number;
  holdQueueLength: number;
}

/** "2 of 3 on the shelf · 1 person waiting", coloured by whether a copy is free. */
export function AvailabilityLine({ book, className }: { book: AvailabilityFields; className?: string }) {
  const waiting = waitingText(book.holdQueueLength);
  return (
    <p className={['availability', className].filter(Boolean).join(' ')}>
      <span className={book.availableCopies > 0 ? 'available' : 'unavailable'}>
        {availabilityText(book.availableCopies, book.totalCopies)}
      </span>
      {waiting && (
        <>
          <span aria-hidden="true"> · </span>
          <span className="waiting">{waiting}</span>
        </>
      )}
    </p>
  );
}
