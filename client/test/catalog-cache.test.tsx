/**
 * @jest-environment jsdom
 */
/**
 * The catalogue's cache rules (client/src/cache/catalog.ts) through the app's real cache exchange and a
 * scripted server: an optimistic borrow shows at once and is rolled back on a refusal; a real borrow takes
 * the server's numbers and refreshes the reader's loans; review changes refresh the book's reviews.
 */
import {
  Client,
  gql,
  makeResult,
  type AnyVariables,
  type Exchange,
  type Operation,
  type OperationResult,
  type TypedDocumentNode,
} from 'urql';
import { delay, filter, fromValue, map, mergeMap, pipe } from 'wonka';
import { createCacheExchange } from '../src/cache';

type Answer = { data: Record<string, unknown> } | { errors: { message: string; extensions?: Record<string, unknown> }[] };

function operationName(op: Operation): string {
  const definition = op.query.definitions.find((d) => d.kind === 'OperationDefinition');
  return definition && 'name' in definition ? (definition.name?.value ?? '') : '';
}

/** A server answering by operation name; mutations answer after a moment, so the optimistic state is seen. */
function scriptedServer(answers: Record<string, (op: Operation) => Answer>, calls: string[]): Exchange {
  return () => (ops$) =>
    pipe(
      ops$,
      filter((op) => op.kind !== 'teardown'),
      mergeMap((op) => pipe(fromValue(op), delay(op.kind === 'mutation' ? 20 : 1))),
      map((op) => {
        const name = operationName(op);
        calls.push(name);
        const answer = answers[name];
        if (!answer) throw new Error(`no scripted answer for ${name}`);
        const body = answer(op);
        return 'errors' in body ? makeResult(op, { errors: body.errors as never }) : makeResult(op, { data: body.data });
      }),
    );
}

function watch<Data, Vars extends AnyVariables>(client: Client, query: TypedDocumentNode<Data, Vars>, variables: Vars) {
  const results: OperationResult<Data, Vars>[] = [];
  const subscription = client.query(query, variables).subscribe((result) => results.push(result));
  return { results, latest: () => results[results.length - 1]?.data, stop: () => subscription.unsubscribe() };
}

const settle = (ms = 40) => new Promise((resolve) => setTimeout(resolve, ms));

const BookQuery = gql`
  query TestBook($id: ID!) {
    book(id: $id) {
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
`;

const ViewerLoansQuery = gql`
  query TestViewerLoans {
    me {
      id
      loans(status: ACTIVE, first: 100) {
        edges {
          node {
            id
          }
        }
      }
    }
  }
`;

const BorrowMutation = gql`
  mutation TestBorrow($bookId: ID!) {
    borrowBook(bookId: $bookId) {
      id
      dueAt
      user {
        id
      }
      copy {
        id
        status
      }
      book {
        id
        availableCopies
        totalCopies
        holdQueueLength
      }
    }
  }
`;

const book = (availableCopies: number, status: string) => ({
  __typename: 'Book',
  id: 'b1',
  availableCopies,
  totalCopies: 1,
  holdQueueLength: 0,
  copies: [{ __typename: 'Copy', id: 'c1', status }],
});

type BookData = { book: ReturnType<typeof book> };

describe('borrowBook in the cache', () => {
  it('drops the shelf count at once and puts it back when the server refuses, keeping its message', async () => {
    const calls: string[] = [];
    const client = new Client({
      url: 'http://test/graphql',
      exchanges: [
        createCacheExchange(),
        scriptedServer(
          {
            TestBook: () => ({ data: { book: book(1, 'AVAILABLE') } }),
            TestBorrow: () => ({
              errors: [{ message: 'No copy is free for you: 2 holds wait for this book.', extensions: { code: 'BOOK_UNAVAILABLE' } }],
            }),
          },
          calls,
        ),
      ],
    });
    const page = watch(client, BookQuery as TypedDocumentNode<BookData, { id: string }>, { id: 'b1' });
    await settle();

    const borrowing = client.mutation(BorrowMutation, { bookId: 'b1' }).toPromise();
    await settle(5);
    expect(page.latest()?.book.availableCopies).toBe(0);
    expect(page.latest()?.book.copies[0]?.status).toBe('ON_LOAN');

    const answer = await borrowing;
    await settle();
    expect(answer.error?.graphQLErrors[0]?.message).toBe('No copy is free for you: 2 holds wait for this book.');
    expect(answer.error?.graphQLErrors[0]?.extensions.code).toBe('BOOK_UNAVAILABLE');
    expect(page.latest()?.book.availableCopies).toBe(1);
    expect(page.latest()?.book.copies[0]?.status).toBe('AVAILABLE');
    // The rollback comes from the cache: the book was not fetched again.
    expect(calls.filter((name) => name === 'TestBook')).toHaveLength(1);
    page.stop();
  });

  it("takes the server's numbers on success and fetches the reader's active loans again", async () => {
    const calls: string[] = [];
    let loans: { __typename: string; node: { __typename: string; id: string } }[] = [];
    const client = new Client({
      url: 'http://test/graphql',
      exchanges: [
        createCacheExchange(),
        scriptedServer(
          {
            TestBook: () => ({ data: { book: book(1, 'AVAILABLE') } }),
            TestViewerLoans: () => ({
              data: { me: { __typename: 'User', id: 'u1', loans: { __typename: 'LoanConnection', edges: loans } } },
            }),
            TestBorrow: () => {
              loans = [{ __typename: 'LoanEdge', node: { __typename: 'Loan', id: 'l1' } }];
              return {
                data: {
                  borrowBook: {
                    __typename: 'Loan',
                    id: 'l1',
                    dueAt: '2026-12-08T00:00:00.000Z',
                    user: { __typename: 'User', id: 'u1' },
                    copy: { __typename: 'Copy', id: 'c1', status: 'ON_LOAN' },
                    book: { __typename: 'Book', id: 'b1', availableCopies: 0, totalCopies: 1, holdQueueLength: 0 },
                  },
                },
              };
            },
          },
          calls,
        ),
      ],
    });
    const page = watch(client, BookQuery as TypedDocumentNode<BookData, { id: string }>, { id: 'b1' });
    const viewer = watch(client, ViewerLoansQuery as TypedDocumentNode<{ me: { loans: { edges: unknown[] } } }, Record<string, never>>, {});
    await settle();
    expect(viewer.latest()?.me.loans.edges).toHaveLength(0);

    await client.mutation(BorrowMutation, { bookId: 'b1' }).toPromise();
    await settle();
    expect(page.latest()?.book.availableCopies).toBe(0);
    expect(page.latest()?.book.copies[0]?.status).toBe('ON_LOAN');
    expect(viewer.latest()?.me.loans.edges).toHaveLength(1);
    expect(calls.filter((name) => name === 'TestViewerLoans')).toHaveLength(2);
    expect(calls.filter((name) => name === 'TestBook')).toHaveLength(1);
    page.stop();
    viewer.stop();
  });
});

