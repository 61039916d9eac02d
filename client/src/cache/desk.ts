/** Cache updates and optimistic results for the librarian's screens (books, copies, desk, patrons, fines, policies). */
import type { OptimisticMutationConfig, UpdatesConfig } from '@urql/exchange-graphcache';

export const deskUpdates: UpdatesConfig = {};

export const deskOptimistic: OptimisticMutationConfig = {};
