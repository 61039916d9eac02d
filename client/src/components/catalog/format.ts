/** Texts shared by the catalogue and the book page. */

/** "4.3 out of 5 from 12 reviews", "5.0 out of 5 from 1 review", or "No reviews yet". */
export function ratingSummary(averageRating: number | null, reviewCount: number): string {
  if (averageRating == null || reviewCount <= 0) return 'No reviews yet';
  return `${averageRating.toFixed(1)} out of 5 from ${reviewCount.toLocaleString('en')} ${reviewCount === 1 ? 'review' : 'reviews'}`;
}

/** "★★★★☆" for a rating of 4: decoration next to a text that says the number. */
export function stars(rating: number): string {
  const full = Math.max(0, Math.min(5, Math.round(rating)));
  return '★'.repeat(full) + '☆'.repeat(5 - full);
}

const COPY_STATUS: Record<string, string> = {
  AVAILABLE: 'On the shelf',
  ON_LOAN: 'On loan',
  ON_HOLD_SHELF: 'On the hold shelf',
  LOST: 'Lost',
  WITHDRAWN: 'Withdrawn',
};

/** A copy's status in words ("On the shelf"). */
export function copyStatusText(status: string): string {
  return COPY_STATUS[status] ?? status;
}
