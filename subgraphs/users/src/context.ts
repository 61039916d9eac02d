import type { IncomingMessage } from 'node:http';
import { callerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { AccountService } from './accounts.js';
import type { UserRepository } from './data/UserRepository.js';

/** Per-request context: who is asking, fresh DataLoaders, and the repositories. */
export interface Context {
  viewer: Viewer | null;
  /** The calling subgraph on an internal call (service credential); null through the router. */
  service: string | null;
  /** The client's address as the router saw it (sign-in lockout); null when unknown. */
  clientAddress: string | null;
  /**
   * Users who proved who they are in this request (register, login, refreshSession): the payload's
   * `user` shows them their own email although the request itself came in anonymous.
   */
  signedIn: Set<string>;
  clock: Clock;
  /** Moves the test clock of every service (advanceClock); refuses when the test clock is off. */
  advanceClock(seconds: number): Promise<Date>;
  users: UserRepository;
  accounts: AccountService;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(users: UserRepository) {
  return {
    user: users.userLoader(),
  };
}

export function createContext(
  req: IncomingMessage,
  users: UserRepository,
  accounts: AccountService,
  clock: Clock,
  advanceClock: (seconds: number) => Promise<Date>,
): Context {
  const caller = callerOf(req);
  return {
    viewer: caller.viewer,
    service: caller.service ?? null,
    clientAddress: caller.clientAddress,
    signedIn: new Set(),
    clock,
    advanceClock,
    users,
    accounts,
    loaders: createLoaders(users),
  };
}
