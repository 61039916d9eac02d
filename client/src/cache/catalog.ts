/** Cache updates and optimistic results for the catalogue and book pages (search, borrow, holds, reviews). */
import type { OptimisticMutationConfig, UpdatesConfig } from '@urql/exchange-graphcache';

export const catalogUpdates: UpdatesConfig = {};

export const catalogOptimistic: OptimisticMutationConfig = {};
