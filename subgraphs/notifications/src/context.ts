import type { IncomingMessage } from 'node:http';
import { serviceOf, viewerOf, type Clock, type Viewer } from '@shelfwise/kit';
import type { NotificationRepository } from './data/NotificationRepository.js';

/** Per-request context: who is asking, fresh DataLoaders, and the repository. */
export interface Context {
  viewer: Viewer | null;
  /** The calling subgraph on an internal call (service credential); null through the router. */
  service: string | null;
  clock: Clock;
  notifications: NotificationRepository;
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(notifications: NotificationRepository) {
  return {
    notification: notifications.notificationLoader(),
    unreadCount: notifications.unreadCountLoader(),
    preferences: notifications.preferencesLoader(),
  };
}

export function createContext(req: IncomingMessage, notifications: NotificationRepository, clock: Clock): Context {
  return { viewer: viewerOf(req), service: serviceOf(req), clock, notifications, loaders: createLoaders(notifications) };
}
