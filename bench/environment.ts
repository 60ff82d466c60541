import { createClient } from '@keyv/redis';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, availableParallelism, release } from 'node:os';
import postgres from 'postgres';
import { processTree } from './cpu.js';

const BENCH_DATABASE = 'caregraph_bench';
// The bench flushes this Redis database between modes; it never touches database 0.
const DEFAULT_REDIS_DB = 15;

export interface BenchServices {
  readonly adminDatabaseUrl: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
}

/**
 * Where the bench runs: its own Postgres database (`caregraph_bench`, or BENCH_DATABASE) and its
 * own Redis database (BENCH_REDIS_DB).
 */
export function benchServices(env: NodeJS.ProcessEnv): BenchServices {
  const admin = new URL(env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const database = new URL(admin);
  database.pathname = `/${env.BENCH_DATABASE ?? BENCH_DATABASE}`;
  const redis = new URL(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  redis.pathname = `/${env.BENCH_REDIS_DB ?? String(DEFAULT_REDIS_DB)}`;
  return {
    adminDatabaseUrl: admin.toString(),
    databaseUrl: database.toString(),
    redisUrl: redis.toString(),
  };
}

/** Drops and creates the bench database, so that every run starts from the same seed. */
export async function recreateDatabase(services: BenchServices): Promise<void> {
  const name = new URL(services.databaseUrl).pathname.slice(1);
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a bench database name: ${name}`);
  const sql = postgres(services.adminDatabaseUrl, { max: 1, onnotice: () => undefined });
  try {
    await sql.unsafe(`drop database if exists ${name} with (force)`);
    await sql.unsafe(`create database ${name}`);
  } finally {
    await sql.end();
  }
}

export type RedisProbe = Awaited<ReturnType<typeof connectRedis>>;

/** A client for what the bench reads off Redis itself: commands served, memory, keys. */
export async function connectRedis(url: string) {
  const client = createClient({ url });
  await client.connect();
  const info = async (section: string, field: string): Promise<number> => {
    const text = await client.info(section);
    const line = text.split('\r\n').find((l) => l.startsWith(`${field}:`));
    return Number(line?.slice(field.length + 1) ?? NaN);
  };
  return {
    flush: async () => {
      await client.flushDb();
    },
    commandsProcessed: () => info('stats', 'total_commands_processed'),
    usedMemoryBytes: () => info('memory', 'used_memory'),
    countKeys: async (pattern: string): Promise<number> => {
      let count = 0;
      for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
        count += keys.length;
      }
      return count;
    },
    version: async () => {
      const text = await client.info('server');
      return /redis_version:(\S+)/.exec(text)?.[1] ?? 'unknown';
    },
    close: async () => {
      await client.quit();
    },
  };
}

export interface Machine {
  readonly nproc: number;
  readonly cpu: string;
  readonly kernel: string;
  readonly node: string;
  readonly postgres: string;
  readonly redis: string;
}

export async function describeMachine(
  services: BenchServices,
  redis: RedisProbe,
): Promise<Machine> {
  const sql = postgres(services.adminDatabaseUrl, { max: 1 });
  try {
    const [row] = await sql<Array<{ server_version: string }>>`show server_version`;
    return {
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      kernel: release(),
      node: process.version,
      postgres: row?.server_version ?? 'unknown',
      redis: await redis.version(),
    };
  } finally {
    await sql.end();
  }
}

/** The commit measured, with a mark when the work tree differs from it. */
export function describeCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'schema', 'bench'], {
      encoding: 'utf8',
    }).trim();
    return dirty === '' ? commit : `${commit}+uncommitted`;
  } catch {
    return 'unknown';
  }
}

/**
 * The resident set of a process and its descendants (a primary and its workers), from /proc
 * (Linux), in bytes. Pages the processes share are counted once per process.
 */
export function residentBytes(pid: number): number | undefined {
  let total: number | undefined;
  for (const member of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${String(member)}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
      if (kb !== undefined) total = (total ?? 0) + Number(kb) * 1024;
    } catch {
      continue; // exited since the listing
    }
  }
  return total;
}
