/**
 * Adding a book (`/staff/books/new`) and looking after one (`/staff/books/:id`): its details, its copies
 * (withdraw, mark lost — each asked again in place before it is sent — add more) and removing it from the catalogue. Server refusals (a taken ISBN, a bad
 * check digit, copies still out) are shown as written next to the control that caused them.
 */
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent, type ReactNode } from 'react';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { Empty, ErrorMessage, Field, Loading, Notice, PageHeading } from '../../components/ui';
import { graphql } from '../../gql';
import type { StaffBookEditorQuery } from '../../gql/graphql';
import { Link, navigate, useLocation } from '../../lib/router';
import {
  bookFormFromBook,
  bookInputFromForm,
  COPY_STATUS_WORDS,
  EMPTY_BOOK_FORM,
  errorField,
  parseWholeNumber,
  type BookFormValues,
} from './forms';

const AddBookMutation = graphql(`
  mutation StaffAddBook($input: AddBookInput!) {
    addBook(input: $input) {
      id
      title
      totalCopies
      availableCopies
      copies {
        id
        barcode
        status
      }
    }
  }
`);

const BookQuery = graphql(`
  query StaffBookEditor($id: ID!) {
    book(id: $id) {
      id
      isbn
      title
      authors
      genres
      publishedYear
      language
      description
      totalCopies
      availableCopies
      holdQueueLength
      copies {
        id
        barcode
        status
      }
    }
  }
`);

const UpdateBookMutation = graphql(`
  mutation StaffUpdateBook($id: ID!, $input: UpdateBookInput!) {
    updateBook(id: $id, input: $input) {
      id
      title
      authors
      genres
      publishedYear
      language
      description
    }
  }
`);

const AddCopiesMutation = graphql(`
  mutation StaffAddCopies($bookId: ID!, $count: Int!) {
    addCopies(bookId: $bookId, count: $count) {
      id
      totalCopies
      availableCopies
      copies {
        id
        barcode
        status
      }
    }
  }
`);

const WithdrawCopyMutation = graphql(`
  mutation StaffWithdrawCopy($copyId: ID!) {
    withdrawCopy(copyId: $copyId) {
      id
      barcode
      status
      book {
        id
        availableCopies
        totalCopies
      }
    }
  }
`);

const MarkCopyLostMutation = graphql(`
  mutation StaffMarkCopyLost($copyId: ID!) {
    markCopyLost(copyId: $copyId) {
      id
      barcode
      status
      book {
        id
        availableCopies
        totalCopies
      }
    }
  }
`);

const RemoveBookMutation = graphql(`
  mutation StaffRemoveBook($id: ID!) {
    removeBook(id: $id)
  }
`);

export function BookEditor({ id }: { id?: string }) {
  return id ? <EditBook id={id} /> : <NewBook />;
}

/** The error to show for a form: what the form itself could not read, else the server's refusal. */
function formError(local: string | null, server: CombinedError | undefined): Error | CombinedError | undefined {
  return local ? new Error(local) : server;
}

/** The book's detail fields; the server's `extensions.field` marks the control it refused. */
function BookFields({
  values,
  onChange,
  invalid,
  errorId,
  mode,
}: {
  values: BookFormValues;
  onChange: (values: BookFormValues) => void;
  invalid: string | undefined;
  errorId: string;
  mode: 'new' | 'edit';
}) {
  const set = (key: keyof BookFormValues) => (event: { target: { value: string } }) => onChange({ ...values, [key]: event.target.value });
  const aria = (field: string, hint?: boolean) => ({
    'aria-invalid': invalid === field ? true : undefined,
    'aria-describedby': [hint ? `book-${field}-hint` : null, invalid === field ? errorId : null].filter(Boolean).join(' ') || undefined,
  });
  return (
    <>
      <Field
        id="book-isbn"
        label="ISBN"
        hint={mode === 'new' ? 'ISBN-10 or ISBN-13; hyphens and spaces are fine.' : 'The ISBN cannot change: add a new book instead.'}
      >
        <input
          id="book-isbn"
          required={mode === 'new'}
          readOnly={mode === 'edit'}
          inputMode="text"
          autoComplete="off"
          value={values.isbn}
          onChange={set('isbn')}
          {...aria('isbn', true)}
        />
      </Field>
      <Field id="book-title" label="Title">
        <input id="book-title" required value={values.title} onChange={set('title')} {...aria('title')} />
      </Field>
      <Field id="book-authors" label="Authors" hint="Separate names with commas, in title-page order.">
        <input id="book-authors" required value={values.authors} onChange={set('authors')} {...aria('authors', true)} />
      </Field>
      <Field id="book-genres" label="Genres" hint="Separate genres with commas.">
        <input id="book-genres" value={values.genres} onChange={set('genres')} {...aria('genres', true)} />
      </Field>
      <Field id="book-publishedYear" label="Published year">
        <input
          id="book-publishedYear"
          inputMode="numeric"
          value={values.publishedYear}
          onChange={set('publishedYear')}
          {...aria('publishedYear')}
        />
      </Field>
      <Field id="book-language" label="Language" hint="A two-letter ISO 639-1 code, e.g. en.">
        <input id="book-language" value={values.language} onChange={set('language')} {...aria('language', true)} />
      </Field>
      <Field id="book-description" label="Description">
        <textarea id="book-description" value={values.description} onChange={set('description')} {...aria('description')} />
      </Field>
      {mode === 'new' && (
        <Field id="book-copies" label="Copies" hint="How many copies to create now, each with its own barcode.">
          <input id="book-copies" inputMode="numeric" value={values.copies} onChange={set('copies')} {...aria('copies', true)} />
        </Field>
      )}
    </>
  );
}

