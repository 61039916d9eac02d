/** Cache updates and optimistic results for the patron's account (loans, holds, fines, notifications, profile). */
import type { OptimisticMutationConfig, UpdatesConfig } from '@urql/exchange-graphcache';

export const accountUpdates: UpdatesConfig = {};

export const accountOptimistic: OptimisticMutationConfig = {};
