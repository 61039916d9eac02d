/** Create a patron account and sign straight in. */
import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { ErrorMessage, Field, PageHeading } from '../components/ui';
import { graphql } from '../gql';
import { useSession } from '../lib/app';
import { Link, navigate, useLocation } from '../lib/router';
import { safeNext } from './SignIn';

const RegisterMutation = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
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

export function Register() {
  const { store } = useSession();
  const { search } = useLocation();
  const next = safeNext(search.get('next'));
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [result, register] = useMutation(RegisterMutation);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const { data } = await register({ input: { name, email, password } });
    if (data) {
      store.signIn(data.register);
      navigate(next, { replace: true });
    }
  };

  return (
    <section className="narrow">
      <PageHeading title="Create an account">Create an account</PageHeading>
      <form onSubmit={onSubmit}>
        <Field id="register-name" label="Name">
          <input id="register-name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field id="register-email" label="Email">
          <input id="register-email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field id="register-password" label="Password" hint="At least 10 characters, and not your email address.">
          <input
            id="register-password"
            type="password"
            autoComplete="new-password"
            required
            minLength={10}
            aria-describedby="register-password-hint"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <ErrorMessage error={result.error} />
        <button type="submit" disabled={result.fetching}>
          {result.fetching ? 'Creating your account…' : 'Create account'}
        </button>
      </form>
      <p>
        Already have an account? <Link to={`/signin${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>Sign in</Link>.
      </p>
    </section>
  );
}