const ReviewsQuery = gql`
  query TestReviews($id: ID!) {
    book(id: $id) {
      id
      averageRating
      reviewCount
      reviews(first: 10) {
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          cursor
          node {
            id
            rating
            author {
              id
            }
            book {
              id
            }
          }
        }
      }
    }
  }
`;

type ReviewsData = { book: { averageRating: number | null; reviewCount: number; reviews: { edges: { node: { id: string } }[] } } };

describe('reviews in the cache', () => {
  function setup() {
    const calls: string[] = [];
    let reviews = [{ id: 'r1', rating: 4, author: 'u1' }];
    const reviewData = () => ({
      data: {
        book: {
          __typename: 'Book',
          id: 'b1',
          averageRating: reviews.length ? reviews.reduce((sum, r) => sum + r.rating, 0) / reviews.length : null,
          reviewCount: reviews.length,
          reviews: {
            __typename: 'ReviewConnection',
            pageInfo: { __typename: 'PageInfo', hasNextPage: false, endCursor: reviews.length ? 'c-last' : null },
            edges: reviews.map((r) => ({
              __typename: 'ReviewEdge',
              cursor: `c-${r.id}`,
              node: {
                __typename: 'Review',
                id: r.id,
                rating: r.rating,
                author: { __typename: 'User', id: r.author },
                book: { __typename: 'Book', id: 'b1' },
              },
            })),
          },
        },
      },
    });
    const client = new Client({
      url: 'http://test/graphql',
      exchanges: [
        createCacheExchange(),
        scriptedServer(
          {
            TestReviews: reviewData,
            TestDelete: () => {
              reviews = reviews.filter((r) => r.id !== 'r1');
              return { data: { deleteReview: true } };
            },
            TestWrite: () => {
              reviews = [{ id: 'r2', rating: 2, author: 'u2' }, ...reviews];
              return {
                data: {
                  writeReview: {
                    __typename: 'Review',
                    id: 'r2',
                    rating: 2,
                    author: { __typename: 'User', id: 'u2' },
                    book: { __typename: 'Book', id: 'b1', averageRating: 3, reviewCount: 2 },
                  },
                },
              };
            },
          },
          calls,
        ),
      ],
    });
    return { client, calls };
  }

  it('a deleted review leaves the list, and the rating and count are read again', async () => {
    const { client, calls } = setup();
    const page = watch(client, ReviewsQuery as TypedDocumentNode<ReviewsData, { id: string }>, { id: 'b1' });
    await settle();
    expect(page.latest()?.book.reviewCount).toBe(1);

    await client
      .mutation(
        gql`
          mutation TestDelete($id: ID!) {
            deleteReview(id: $id)
          }
        `,
        { id: 'r1' },
      )
      .toPromise();
    await settle();
    expect(page.latest()?.book.reviews.edges).toHaveLength(0);
    expect(page.latest()?.book.reviewCount).toBe(0);
    expect(page.latest()?.book.averageRating).toBeNull();
    expect(calls.filter((name) => name === 'TestReviews')).toHaveLength(2);
    page.stop();
  });

  it('a new review appears at the top with the rating from the answer', async () => {
    const { client, calls } = setup();
    const page = watch(client, ReviewsQuery as TypedDocumentNode<ReviewsData, { id: string }>, { id: 'b1' });
    await settle();

    await client
      .mutation(
        gql`
          mutation TestWrite($input: WriteReviewInput!) {
            writeReview(input: $input) {
              id
              rating
              author {
                id
              }
              book {
                id
                averageRating
                reviewCount
              }
            }
          }
        `,
        { input: { bookId: 'b1', rating: 2 } },
      )
      .toPromise();
    await settle();
    expect(page.latest()?.book.reviews.edges.map((edge) => edge.node.id)).toEqual(['r2', 'r1']);
    expect(page.latest()?.book.averageRating).toBe(3);
    expect(page.latest()?.book.reviewCount).toBe(2);
    expect(calls.filter((name) => name === 'TestReviews')).toHaveLength(2);
    page.stop();
  });
});
