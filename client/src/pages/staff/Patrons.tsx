/**
 * Everyone with an account, for library staff: search by part of a name or email (kept in the address as
 * `?q=`, so a search can be shared and survives a reload), each result linking to the patron's page, and
 * more results on request.
 */
import { useEffect, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { Empty, ErrorMessage, formatDate, Loading, PageHeading } from '../../components/ui';
import { graphql } from '../../gql';
import { Link, setSearchParams, useLocation } from '../../lib/router';
import { useDebouncedValue } from './PatronFinder';

const PatronsQuery = graphql(`
  query PatronsList($search: String, $first: Int, $after: String) {
    users(search: $search, first: $first, after: $after) {
      totalCount
      edges {
        cursor
        node {
          id
          name
          email
          role
          createdAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const PAGE = 20;

export function Patrons() {
  const { search: params } = useLocation();
  const [text, setText] = useState(() => params.get('q') ?? '');
  const search = useDebouncedValue(text.trim());
  // Pages of the same search merge into one list in the cache (relayPagination); a new search starts over.
  const [after, setAfter] = useState<string | null>(null);
  useEffect(() => {
    setAfter(null);
    setSearchParams({ q: search || null });
  }, [search]);

  const [result] = useQuery({
    query: PatronsQuery,
    variables: { search: search || null, first: PAGE, after },
    requestPolicy: 'cache-and-network',
  });
  // While the next page loads, the pages already shown stay (no flash back to "Loading…").
  const shown = useRef<{ search: string; users: NonNullable<typeof result.data>['users'] } | null>(null);
  if (result.data) shown.current = { search, users: result.data.users };
  const connection = result.data?.users ?? (shown.current?.search === search ? shown.current.users : undefined);

  return (
    <section>
      <PageHeading title="Patrons">Patrons</PageHeading>
      <form role="search" className="narrow" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="patrons-find">Find patron</label>
          <input
            id="patrons-find"
            type="search"
            autoComplete="off"
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-describedby="patrons-find-hint"
          />
          <small id="patrons-find-hint" className="muted">
            Part of a name or an email address. Everyone is listed, oldest account first, while this is empty.
          </small>
        </div>
      </form>
      <ErrorMessage error={result.error} />
      {!connection ? (
        result.fetching && <Loading />
      ) : (
        <>
          <p className="muted" aria-live="polite">
            {connection.totalCount === 0
              ? ''
              : `${connection.totalCount} ${connection.totalCount === 1 ? 'person' : 'people'}${search ? ` match “${search}”` : ''}.`}
          </p>
          {connection.edges.length === 0 ? (
            <Empty>{search ? `No one matches “${search}”. Check the spelling, or search by email.` : 'No accounts yet.'}</Empty>
          ) : (
            <ul className="cards">
              {connection.edges.map(({ node }) => (
                <li key={node.id} className="card">
                  <p className="row">
                    <strong>
                      <Link to={`/staff/patrons/${node.id}`}>{node.name}</Link>
                    </strong>
                    <span>{node.email}</span>
                    <span className="role-tag">{node.role}</span>
                  </p>
                  <p className="muted">Since {formatDate(node.createdAt)}</p>
                </li>
              ))}
            </ul>
          )}
          {connection.pageInfo.hasNextPage && (
            <p>
              <button
                type="button"
                className="secondary"
                disabled={result.fetching}
                onClick={() => setAfter(connection.pageInfo.endCursor ?? null)}
              >
                {result.fetching ? 'Loading…' : 'Load more'}
              </button>
            </p>
          )}
        </>
      )}
    </section>
  );
}
