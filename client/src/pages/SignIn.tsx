/** Sign in with email and password; back to where the person was (`?next=`) afterwards. */
import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { ErrorMessage, Field, PageHeading } from '../components/ui';
import { graphql } from '../gql';
import { useSession } from '../lib/app';
import { Link, navigate, useLocation } from '../lib/router';

const LoginMutation = graphql(`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      accessToken
      refreshToken
      expiresAt
      user {
        id
        name
        email
        role
      }
    }
  }
`);

/** Only same-site paths: `?next=https://evil.example` must not become an open redirect. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function SignIn() {
  const { store, endReason, user } = useSession();
  const { search } = useLocation();
  const next = safeNext(search.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [result, login] = useMutation(LoginMutation);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const { data } = await login({ email, password });
    if (data) {
      store.signIn(data.login);
      navigate(next, { replace: true });
    }
  };

  return (
    <section className="narrow">
      <PageHeading title="Sign in">Sign in</PageHeading>
      {endReason === 'expired' && <p className="notice">Your session has ended. Please sign in again to carry on where you were.</p>}
      {user && (
        <p className="notice">
          You are signed in as {user.name}. <Link to="/">Go to the catalogue</Link>.
        </p>
      )}
      <form onSubmit={onSubmit} aria-describedby={result.error ? 'signin-error' : undefined}>
        <Field id="signin-email" label="Email">
          <input id="signin-email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field id="signin-password" label="Password">
          <input
            id="signin-password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <div id="signin-error">
          <ErrorMessage error={result.error} />
        </div>
        <button type="submit" disabled={result.fetching}>
          {result.fetching ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p>
        New here? <Link to={`/register${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>Create an account</Link>.
      </p>
    </section>
  );
}
