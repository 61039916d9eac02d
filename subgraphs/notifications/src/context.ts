import type { IncomingMessage } from 'node:http';
import { viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { NotificationRepository } from './data/NotificationRepository.js';

/** Per-request context: who is asking, fresh DataLoaders, and the repository. */
export interface Context {
  viewer: Viewer | null;
  clock: Clock;
  notifications: NotificationRepository;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(notifications: NotificationRepository) {
  return {
    unreadCount: notifications.unreadCountLoader(),
    preferences: notifications.preferencesLoader(),
  };
}

export function createContext(req: IncomingMessage, notifications: NotificationRepository, clock: Clock): Context {
  return { viewer: viewerOf(req), clock, notifications, loaders: createLoaders(notifications) };
}
