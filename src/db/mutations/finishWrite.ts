import type { Database } from '../client.js';

/**
 * What a write does last inside its own transaction, with the row it wrote: it inserts the
 * audit row and publishes the cache invalidation (see `RequestContext.finishWrite`), so that
 * neither can be lost while the write itself commits, and neither exists if it rolls back.
 */
export type FinishWrite<Row> = (tx: Pick<Database, 'execute'>, row: Row) => Promise<void>;
