/**
 * The Notification settings tab: which kinds of notification the patron wants, and how many days before a
 * due date the reminder comes. The form starts from what is stored and saves every choice at once.
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { ErrorMessage, Field, Loading, Notice } from '../../components/ui';
import { graphql } from '../../gql';
import type { AccountNotificationSettingsQuery } from '../../gql/graphql';

const SettingsQuery = graphql(`
  query AccountNotificationSettings {
    me {
      id
      notificationPreferences {
        dueSoon
        overdue
        reservationReady
        reservationExpired
        fineAssessed
        dueSoonDaysBefore
      }
    }
  }
`);

const UpdateSettingsMutation = graphql(`
  mutation AccountUpdateNotificationSettings($input: NotificationPreferencesInput!) {
    updateNotificationPreferences(input: $input) {
      dueSoon
      overdue
      reservationReady
      reservationExpired
      fineAssessed
      dueSoonDaysBefore
    }
  }
`);

type Flag = 'dueSoon' | 'overdue' | 'reservationReady' | 'reservationExpired' | 'fineAssessed';
type Preferences = NonNullable<AccountNotificationSettingsQuery['me']>['notificationPreferences'];

const FLAGS: { key: Flag; label: string }[] = [
  { key: 'dueSoon', label: 'Due-date reminders' },
  { key: 'overdue', label: 'Overdue notices' },
  { key: 'reservationReady', label: 'Hold ready' },
  { key: 'reservationExpired', label: 'Hold expired' },
  { key: 'fineAssessed', label: 'Fines' },
];

function flagsOf(preferences: Preferences): Record<Flag, boolean> {
  return {
    dueSoon: preferences.dueSoon,
    overdue: preferences.overdue,
    reservationReady: preferences.reservationReady,
    reservationExpired: preferences.reservationExpired,
    fineAssessed: preferences.fineAssessed,
  };
}

function samePreferences(a: Preferences, b: Preferences): boolean {
  return FLAGS.every(({ key }) => a[key] === b[key]) && a.dueSoonDaysBefore === b.dueSoonDaysBefore;
}

function SettingsForm({ stored }: { stored: Preferences }) {
  const [flags, setFlags] = useState(() => flagsOf(stored));
  const [days, setDays] = useState(String(stored.dueSoonDaysBefore));
  const [saved, setSaved] = useState(false);
  // A fresher read from the server (saved in another tab) replaces the form's values unless they were edited.
  const [base, setBase] = useState(stored);
  if (!samePreferences(base, stored)) {
    setBase(stored);
    if (samePreferences(base, { ...flags, dueSoonDaysBefore: Number(days) })) {
      setFlags(flagsOf(stored));
      setDays(String(stored.dueSoonDaysBefore));
    }
  }
  const [result, save] = useMutation(UpdateSettingsMutation);
  const dayCount = Number(days);
  const daysValid = Number.isInteger(dayCount) && dayCount >= 1 && dayCount <= 7;
  const [showInvalid, setShowInvalid] = useState(false);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    if (!daysValid) {
      setShowInvalid(true);
      return;
    }
    const response = await save({ input: { ...flags, dueSoonDaysBefore: dayCount } });
    if (!response.error) setSaved(true);
  };

  const daysInvalid = showInvalid && !daysValid;
  return (
    <form onSubmit={onSubmit} noValidate>
      <fieldset>
        <legend>Tell me about</legend>
        {FLAGS.map(({ key, label }) => (
          <div key={key} className="acct-check">
            <input
              type="checkbox"
              id={`pref-${key}`}
              checked={flags[key]}
              onChange={(event) => {
                setFlags({ ...flags, [key]: event.target.checked });
                setSaved(false);
              }}
            />
            <label htmlFor={`pref-${key}`}>{label}</label>
          </div>
        ))}
      </fieldset>
      <Field id="pref-days" label="Days before the due date" hint="When the due-date reminder comes: 1 to 7 days ahead.">
        <input
          id="pref-days"
          type="number"
          inputMode="numeric"
          min={1}
          max={7}
          step={1}
          required
          className="short"
          value={days}
          aria-invalid={daysInvalid || undefined}
          aria-describedby={daysInvalid ? 'pref-days-hint pref-days-error' : 'pref-days-hint'}
          onChange={(event) => {
            setDays(event.target.value);
            setSaved(false);
          }}
        />
      </Field>
      {daysInvalid && (
        <p id="pref-days-error" className="error">
          Enter a whole number of days from 1 to 7.
        </p>
      )}
      <ErrorMessage error={result.error} />
      <button type="submit" disabled={result.fetching}>
        {result.fetching ? 'Saving…' : 'Save settings'}
      </button>
      {saved && <Notice>Settings saved.</Notice>}
    </form>
  );
}

export function NotificationSettings() {
  const [{ data, fetching, error }] = useQuery({ query: SettingsQuery, requestPolicy: 'cache-and-network' });
  const preferences = data?.me?.notificationPreferences;
  return (
    <section aria-labelledby="settings-heading" className="narrow">
      <h2 id="settings-heading">Notification settings</h2>
      {!data && fetching && <Loading label="Loading your settings…" />}
      <ErrorMessage error={error} />
      {data && !preferences && !error && <ErrorMessage error={new Error('Your settings cannot be shown: you are not signed in.')} />}
      {preferences && <SettingsForm stored={preferences} />}
    </section>
  );
}
