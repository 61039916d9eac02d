import { openServiceDatabase, type ServiceDatabase, type ServiceOptions } from '@shelfwise/kit';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export type ReservationsDatabase = ServiceDatabase<PrismaClient>;

/** Opens this subgraph's own database (migrations applied) and its Prisma client. */
export function openReservationsDatabase(options: ServiceOptions): Promise<ReservationsDatabase> {
  return openServiceDatabase('reservations', options, (adapter) => new PrismaClient({ adapter }));
}
