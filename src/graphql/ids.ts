import { NotFoundError } from '../errors.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True for a well-formed uuid. Ids that are not uuids name nothing, so loaders answer null
 * for them without asking the database.
 */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/** Postgres prints uuids in lower case; clients may send either. */
export function normalizeId(id: string): string {
  return id.toLowerCase();
}

/**
 * The normalised id of the entity a mutation names.
 *
 * @throws NotFoundError when the id is not a uuid, since such an id names nothing.
 */
export function entityIdOf(id: string, entity: string): string {
  if (!isUuid(id)) throw new NotFoundError(entity);
  return normalizeId(id);
}
