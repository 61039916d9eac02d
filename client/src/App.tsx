import { useState, type FormEvent } from 'react';
import { useQuery } from 'urql';

const CatalogQuery = `
  query Catalog($query: String, $after: String) {
    books(query: $query, first: 20, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id
          title
          authors
          publishedYear
          availableCopies
          totalCopies
          averageRating
          reviewCount
          holdQueueLength
        }
      }
    }
  }
`;

interface CatalogBook {
  id: string;
  title: string;
  authors: string[];
  publishedYear: number | null;
  availableCopies: number;
  totalCopies: number;
  averageRating: number | null;
  reviewCount: number;
  holdQueueLength: number;
}

interface CatalogData {
  books: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: CatalogBook }[] };
}

/** The public catalogue: search, availability, ratings and hold queues, from one query across subgraphs. */
export function App() {
  const [draft, setDraft] = useState('');
  const [query, setQuery] = useState<string | null>(null);
  const [{ data, fetching, error }] = useQuery<CatalogData>({ query: CatalogQuery, variables: { query } });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setQuery(draft.trim() === '' ? null : draft.trim());
  };

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 880, margin: '2rem auto', padding: '0 1rem' }}>
      <h1>Shelfwise</h1>
      <form onSubmit={onSubmit} role="search">
        <label htmlFor="q">Search the catalogue </label>
        <input id="q" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="Title, author or ISBN" />
        <button type="submit">Search</button>
      </form>
      {fetching && <p>Loading…</p>}
      {error && <p role="alert">The catalogue could not be loaded: {error.message}</p>}
      {data && (
        <>
          <p>{data.books.totalCount} books</p>
          <ul aria-label="books">
            {data.books.edges.map(({ node }) => (
              <li key={node.id}>
                <strong>{node.title}</strong> — {node.authors.join(', ')}
                {node.publishedYear ? ` (${node.publishedYear})` : ''}
                <br />
                {node.availableCopies} of {node.totalCopies} on the shelf
                {node.holdQueueLength > 0 ? ` · ${node.holdQueueLength} waiting` : ''}
                {node.averageRating !== null ? ` · ★ ${node.averageRating.toFixed(1)} (${node.reviewCount})` : ' · no reviews yet'}
              </li>
            ))}
          </ul>
        </>
      )}
    </main>
  );
}
