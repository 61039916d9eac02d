/**
 * Writing or editing one's review of a book: a rating from 1 to 5 and optional text. The server's
 * refusals (a second review is a CONFLICT, text over the limit is BAD_USER_INPUT) are shown as written,
 * next to the button.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useMutation, type CombinedError } from 'urql';
import { graphql } from '../../gql';
import { ErrorMessage } from '../ui';

const WriteReviewMutation = graphql(`
  mutation BookPageWriteReview($input: WriteReviewInput!) {
    writeReview(input: $input) {
      id
      rating
      body
      createdAt
      updatedAt
      author {
        id
        name
      }
      book {
        id
        averageRating
        reviewCount
      }
    }
  }
`);

const UpdateReviewMutation = graphql(`
  mutation BookPageUpdateReview($id: ID!, $input: UpdateReviewInput!) {
    updateReview(id: $id, input: $input) {
      id
      rating
      body
      updatedAt
      book {
        id
        averageRating
        reviewCount
      }
    }
  }
`);

const RATINGS = [5, 4, 3, 2, 1] as const;

/** The review being edited, or null to write a new one. */
export interface EditedReview {
  id: string;
  rating: number;
  body: string | null;
}

export function ReviewForm({
  bookId,
  editing,
  onDone,
  onCancel,
}: {
  bookId: string;
  editing: EditedReview | null;
  /** After the server accepted it. */
  onDone: () => void;
  /** Edit mode only: leave without saving. */
  onCancel?: () => void;
}) {
  const id = useId();
  const [rating, setRating] = useState(editing ? String(editing.rating) : '');
  const [body, setBody] = useState(editing?.body ?? '');
  const [error, setError] = useState<CombinedError | null>(null);
  const [written, write] = useMutation(WriteReviewMutation);
  const [updated, update] = useMutation(UpdateReviewMutation);
  const busy = written.fetching || updated.fetching;
  const ratingRef = useRef<HTMLSelectElement>(null);

  // Opening the editor puts the keyboard where the change starts.
  const editingId = editing?.id;
  useEffect(() => {
    if (editingId) ratingRef.current?.focus();
  }, [editingId]);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setError(null);
    const stars = Number(rating);
    const text = body.trim() ? body : null;
    const result = editing
      ? await update({ id: editing.id, input: { rating: stars, body: text } })
      : await write({ input: { bookId, rating: stars, body: text } });
    if (result.error) setError(result.error);
    else onDone();
  };

  const heading = editing ? 'Edit your review' : 'Write a review';
  return (
    <form className="review-form card" onSubmit={onSubmit} aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>{heading}</h3>
      <div className="field">
        <label htmlFor={`${id}-rating`}>Rating</label>
        <select ref={ratingRef} id={`${id}-rating`} required value={rating} onChange={(event) => setRating(event.target.value)}>
          <option value="">Choose 1 to 5 stars</option>
          {RATINGS.map((stars) => (
            <option key={stars} value={stars}>
              {stars === 1 ? '1 star' : `${stars} stars`}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-body`}>Your review</label>
        <textarea
          id={`${id}-body`}
          value={body}
          onChange={(event) => setBody(event.target.value)}
          aria-describedby={`${id}-body-hint`}
          rows={5}
        />
        <small id={`${id}-body-hint`} className="muted">
          Optional. Plain text, up to 5,000 characters.
        </small>
      </div>
      <div className="row">
        <button type="submit" aria-disabled={busy} aria-describedby={error ? `${id}-error` : undefined}>
          {editing ? 'Save review' : 'Post review'}
        </button>
        {editing && onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
        {busy && (
          <span className="muted" role="status">
            Saving…
          </span>
        )}
      </div>
      <div id={`${id}-error`}>
        <ErrorMessage error={error} />
      </div>
    </form>
  );
}
