import type { UpdatesConfig } from '@urql/exchange-graphcache';

/** Merges per-area update maps; two areas may update after the same root field, so both run. */
export function mergeUpdates(...configs: UpdatesConfig[]): UpdatesConfig {
  const merged: UpdatesConfig = {};
  for (const config of configs) {
    for (const [typename, fields] of Object.entries(config)) {
      const target = (merged[typename] ??= {});
      for (const [field, resolver] of Object.entries(fields ?? {})) {
        const previous = target[field];
        target[field] = previous
          ? (result, args, cache, info) => {
              previous(result, args, cache, info);
              resolver?.(result, args, cache, info);
            }
          : resolver;
      }
    }
  }
  return merged;
}
