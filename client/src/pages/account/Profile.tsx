/**
 * The Profile tab: name and sign-in email, and "Sign out everywhere" for a lost phone or a shared computer.
 * A saved profile also updates the session's copy of the user, so the header and other tabs show the new
 * name without signing in again.
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { ErrorMessage, Field, Loading, Notice, formatDate } from '../../components/ui';
import { graphql } from '../../gql';
import { useSession } from '../../lib/app';
import { navigate } from '../../lib/router';

const ProfileQuery = graphql(`
  query AccountProfile {
    me {
      id
      name
      email
      createdAt
    }
  }
`);

const UpdateProfileMutation = graphql(`
  mutation AccountUpdateProfile($input: UpdateProfileInput!) {
    updateProfile(input: $input) {
      id
      name
      email
    }
  }
`);

const LogoutEverywhereMutation = graphql(`
  mutation AccountLogoutEverywhere {
    logoutEverywhere
  }
`);

function ProfileForm({ name: storedName, email: storedEmail }: { name: string; email: string }) {
  const { store } = useSession();
  const [name, setName] = useState(storedName);
  const [email, setEmail] = useState(storedEmail);
  const [saved, setSaved] = useState(false);
  const [result, update] = useMutation(UpdateProfileMutation);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    // Only what changed is sent: an unchanged email is not checked against other accounts again.
    const input = {
      ...(name.trim() !== storedName ? { name: name.trim() } : {}),
      ...(email.trim().toLowerCase() !== storedEmail ? { email: email.trim() } : {}),
    };
    if (Object.keys(input).length === 0) {
      setSaved(true);
      return;
    }
    const response = await update({ input });
    const user = response.data?.updateProfile;
    if (!user) return;
    store.updateUser({ name: user.name, email: user.email });
    setName(user.name);
    setEmail(user.email ?? '');
    setSaved(true);
  };

  const edit = (apply: () => void) => {
    apply();
    setSaved(false);
  };

  return (
    <form onSubmit={onSubmit}>
      <Field id="profile-name" label="Name" hint="Library staff see it, and your reviews are signed with it.">
        <input
          id="profile-name"
          autoComplete="name"
          required
          maxLength={100}
          value={name}
          aria-describedby="profile-name-hint"
          onChange={(e) => edit(() => setName(e.target.value))}
        />
      </Field>
      <Field id="profile-email" label="Email" hint="You sign in with it.">
        <input
          id="profile-email"
          type="email"
          autoComplete="email"
          required
          value={email}
          aria-describedby="profile-email-hint"
          onChange={(e) => edit(() => setEmail(e.target.value))}
        />
      </Field>
      <ErrorMessage error={result.error} />
      <button type="submit" disabled={result.fetching}>
        {result.fetching ? 'Saving…' : 'Save profile'}
      </button>
      {saved && <Notice>Profile saved.</Notice>}
    </form>
  );
}

function SignOutEverywhere() {
  const { store } = useSession();
  const [result, logoutEverywhere] = useMutation(LogoutEverywhereMutation);

  const onClick = async () => {
    const response = await logoutEverywhere({});
    if (response.error) return;
    // Every session has ended on the server, this one included: forget it here too.
    await store.signOut();
    navigate('/signin', { replace: true });
  };

  return (
    <section aria-labelledby="sessions-heading">
      <h3 id="sessions-heading">Sessions</h3>
      <p id="sessions-hint">Signs you out on every device and browser where you are signed in, this one included.</p>
      <button
        type="button"
        className="secondary"
        onClick={() => void onClick()}
        disabled={result.fetching}
        aria-describedby="sessions-hint"
      >
        {result.fetching ? 'Signing out everywhere…' : 'Sign out everywhere'}
      </button>
      <ErrorMessage error={result.error} />
    </section>
  );
}

export function Profile() {
  const [{ data, fetching, error }] = useQuery({ query: ProfileQuery, requestPolicy: 'cache-and-network' });
  const me = data?.me;
  return (
    <section aria-labelledby="profile-heading" className="narrow">
      <h2 id="profile-heading">Profile</h2>
      {!data && fetching && <Loading label="Loading your profile…" />}
      <ErrorMessage error={error} />
      {me && (
        <>
          <p className="muted">Member since {formatDate(me.createdAt)}.</p>
          <ProfileForm key={me.id} name={me.name} email={me.email ?? ''} />
          <SignOutEverywhere />
        </>
      )}
    </section>
  );
}
