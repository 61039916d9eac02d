import { openServiceDatabase, type ServiceDatabase, type ServiceOptions } from '@shelfwise/kit';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export type ReviewsDatabase = ServiceDatabase<PrismaClient>;

/** Opens this subgraph's own database (migrations applied) and its Prisma client. */
export function openReviewsDatabase(options: ServiceOptions): Promise<ReviewsDatabase> {
  return openServiceDatabase('reviews', options, (adapter) => new PrismaClient({ adapter }));
}