function NewBook() {
  const [values, setValues] = useState<BookFormValues>(EMPTY_BOOK_FORM);
  const [localError, setLocalError] = useState<string | null>(null);
  const [result, addBook] = useMutation(AddBookMutation);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = bookInputFromForm(values);
    if (!parsed.ok) {
      setLocalError(parsed.error);
      return;
    }
    setLocalError(null);
    const { data } = await addBook({ input: parsed.value });
    if (data) navigate(`/staff/books/${data.addBook.id}?added=1`);
  };

  const error = formError(localError, result.error);
  const existing = result.error?.graphQLErrors[0]?.extensions?.existingBookId;
  return (
    <section className="narrow">
      <PageHeading title="Add a book">Add a book</PageHeading>
      <form onSubmit={onSubmit} noValidate>
        <BookFields
          values={values}
          onChange={setValues}
          invalid={localError ? undefined : errorField(result.error)}
          errorId="book-error"
          mode="new"
        />
        <div id="book-error">
          <ErrorMessage error={error} />
          {!localError && typeof existing === 'string' && (
            <p>
              <Link to={`/staff/books/${existing}`}>Open the existing book</Link> to add copies to it.
            </p>
          )}
        </div>
        <button type="submit" disabled={result.fetching}>
          {result.fetching ? 'Adding…' : 'Add book'}
        </button>
      </form>
    </section>
  );
}

type LoadedBook = NonNullable<StaffBookEditorQuery['book']>;

function EditBook({ id }: { id: string }) {
  const [result] = useQuery({ query: BookQuery, variables: { id }, requestPolicy: 'cache-and-network' });
  const { search } = useLocation();
  const [removed, setRemoved] = useState<string | null>(null);

  if (removed) {
    return (
      <section>
        <PageHeading title="Book removed">Book removed</PageHeading>
        <Notice>Removed {removed} from the catalogue. Its copies are withdrawn; loans and reviews still point at it.</Notice>
        <p>
          <Link to="/staff/books/new">Add a book</Link> or <Link to="/">search the catalogue</Link>.
        </p>
      </section>
    );
  }
  const book = result.data?.book;
  if (!book) {
    if (result.fetching || (!result.data && !result.error)) return <Loading />;
    return (
      <section>
        <PageHeading title="Book not found">Book not found</PageHeading>
        <ErrorMessage error={result.error} />
        {!result.error && <Empty>No book in the catalogue has this id; it may have been removed.</Empty>}
        <p>
          <Link to="/staff/books/new">Add a book</Link> or <Link to="/">search the catalogue</Link>.
        </p>
      </section>
    );
  }
  return (
    <section>
      <PageHeading title={`Edit ${book.title}`}>Edit {book.title}</PageHeading>
      {search.get('added') === '1' && <AddedNotice title={book.title} copies={book.totalCopies} />}
      <p>
        <Link to={`/books/${book.id}`}>View in catalogue</Link>
      </p>
      <div className="staff-columns">
        <DetailsForm key={book.id} book={book} />
        <div>
          <Copies book={book} />
          <RemoveBook book={book} onRemoved={() => setRemoved(book.title)} />
        </div>
      </div>
    </section>
  );
}

/** "Added … with N copies", as the book was when the page opened (later edits do not rewrite it). */
function AddedNotice(props: { title: string; copies: number }) {
  const [{ title, copies }] = useState(props);
  return (
    <Notice>
      Added {title} to the catalogue with {copies} {copies === 1 ? 'copy' : 'copies'}.
    </Notice>
  );
}

