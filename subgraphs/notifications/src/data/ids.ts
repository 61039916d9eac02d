const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids that are not UUIDs cannot exist; filtering them keeps Postgres from rejecting the whole batch. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
