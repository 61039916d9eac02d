/**
 * Finding a person by part of their name or email (`users(search:)`, library staff): a search box that asks
 * the server once typing pauses, and one "Select <name> (<email>)" button per match. Used by the desk
 * (check out to a patron) and the admin screen (change a role).
 */
import { useEffect, useId, useState } from 'react';
import { useQuery } from 'urql';
import { ErrorMessage, Loading } from '../../components/ui';
import { graphql } from '../../gql';

const FindUsersQuery = graphql(`
  query StaffFindUsers($search: String, $first: Int) {
    users(search: $search, first: $first) {
      totalCount
      edges {
        cursor
        node {
          id
          name
          email
          role
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

/** A person the finder offers. */
export interface FoundUser {
  id: string;
  name: string;
  email: string | null;
  role: string;
}

/** `value`, once it has stopped changing for `delayMs` (so a search runs when typing pauses). */
export function useDebouncedValue<T>(value: T, delayMs = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/** The button text (and accessible name) for choosing a person: "Select Ada Reader (ada@…)". */
export function selectLabel(user: { name: string; email: string | null }): string {
  return user.email ? `Select ${user.name} (${user.email})` : `Select ${user.name}`;
}

const SHOWN = 10;

export function PatronFinder({
  label,
  onSelect,
  showRole = false,
  inputId,
}: {
  /** The search box's label, e.g. "Find patron". */
  label: string;
  onSelect: (user: FoundUser) => void;
  /** Show each match's role next to it (the admin's role screen). */
  showRole?: boolean;
  inputId?: string;
}) {
  const generated = useId();
  const id = inputId ?? `finder-${generated}`;
  const [text, setText] = useState('');
  const search = useDebouncedValue(text.trim());
  const [result] = useQuery({
    query: FindUsersQuery,
    variables: { search, first: SHOWN },
    pause: search === '',
    // People change (new accounts, new roles): always ask, show what is cached meanwhile.
    requestPolicy: 'cache-and-network',
  });
  const connection = search === '' ? null : result.data?.users;
  const matches = connection?.edges.slice(0, SHOWN).map((e) => e.node) ?? [];
  const typing = text.trim() !== search;

  return (
    <div className="finder">
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <input
          id={id}
          type="search"
          autoComplete="off"
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            // Enter picks the one match there is (a patron's email typed in full, or a card reader).
            const only = matches.length === 1 && !typing ? matches[0] : undefined;
            if (e.key === 'Enter' && only) {
              e.preventDefault();
              onSelect(only);
            }
          }}
          aria-describedby={`${id}-hint`}
        />
        <small id={`${id}-hint`} className="muted">
          Part of a name or an email address; Enter chooses a single match.
        </small>
      </div>
      {search !== '' && (
        <div aria-live="polite">
          {result.fetching && !connection && <Loading label="Searching…" />}
          <ErrorMessage error={result.error} />
          {connection && !typing && (
            <p className="muted">
              {connection.totalCount === 0
                ? `No one matches “${search}”.`
                : connection.totalCount > matches.length
                  ? `${connection.totalCount} people match; the first ${matches.length} are shown. Type more to narrow.`
                  : `${connection.totalCount} ${connection.totalCount === 1 ? 'match' : 'matches'}.`}
            </p>
          )}
        </div>
      )}
      {matches.length > 0 && (
        <ul className="finder-results">
          {matches.map((user) => (
            <li key={user.id}>
              <button type="button" className="secondary" onClick={() => onSelect(user)}>
                {selectLabel(user)}
              </button>
              {showRole && <span className="muted"> {user.role}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