function DetailsForm({ book }: { book: LoadedBook }) {
  const [values, setValues] = useState<BookFormValues>(() => bookFormFromBook(book));
  const [localError, setLocalError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [result, updateBook] = useMutation(UpdateBookMutation);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const parsed = bookInputFromForm(values);
    if (!parsed.ok) {
      setLocalError(parsed.error);
      return;
    }
    setLocalError(null);
    const { isbn: _isbn, copies: _copies, ...input } = parsed.value;
    const { data } = await updateBook({ id: book.id, input });
    if (data) setSaved(true);
  };

  return (
    <form onSubmit={onSubmit} noValidate aria-labelledby="book-details-heading" className="narrow">
      <h2 id="book-details-heading">Details</h2>
      <BookFields
        values={values}
        onChange={(next) => {
          setValues(next);
          setSaved(false);
        }}
        invalid={localError ? undefined : errorField(result.error)}
        errorId="book-details-error"
        mode="edit"
      />
      <div id="book-details-error">
        <ErrorMessage error={formError(localError, result.error)} />
      </div>
      {saved && <Notice>Saved the changes to {book.title}.</Notice>}
      <button type="submit" disabled={result.fetching}>
        {result.fetching ? 'Saving…' : 'Save changes'}
      </button>
    </form>
  );
}

/** A button whose accessible name says which copy it acts on ("Withdraw 978…-001") while it reads "Withdraw". */
function CopyButton({
  id,
  before,
  after,
  barcode,
  onClick,
  disabled,
}: {
  id: string;
  before: string;
  after?: string;
  barcode: string;
  onClick: () => void;
  disabled: boolean;
}) {
  return (
    <button id={id} type="button" className="secondary" onClick={onClick} disabled={disabled}>
      {before}
      <span className="visually-hidden"> {barcode}</span>
      {after ? ` ${after}` : null}
    </button>
  );
}

type CopyAction = 'withdraw' | 'lost';

const CONFIRM_WORDS: Record<CopyAction, { question: (barcode: string) => string; confirm: string }> = {
  withdraw: { question: (barcode) => `Withdraw copy ${barcode}? It leaves the catalogue for good.`, confirm: 'Withdraw copy' },
  lost: { question: (barcode) => `Mark copy ${barcode} lost?`, confirm: 'Mark copy lost' },
};

/**
 * The second step of a copy action, in place of its buttons: the question, then the action and "Keep".
 * The action button takes focus when it appears; Escape, like Keep, goes back without doing anything.
 */
function ConfirmCopyAction({
  copyId,
  barcode,
  action,
  onConfirm,
  onKeep,
}: {
  copyId: string;
  barcode: string;
  action: CopyAction;
  onConfirm: () => void;
  onKeep: () => void;
}) {
  const confirmButton = useRef<HTMLButtonElement>(null);
  useEffect(() => confirmButton.current?.focus(), []);
  const words = CONFIRM_WORDS[action];
  const questionId = `copy-${copyId}-confirm`;
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    onKeep();
  };
  return (
    <div role="group" aria-labelledby={questionId} onKeyDown={onKeyDown}>
      <p id={questionId}>{words.question(barcode)}</p>
      <div className="row">
        <button ref={confirmButton} type="button" onClick={onConfirm}>
          {words.confirm}
        </button>
        <button type="button" className="secondary" onClick={onKeep}>
          Keep
        </button>
      </div>
    </div>
  );
}

