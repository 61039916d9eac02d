const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Every id in Shelfwise is a UUID. An id that is not one cannot exist, and filtering it out before a
 * query keeps Postgres from rejecting a whole batch (`_entities`, DataLoaders) over one bad value.
 */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
