/** The catalogue generator and bulk loader (`@shelfwise/books/catalog`): used by the seed, the import and the demo library. */
export * from './generate.js';
export * from './load.js';
