import type { IncomingMessage } from 'node:http';
import { serviceOf, viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { BookRepository } from './data/BookRepository.js';
import type { CatalogRepository } from './data/CatalogRepository.js';
import type { InventoryRepository } from './data/InventoryRepository.js';

/** The repositories a request may use. */
export interface Repositories {
  books: BookRepository;
  catalog: CatalogRepository;
  inventory: InventoryRepository;
}

/** Per-request context: who is asking, fresh DataLoaders, and the repositories. */
export interface Context extends Repositories {
  viewer: Viewer | null;
  /** The calling subgraph on an internal call (service credential); null through the router. */
  service: string | null;
  clock: Clock;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(books: BookRepository) {
  return {
    book: books.bookLoader(),
    copy: books.copyLoader(),
    copiesByBook: books.copiesByBookLoader(),
    counts: books.countsLoader(),
  };
}

export function createContext(req: IncomingMessage, repositories: Repositories, clock: Clock): Context {
  return { viewer: viewerOf(req), service: serviceOf(req), clock, ...repositories, loaders: createLoaders(repositories.books) };
}
