/**
 * The web app in a real browser (Debian's headless Chromium through playwright-core) against `npm start`
 * on a fresh embedded database: sign-up, a typo search, borrowing the last copy while a second browser
 * watches it go, a hold that becomes ready when the first reader returns the book, the circulation desk,
 * and sessions that survive reloads and expire back to the sign-in page. Screens are saved to
 * docs/screenshots/.
 */
import { eventually } from '@shelfwise/testkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  accessibilityViolations,
  ADMIN,
  browserUnavailable,
  launchBrowser,
  newContext,
  screenshot,
  startApp,
  type RunningApp,
} from './harness.js';

const REQUIRED = process.env.CI === 'true' || process.env.SHELFWISE_REQUIRE_SERVICES === '1';
const unavailable = browserUnavailable();
if (unavailable && REQUIRED) throw new Error(`The browser tests are required here (CI) but cannot run: ${unavailable}`);
if (unavailable) console.warn(`[skip] browser tests: ${unavailable}`);
const suite = unavailable ? describe.skip : describe;

const TITLE = 'The Lighthouse Cartographer';
const PASSWORD = 'a-long-enough-password';

let app: RunningApp;
let browser: Browser;
let bookId: string;
let librarianToken: string;
const contexts: BrowserContext[] = [];

async function open(options: { phone?: boolean } = {}): Promise<Page> {
  const context = await newContext(browser, options);
  contexts.push(context);
  return context.newPage();
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(`${app.url}/signin`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function register(page: Page, name: string, email: string): Promise<void> {
  await page.goto(`${app.url}/register`);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

suite('the web app in Chromium', () => {
  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
    librarianToken = await app.login('librarian@shelfwise.example');
    // One book with exactly one copy, so borrowing it takes the last copy.
    const added = await app.graphql<{ addBook: { id: string } }>(
      `mutation E2eAddBook($input: AddBookInput!) { addBook(input: $input) { id } }`,
      {
        input: {
          isbn: '9780306406157',
          title: TITLE,
          authors: ['Mira Okafor'],
          genres: ['Fiction'],
          publishedYear: 2021,
          language: 'en',
          description: 'A mapmaker charts the coast one lighthouse at a time.',
          copies: 1,
        },
      },
      librarianToken,
    );
    bookId = added.addBook.id;
  }, 300_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await app?.stop();
  }, 60_000);

  it('signs a new patron up, finds a book despite a typo, and borrows its last copy while another browser watches it go', async () => {
    const watcher = await open();
    await watcher.goto(`${app.url}/books/${bookId}`);
    await watcher.getByRole('heading', { name: TITLE }).waitFor();
    await watcher.getByText('1 of 1 on the shelf').first().waitFor();

    const patron = await open();
    await register(patron, 'Nora Reader', 'nora@example.org');
    await patron.goto(app.url);
    await patron.getByRole('list', { name: 'Results' }).getByRole('link').first().waitFor();
    await screenshot(patron, 'catalogue');
    expect(await accessibilityViolations(patron)).toEqual([]);
    await patron.getByLabel('Search the catalogue').fill('lighthose cartographr');
    const result = patron.getByRole('link', { name: TITLE });
    await result.waitFor();
    await expect(patron.getByRole('list', { name: 'Results' }).getByRole('listitem').count()).resolves.toBe(1);
    await screenshot(patron, 'search-typo');
    expect(await accessibilityViolations(patron)).toEqual([]);
    await result.click();
    await patron.getByRole('heading', { name: TITLE }).waitFor();
    await patron.getByRole('button', { name: 'Borrow' }).click();
    await patron.getByText(/Borrowed\. Due back/).waitFor();
    await screenshot(patron, 'book');
    expect(await accessibilityViolations(patron)).toEqual([]);

    // The watching browser was never reloaded: the subscription moved the count.
    await watcher.getByText('0 of 1 on the shelf').first().waitFor();
    expect(await watcher.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
  });

  it('keeps a patron signed in across reloads, and sends an expired session to sign in and back', async () => {
    const page = await open();
    await signIn(page, 'ben@shelfwise.example', 'shelfwise-demo-password');
    await page.goto(`${app.url}/account?tab=loans`);
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await expect(page.getByRole('link', { name: 'Sign in' }).count()).resolves.toBe(0);

    // An access token that has run out is renewed with the refresh token (rotated) before anything renders.
    const before = await page.evaluate(() => JSON.parse(localStorage.getItem('shelfwise.session') ?? '{}') as { refreshToken: string });
    await page.evaluate(() => {
      const stored = JSON.parse(localStorage.getItem('shelfwise.session') ?? '{}') as Record<string, unknown>;
      localStorage.setItem('shelfwise.session', JSON.stringify({ ...stored, expiresAt: new Date(0).toISOString() }));
    });
    await page.reload();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    const after = await page.evaluate(
      () => JSON.parse(localStorage.getItem('shelfwise.session') ?? '{}') as { refreshToken: string; expiresAt: string },
    );
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(Date.parse(after.expiresAt)).toBeGreaterThan(Date.now());

    // The session ends on the server side (a reused refresh token ends it): the stored tokens go stale.
    await page.evaluate(() => {
      const stored = JSON.parse(localStorage.getItem('shelfwise.session') ?? '{}') as Record<string, unknown>;
      localStorage.setItem('shelfwise.session', JSON.stringify({ ...stored, expiresAt: new Date(0).toISOString(), refreshToken: 'ended' }));
    });
    await page.reload();
    await page.waitForURL(/\/signin\?next=/);
    await page.getByText('Your session has ended').waitFor();
    await page.getByLabel('Email').fill('ben@shelfwise.example');
    await page.getByLabel('Password').fill('shelfwise-demo-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/account\?tab=loans$/);
  });

  it('tells the next patron in the queue when the book comes back: the bell shows the ready notification', async () => {
    const holder = await open();
    await signIn(holder, 'ben@shelfwise.example', 'shelfwise-demo-password');
    await holder.goto(`${app.url}/books/${bookId}`);
    await holder.getByRole('button', { name: 'Place a hold' }).click();
    await holder.getByText(/You are number 1 in the queue/).waitFor();
    await holder.getByRole('link', { name: 'Notifications' }).waitFor();

    const borrower = await open();
    await signIn(borrower, 'nora@example.org', PASSWORD);
    await borrower.goto(`${app.url}/account?tab=loans`);
    await borrower.getByRole('button', { name: `Return ${TITLE}` }).click();
    await borrower.getByText('Returned.').waitFor();

    // The holder's page was left open: the bell, a toast and the book page itself update live.
    await holder.getByRole('link', { name: /^Notifications 1 unread$/ }).waitFor();
    await holder.getByRole('status').getByText(/ready/i).first().waitFor();
    await holder.getByText(/A copy waits for you on the hold shelf until/).waitFor();
    await screenshot(holder, 'hold-ready');
    expect(await accessibilityViolations(holder)).toEqual([]);
    await holder.goto(`${app.url}/account?tab=holds`);
    await holder.getByText(/Ready for pickup until/).waitFor();
    await screenshot(holder, 'account');
    expect(await accessibilityViolations(holder)).toEqual([]);
    await holder.getByRole('link', { name: /^Notifications 1 unread$/ }).click();
    await holder.getByRole('heading', { name: 'Notifications' }).waitFor();
    await holder.getByRole('button', { name: 'Mark all as read' }).click();
    await holder.getByRole('link', { name: 'Notifications', exact: true }).waitFor();
    await screenshot(holder, 'notifications');
    expect(await accessibilityViolations(holder)).toEqual([]);
  });

  it('lets a librarian check a copy out at the desk to a patron found by search', async () => {
    const added = await app.graphql<{ addBook: { id: string; copies: { barcode: string }[] } }>(
      `mutation E2eDeskBook($input: AddBookInput!) { addBook(input: $input) { id copies { barcode } } }`,
      {
        input: { isbn: '9780140328721', title: 'Desk Copy Atlas', authors: ['Tom Ruiz'], genres: ['Reference'], language: 'en', copies: 2 },
      },
      librarianToken,
    );
    const barcode = added.addBook.copies[0]!.barcode;

    const page = await open();
    await signIn(page, 'librarian@shelfwise.example', 'shelfwise-demo-password');
    await page.goto(`${app.url}/staff/desk`);
    await page.getByRole('heading', { name: 'Circulation desk' }).waitFor();
    await page.getByLabel('Find patron').fill('nora');
    await page.getByRole('button', { name: /Select Nora Reader/ }).click();
    await page.getByLabel('Copy barcode').fill(barcode);
    await page.getByRole('button', { name: 'Check out' }).click();
    await page.getByText(/Checked out Desk Copy Atlas to Nora Reader/).waitFor();

    // Checked back in at once: no hold waits, so it goes back on the shelf.
    await page.getByLabel('Barcode to check in').fill(barcode);
    await page.getByRole('button', { name: 'Check in' }).click();
    await page.getByText('Checked in Desk Copy Atlas from Nora Reader.').waitFor();
    await page.getByText('Return this copy to the shelf.').waitFor();
    await screenshot(page, 'desk');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByLabel('Copy barcode').fill(barcode);
    await page.getByRole('button', { name: 'Check out' }).click();
    await page.getByText(/Checked out Desk Copy Atlas to Nora Reader/).waitFor();

    // Two loans of that copy, both Nora's: the one checked in at the desk, and the one out now. (The
    // first check-out's notice is still on screen, so the second one is awaited through the API.)
    const loansOfCopy = async () => {
      const data = await app.graphql<{
        loans: { edges: { node: { status: string; copy: { barcode: string }; user: { name: string } } }[] };
      }>(`query E2eDeskLoans { loans(first: 50) { edges { node { status copy { barcode } user { name } } } } }`, {}, librarianToken);
      return data.loans.edges
        .filter((e) => e.node.copy.barcode === barcode)
        .map((e) => `${e.node.user.name} ${e.node.status}`)
        .sort();
    };
    await eventually(async () => (await loansOfCopy()).length === 2, 15_000, 'the second check-out');
    expect(await loansOfCopy()).toEqual(['Nora Reader ACTIVE', 'Nora Reader RETURNED']);
  });

  it('works at phone size: the catalogue and the menu fit the screen', async () => {
    const page = await open({ phone: true });
    await page.goto(app.url);
    await page.getByLabel('Search the catalogue').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'catalogue-phone');
    expect(await accessibilityViolations(page)).toEqual([]);
  });

  it('shows an admin the loan policies', async () => {
    const page = await open();
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto(`${app.url}/admin`);
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    await page.getByRole('button', { name: 'Save PATRON policy' }).waitFor();
  });
});
