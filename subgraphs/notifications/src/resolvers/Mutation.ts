import { badInput, requireViewer } from '@shelfwise/kit';
import type { MutationResolvers, NotificationPreferencesInput } from '../generated/graphql.js';
import type { Preferences } from '../data/NotificationRepository.js';

const PREFERENCE_FIELDS = ['dueSoon', 'overdue', 'reservationReady', 'reservationExpired', 'fineAssessed', 'dueSoonDaysBefore'] as const;

// Both act on the signed-in user's own inbox and preferences only: no argument names another user.
export const Mutation: MutationResolvers = {
  markNotificationsRead: (_parent, { ids }, { viewer, notifications }) => notifications.markRead(requireViewer(viewer).userId, ids),
  updateNotificationPreferences: async (_parent, { input }, { viewer, notifications }) => {
    const userId = requireViewer(viewer).userId;
    const saved = await notifications.savePreferences(userId, preferenceChanges(input));
    return { ...saved, userId };
  },
};

/** The fields given, checked: at least one, and none explicitly null (omit a field to keep it). */
function preferenceChanges(input: NotificationPreferencesInput): Partial<Preferences> {
  const changes: Partial<Record<keyof Preferences, unknown>> = {};
  for (const field of PREFERENCE_FIELDS) {
    const value = input[field];
    if (value === undefined) continue;
    if (value === null) throw badInput(`"${field}" cannot be null; leave it out to keep its current value.`);
    changes[field] = value;
  }
  if (Object.keys(changes).length === 0) throw badInput(`Give at least one preference to change (${PREFERENCE_FIELDS.join(', ')}).`);
  return changes as Partial<Preferences>;
}
