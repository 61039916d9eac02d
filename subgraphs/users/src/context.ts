import type { IncomingMessage } from 'node:http';
import { viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { UserRepository } from './data/UserRepository.js';

/** Per-request context: who is asking, fresh DataLoaders, and the repositories. */
export interface Context {
  viewer: Viewer | null;
  clock: Clock;
  users: UserRepository;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(users: UserRepository) {
  return {
    user: users.userLoader(),
  };
}

export function createContext(req: IncomingMessage, users: UserRepository, clock: Clock): Context {
  return { viewer: viewerOf(req), clock, users, loaders: createLoaders(users) };
}