function Copies({ book }: { book: LoadedBook }) {
  const [withdrawResult, withdraw] = useMutation(WithdrawCopyMutation);
  const [lostResult, markLost] = useMutation(MarkCopyLostMutation);
  const [addResult, addCopies] = useMutation(AddCopiesMutation);
  /** The copy of the last action, so its outcome shows on its row. */
  const [last, setLast] = useState<{ copyId: string; kind: CopyAction; done: boolean } | null>(null);
  /** The copy action waiting for its confirmation; nothing is sent before it. */
  const [confirming, setConfirming] = useState<{ copyId: string; kind: CopyAction } | null>(null);
  /** The element to focus once the confirmation has gone (the button it came from, or the row's outcome). */
  const focusNext = useRef<string | null>(null);
  const [count, setCount] = useState('1');
  const [countError, setCountError] = useState<string | null>(null);
  const [added, setAdded] = useState<string[] | null>(null);

  useEffect(() => {
    if (!focusNext.current) return;
    document.getElementById(focusNext.current)?.focus();
    focusNext.current = null;
  });

  const act = async (copyId: string, kind: CopyAction) => {
    setConfirming(null);
    focusNext.current = `copy-${copyId}-outcome`;
    setLast({ copyId, kind, done: false });
    const { data } = kind === 'withdraw' ? await withdraw({ copyId }) : await markLost({ copyId });
    setLast({ copyId, kind, done: Boolean(data) });
  };
  const keep = (copyId: string, kind: CopyAction) => {
    setConfirming(null);
    focusNext.current = `copy-${copyId}-${kind}`;
  };
  const busy = withdrawResult.fetching || lostResult.fetching;

  const onAdd = async (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    const parsed = parseWholeNumber(count, 'Number of copies to add');
    if (!parsed.ok || parsed.value === null) {
      setCountError(parsed.ok ? 'Number of copies to add is required.' : parsed.error);
      return;
    }
    setCountError(null);
    const before = new Set(book.copies.map((c) => c.id));
    const { data } = await addCopies({ bookId: book.id, count: parsed.value });
    if (data) setAdded(data.addCopies.copies.filter((c) => !before.has(c.id)).map((c) => c.barcode));
  };

  const rowOutcome = (copyId: string): ReactNode => {
    if (!last || last.copyId !== copyId) return null;
    const error = last.kind === 'withdraw' ? withdrawResult.error : lostResult.error;
    if (!last.done) return error ? <ErrorMessage error={error} /> : null;
    return <span className="available">{last.kind === 'withdraw' ? 'Withdrawn.' : 'Marked lost.'}</span>;
  };

  return (
    <section aria-labelledby="copies-heading">
      <h2 id="copies-heading">Copies</h2>
      <p>
        {book.availableCopies} of {book.totalCopies} {book.totalCopies === 1 ? 'copy' : 'copies'} on the shelf
        {book.holdQueueLength > 0 ? `; ${book.holdQueueLength} ${book.holdQueueLength === 1 ? 'hold' : 'holds'} waiting` : ''}.
      </p>
      {book.copies.length === 0 ? (
        <Empty>This book has no copies yet.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Barcode</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {book.copies.map((copy) => (
              <tr key={copy.id}>
                <td>
                  <code>{copy.barcode}</code>
                </td>
                <td>{COPY_STATUS_WORDS[copy.status] ?? copy.status}</td>
                <td>
                  {confirming?.copyId === copy.id ? (
                    <ConfirmCopyAction
                      copyId={copy.id}
                      barcode={copy.barcode}
                      action={confirming.kind}
                      onConfirm={() => void act(copy.id, confirming.kind)}
                      onKeep={() => keep(copy.id, confirming.kind)}
                    />
                  ) : (
                    <div className="row">
                      {(copy.status === 'AVAILABLE' || copy.status === 'LOST') && (
                        <CopyButton
                          id={`copy-${copy.id}-withdraw`}
                          before="Withdraw"
                          barcode={copy.barcode}
                          disabled={busy}
                          onClick={() => setConfirming({ copyId: copy.id, kind: 'withdraw' })}
                        />
                      )}
                      {(copy.status === 'AVAILABLE' || copy.status === 'ON_LOAN') && (
                        <CopyButton
                          id={`copy-${copy.id}-lost`}
                          before="Mark"
                          after="lost"
                          barcode={copy.barcode}
                          disabled={busy}
                          onClick={() => setConfirming({ copyId: copy.id, kind: 'lost' })}
                        />
                      )}
                    </div>
                  )}
                  <div id={`copy-${copy.id}-outcome`} tabIndex={-1} aria-live="polite">
                    {rowOutcome(copy.id)}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={onAdd} noValidate className="inline-form">
        <Field id="add-copies-count" label="Number of copies to add" hint="1 to 100 new copies, each with a fresh barcode.">
          <input
            id="add-copies-count"
            inputMode="numeric"
            value={count}
            onChange={(e) => setCount(e.target.value)}
            aria-describedby="add-copies-count-hint add-copies-error"
            aria-invalid={countError || addResult.error ? true : undefined}
          />
        </Field>
        <button type="submit" disabled={addResult.fetching}>
          {addResult.fetching ? 'Adding…' : 'Add copies'}
        </button>
        <div id="add-copies-error">
          <ErrorMessage error={formError(countError, addResult.error)} />
        </div>
      </form>
      {added && (
        <Notice>
          Added {added.length} {added.length === 1 ? 'copy' : 'copies'}
          {added.length > 0 ? `: ${added.join(', ')}` : ''}.
        </Notice>
      )}
    </section>
  );
}

function RemoveBook({ book, onRemoved }: { book: LoadedBook; onRemoved: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [result, removeBook] = useMutation(RemoveBookMutation);

  const onConfirm = async () => {
    const { data } = await removeBook({ id: book.id });
    if (data?.removeBook) onRemoved();
  };

  return (
    <section aria-labelledby="remove-heading" className="danger-zone">
      <h2 id="remove-heading">Remove from the catalogue</h2>
      {!confirming ? (
        <button type="button" className="secondary" onClick={() => setConfirming(true)}>
          Remove book
        </button>
      ) : (
        <div role="group" aria-labelledby="remove-question">
          <p id="remove-question">
            Remove {book.title} from the catalogue? Its copies are withdrawn and it no longer appears in searches. This cannot be undone
            here.
          </p>
          <div className="row">
            <button type="button" onClick={() => void onConfirm()} disabled={result.fetching} autoFocus>
              {result.fetching ? 'Removing…' : 'Yes, remove book'}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      <ErrorMessage error={result.error} />
    </section>
  );
}
