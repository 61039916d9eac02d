/** The catalogue generator and bulk loader (`@shelfwise/books/catalog`): used by the seed, the import and the demo library. */
export * from './generate.js';
export * from './load.js';
/** The checks addBook applies, for importers. */
export { validateNewBook } from '../bookInput.js';
export { parseIsbn } from '../isbn.js';
