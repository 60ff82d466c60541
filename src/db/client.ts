import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { AsyncLocalStorage } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { ensureAppRole } from './appRole.js';
import * as tables from './tables/index.js';
import { MIGRATION_TABLE, tableOfStatement } from './tableOfStatement.js';
import type { Tracing } from '../tracing/createTracing.js';
import { tracePglite } from '../tracing/tracePglite.js';
import { tracePostgres } from '../tracing/tracePostgres.js';

export type Tables = typeof tables;

/** Drizzle over either driver. Code above this module never knows which one it has. */
export type Database = PgDatabase<PgQueryResultHKT, Tables>;

export interface MigrateOptions {
  /** Lets the `caregraph_app` role log in with this password (Postgres only). */
  readonly appRolePassword?: string | undefined;
}

export interface DatabaseHandle {
  readonly db: Database;
  readonly kind: 'postgres' | 'pglite';
  /**
   * Applies the committed drizzle-kit migrations in `drizzle/`, then, on Postgres, creates the
   * API's role if absent and grants it its privileges again (see appRole.ts). Run as the owner.
   */
  migrate(options?: MigrateOptions): Promise<void>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /**
   * Runs one fixed statement with text parameters, prepared once per connection: the hot
   * path's statements (the audit INSERT) skip parsing and planning after their first use.
   * Counted by `onStatement` like every other statement.
   */
  executePrepared(text: string, params: ReadonlyArray<string | null>): Promise<void>;
  /**
   * LISTENs on a channel over a connection of its own (Postgres only: the embedded database has
   * one process, which hears nothing it did not do itself). `onListen` runs on every
   * (re)connect of that connection, when notifications sent meanwhile are gone. The listener's
   * own statements (`query`: its pings, catch-up and pruning) are housekeeping, and are not
   * counted by `onStatement`: they would blur the count of what requests cost.
   */
  readonly listen?: (
    channel: string,
    onNotify: (payload: string) => void,
    onListen: () => void,
  ) => Promise<Listening>;
  /**
   * Runs `work` and counts the statements it issued (its own async context's: the warmer's
   * rate limit is in statements, whatever else the process runs meanwhile).
   */
  countStatements<T>(work: () => Promise<T>): Promise<{ value: T; statements: number }>;
  /**
   * The embedded database's whole data directory as an uncompressed tarball, which
   * `DatabaseOptions.pgliteDataDir` starts from (PGlite only): the seeded snapshot of
   * `npm start`, and the test suite's copies.
   */
  readonly dumpDataDir?: () => Promise<Blob>;
  close(): Promise<void>;
}

/** A channel being listened to (see `DatabaseHandle.listen`). */
export interface Listening {
  unlisten(): Promise<void>;
  /** Runs one of the listener's own statements over the pool, uncounted. */
  query(text: string, params: ReadonlyArray<string>): Promise<ReadonlyArray<unknown>>;
}

export interface DatabaseOptions {
  /** A postgres:// URL, or undefined for an in-memory PGlite. */
  readonly url: string | undefined;
  readonly poolMax?: number;
  /**
   * Called once per SQL statement with the table it touches first (one of TABLE_LABELS), or
   * "migration" for the statements of `migrate`.
   */
  readonly onStatement?: (table: string) => void;
  /**
   * A data directory from `dumpDataDir` for the embedded database to start from, instead of
   * an empty cluster that PGlite would first have to initdb.
   */
  readonly pgliteDataDir?: Blob;
  /** A span for every statement a traced request sends, when tracing is on. */
  readonly tracing?: Tracing;
}

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

/**
 * Connects to Postgres through postgres.js, or starts an embedded PGlite when no URL is given.
 *
 * @returns a handle whose `db` is the only way the service talks SQL.
 */
export async function createDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const { onStatement } = options;
  const counters = new AsyncLocalStorage<{ statements: number }>();
  const countStatements = async <T>(work: () => Promise<T>) => {
    const counter = { statements: 0 };
    const value = await counters.run(counter, work);
    return { value, statements: counter.statements };
  };
  // executePrepared's statements are a fixed few: each is named by its table once.
  const preparedTables = new Map<string, string>();
  const countPrepared = (text: string): void => {
    const counter = counters.getStore();
    if (counter !== undefined) counter.statements++;
    if (onStatement === undefined) return;
    let table = preparedTables.get(text);
    if (table === undefined) {
      table = tableOfStatement(text);
      preparedTables.set(text, table);
    }
    onStatement(table);
  };
  // Migrations run inside this context: their DDL is labelled as such, not by what it names.
  const migrating = new AsyncLocalStorage<true>();
  const logger = {
    logQuery(query: string): void {
      const counter = counters.getStore();
      if (counter !== undefined) counter.statements++;
      if (onStatement === undefined) return;
      onStatement(migrating.getStore() === true ? MIGRATION_TABLE : tableOfStatement(query));
    },
  };

  if (options.url === undefined) {
    const embedded = await PGlite.create({
      extensions: { pg_trgm },
      ...(options.pgliteDataDir === undefined ? {} : { loadDataDir: options.pgliteDataDir }),
    });
    const client =
      options.tracing?.enabled === true ? tracePglite(embedded, options.tracing.tracer) : embedded;
    const db = drizzlePglite({ client, schema: tables, logger });
    return {
      db,
      kind: 'pglite',
      // PGlite has one user and no network: no other role could ever connect, so none is made.
      migrate: () =>
        migrating.run(true, () => migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER })),
      ping: async () => {
        await db.execute(sql`select 1`);
      },
      executePrepared: async (text, params) => {
        countPrepared(text);
        await client.query(text, [...params]);
      },
      countStatements,
      dumpDataDir: () => embedded.dumpDataDir('none'),
      close: () => embedded.close(),
    };
  }

  const pool = postgres(options.url, {
    max: options.poolMax ?? 10,
    connect_timeout: 10,
    // No catalog query for array types on each new connection: postgres.js runs it outside any
    // caller's promise, so a connection that Postgres drops mid-setup (a restart, a cut network)
    // rejects it unheard and takes the process down. The statements use builtin types only.
    fetch_types: false,
    // Reconnects after a lost connection within a second, not postgres.js's default of up to
    // 20 s: the pool and the invalidation listener come back soon after Postgres does.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2),
    // Migrations print NOTICEs such as "already exists, skipping"; they are not worth a log line.
    onnotice: () => undefined,
    connection: { application_name: 'caregraph' },
  });
  // The listener and the pool's close are the pool's own; requests' statements go through
  // `client`, traced when tracing is on.
  const client =
    options.tracing?.enabled === true ? tracePostgres(pool, options.tracing.tracer) : pool;
  const db = drizzlePostgres({ client, schema: tables, logger });
  return {
    db,
    kind: 'postgres',
    migrate: async (migrateOptions = {}) => {
      await migrating.run(true, () => migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER }));
      await ensureAppRole(pool, { password: migrateOptions.appRolePassword });
    },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    executePrepared: async (text, params) => {
      countPrepared(text);
      await client.unsafe(text, [...params], { prepare: true });
    },
    listen: async (channel, onNotify, onListen) => {
      const listening = await pool.listen(channel, onNotify, onListen);
      return {
        unlisten: async () => {
          await listening.unlisten();
        },
        query: async (text, params) => [...(await pool.unsafe(text, [...params]))],
      };
    },
    countStatements,
    close: () => pool.end({ timeout: 5 }),
  };
}
