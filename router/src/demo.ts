import { generateBooks, insertBooks } from '@shelfwise/books/catalog';
import type { Platform } from './platform.js';

/** ISBN-13 with its check digit computed from the first twelve digits. */
function isbn13(first12: string): string {
  const sum = [...first12].reduce((acc, d, i) => acc + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
  return `${first12}${(10 - (sum % 10)) % 10}`;
}

const BOOKS = [
  {
    isbn: '978014143951',
    title: 'Pride and Prejudice',
    authors: ['Jane Austen'],
    genres: ['Fiction', 'Classics', 'Romance'],
    publishedYear: 1813,
    copies: 3,
  },
  {
    isbn: '978045152493',
    title: 'Nineteen Eighty-Four',
    authors: ['George Orwell'],
    genres: ['Fiction', 'Classics', 'Dystopia'],
    publishedYear: 1949,
    copies: 4,
  },
  {
    isbn: '978006112008',
    title: 'To Kill a Mockingbird',
    authors: ['Harper Lee'],
    genres: ['Fiction', 'Classics'],
    publishedYear: 1960,
    copies: 2,
  },
  {
    isbn: '978054792822',
    title: 'The Hobbit',
    authors: ['J. R. R. Tolkien'],
    genres: ['Fantasy', 'Classics'],
    publishedYear: 1937,
    copies: 3,
  },
  { isbn: '978044117271', title: 'Dune', authors: ['Frank Herbert'], genres: ['Science Fiction'], publishedYear: 1965, copies: 1 },
  { isbn: '978140003341', title: 'Beloved', authors: ['Toni Morrison'], genres: ['Fiction'], publishedYear: 1987, copies: 2 },
  {
    isbn: '978074327356',
    title: 'The Great Gatsby',
    authors: ['F. Scott Fitzgerald'],
    genres: ['Fiction', 'Classics'],
    publishedYear: 1925,
    copies: 2,
  },
  {
    isbn: '978014243724',
    title: 'Moby-Dick',
    authors: ['Herman Melville'],
    genres: ['Fiction', 'Classics', 'Adventure'],
    publishedYear: 1851,
    copies: 1,
  },
  {
    isbn: '978014144114',
    title: 'Jane Eyre',
    authors: ['Charlotte Brontë'],
    genres: ['Fiction', 'Classics', 'Romance'],
    publishedYear: 1847,
    copies: 2,
  },
  {
    isbn: '978048628211',
    title: 'Frankenstein',
    authors: ['Mary Shelley'],
    genres: ['Fiction', 'Classics', 'Horror'],
    publishedYear: 1818,
    copies: 2,
  },
  {
    isbn: '978006088328',
    title: 'One Hundred Years of Solitude',
    authors: ['Gabriel García Márquez'],
    genres: ['Fiction', 'Magical Realism'],
    publishedYear: 1967,
    copies: 1,
  },
  {
    isbn: '978044147812',
    title: 'The Left Hand of Darkness',
    authors: ['Ursula K. Le Guin'],
    genres: ['Science Fiction'],
    publishedYear: 1969,
    copies: 2,
  },
];

/** Every demo account's password (documented in the README; demo data is for local runs only). */
export const DEMO_PASSWORD = 'shelfwise-demo-password';

/** The demo catalogue adds this many generated books to the classics (the seed's generator, fixed seed). */
export const DEMO_GENERATED_BOOKS = 300;
const DEMO_CATALOG_SEED = 2024;

/** What the demo library loaded, for the start-up message. */
export interface DemoLibrary {
  books: number;
  copies: number;
  librarian: string;
  patrons: string[];
}

/**
 * Loads a small demo library into an EMPTY platform, so a fresh `npm start` has something to show: a
 * librarian, two patrons, twelve classics and {@link DEMO_GENERATED_BOOKS} books from the catalogue
 * generator that `npm run seed` uses (always the same ones), with copies, and a few reviews. Returns null
 * and does nothing when the catalogue already holds books. Turn it off with SHELFWISE_DEMO_DATA=false.
 */
export async function seedDemoLibrary(platform: Platform): Promise<DemoLibrary | null> {
  const { users, books, reviews } = platform.subgraphs;
  // The first admin may already exist (created at start): only an empty catalogue gets demo data.
  if ((await books.books.count()) > 0) return null;

  const lin = await users.users.create({ email: 'librarian@shelfwise.example', name: 'Lin Librarian', role: 'LIBRARIAN' });
  const ada = await users.users.create({ email: 'ada@shelfwise.example', name: 'Ada Reader', role: 'PATRON' });
  const ben = await users.users.create({ email: 'ben@shelfwise.example', name: 'Ben Borrower', role: 'PATRON' });
  for (const user of [lin, ada, ben]) await users.accounts.setPassword(user.id, DEMO_PASSWORD);

  const created = [];
  for (const { isbn, ...book } of BOOKS) created.push(await books.books.create({ ...book, isbn: isbn13(isbn), language: 'en' }));

  const byTitle = new Map(created.map((b) => [b.title, b.id]));
  const review = async (title: string, authorId: string, rating: number, body: string) => {
    const bookId = byTitle.get(title);
    if (bookId) await reviews.reviews.create({ bookId, authorId, rating, body });
  };
  await review('Dune', ada.id, 5, 'The desert has never felt so alive.');
  await review('Dune', ben.id, 4, 'Slow start, unforgettable finish.');
  await review('Pride and Prejudice', ada.id, 5, 'Sharper and funnier every time I read it.');
  await review('Nineteen Eighty-Four', ben.id, 4, 'Bleak and necessary.');
  await review('The Hobbit', ben.id, 5, 'A perfect adventure.');

  // A few hundred more, in one statement, so search, facets and paging have something to work on.
  const generated = await insertBooks(
    (sql, params) => books.database.prisma.$queryRawUnsafe<Record<string, unknown>[]>(sql, ...params),
    generateBooks(DEMO_CATALOG_SEED, 0, DEMO_GENERATED_BOOKS),
  );
  const classicCopies = BOOKS.reduce((sum, b) => sum + b.copies, 0);
  return {
    books: created.length + generated.books,
    copies: classicCopies + generated.copies,
    librarian: lin.email,
    patrons: [ada.email, ben.email],
  };
}
