/**
 * The app shell: a skip link, the header (catalogue, account, notifications bell, staff screens by role)
 * and the page for the current path. Screens a visitor may not use say so and offer to sign in, keeping
 * the path to come back to.
 */
import type { ReactNode } from 'react';
import { Bell } from './components/Bell';
import { LiveNotifications } from './components/LiveNotifications';
import { useSession } from './lib/app';
import { Link, matchPath, useLocation } from './lib/router';
import { Account } from './pages/Account';
import { BookPage } from './pages/BookPage';
import { Catalog } from './pages/Catalog';
import { Notifications } from './pages/Notifications';
import { Register } from './pages/Register';
import { SignIn } from './pages/SignIn';
import { Admin } from './pages/staff/Admin';
import { BookEditor } from './pages/staff/BookEditor';
import { Desk } from './pages/staff/Desk';
import { PatronPage } from './pages/staff/PatronPage';
import { Patrons } from './pages/staff/Patrons';
import type { SessionUser } from './lib/session';

type Role = SessionUser['role'];
const STAFF: Role[] = ['LIBRARIAN', 'ADMIN'];

interface Route {
  path: string;
  /** Who may open it: anyone (undefined), any signed-in user ('signedIn'), or these roles. */
  allow?: 'signedIn' | Role[];
  render: (params: Record<string, string>) => ReactNode;
}

const ROUTES: Route[] = [
  { path: '/', render: () => <Catalog /> },
  { path: '/books/:id', render: ({ id }) => <BookPage id={id as string} /> },
  { path: '/signin', render: () => <SignIn /> },
  { path: '/register', render: () => <Register /> },
  { path: '/account', allow: 'signedIn', render: () => <Account /> },
  { path: '/notifications', allow: 'signedIn', render: () => <Notifications /> },
  { path: '/staff/desk', allow: STAFF, render: () => <Desk /> },
  { path: '/staff/books/new', allow: STAFF, render: () => <BookEditor /> },
  { path: '/staff/books/:id', allow: STAFF, render: ({ id }) => <BookEditor id={id} /> },
  { path: '/staff/patrons', allow: STAFF, render: () => <Patrons /> },
  { path: '/staff/patrons/:id', allow: STAFF, render: ({ id }) => <PatronPage id={id as string} /> },
  { path: '/admin', allow: ['ADMIN'], render: () => <Admin /> },
];

function Page() {
  const { pathname, search } = useLocation();
  const { user } = useSession();
  for (const route of ROUTES) {
    const params = matchPath(route.path, pathname);
    if (!params) continue;
    if (route.allow && !user) {
      const next = encodeURIComponent(`${pathname}${search.size ? `?${search.toString()}` : ''}`);
      return (
        <section>
          <h1>Please sign in</h1>
          <p>
            This page is for signed-in readers. <Link to={`/signin?next=${next}`}>Sign in</Link> or{' '}
            <Link to={`/register?next=${next}`}>create an account</Link>.
          </p>
        </section>
      );
    }
    if (Array.isArray(route.allow) && user && !route.allow.includes(user.role)) {
      return (
        <section>
          <h1>Not available</h1>
          <p>This page is for library staff. Your account ({user.email ?? user.name}) cannot open it.</p>
        </section>
      );
    }
    return route.render(params);
  }
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        Nothing lives at {pathname}. <Link to="/">Search the catalogue</Link>.
      </p>
    </section>
  );
}

function Header() {
  const { user, store } = useSession();
  const staff = user && STAFF.includes(user.role);
  return (
    <header className="site-header">
      <Link to="/" className="brand">
        Shelfwise
      </Link>
      <nav aria-label="Main">
        <ul>
          <li>
            <Link to="/">Catalogue</Link>
          </li>
          {staff && (
            <>
              <li>
                <Link to="/staff/desk">Desk</Link>
              </li>
              <li>
                <Link to="/staff/patrons">Patrons</Link>
              </li>
              <li>
                <Link to="/staff/books/new">Add book</Link>
              </li>
            </>
          )}
          {user?.role === 'ADMIN' && (
            <li>
              <Link to="/admin">Admin</Link>
            </li>
          )}
          {user ? (
            <>
              <li>
                <Link to="/account">My account</Link>
              </li>
              <li>
                <Bell />
              </li>
              <li>
                <button type="button" className="link" onClick={() => void store.signOut()}>
                  Sign out
                </button>
              </li>
            </>
          ) : (
            <>
              <li>
                <Link to="/signin">Sign in</Link>
              </li>
              <li>
                <Link to="/register">Register</Link>
              </li>
            </>
          )}
        </ul>
      </nav>
    </header>
  );
}

export function App() {
  const { user } = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main">
        <Page />
      </main>
      {user && <LiveNotifications />}
    </>
  );
}
