import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { isTenantId } from './auth/claimRules.js';

/** The one documented development secret. `NODE_ENV=production` refuses it. */
export const DEV_JWT_SECRET = 'caregraph-dev-secret-do-not-use-in-production';
/** Base64 of 32 bytes, for development only. `NODE_ENV=production` refuses it. */
export const DEV_CACHE_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

/** Every environment variable the service reads. README.md documents each one. */
export const CONFIG_ENV_VARS = [
  'NODE_ENV',
  'HOST',
  'PORT',
  'METRICS_PORT',
  'LOG_LEVEL',
  'DATABASE_URL',
  'DATABASE_APP_PASSWORD',
  'DB_POOL_MAX',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_ALLOW_UNAUTHENTICATED',
  'REDIS_COMMAND_TIMEOUT_MS',
  'CACHE_BREAKER_RESET_MS',
  'CACHE_KEY_PREFIX',
  'L2_MEMORY_MAX_BYTES',
  'NEAR_CACHE_TTL_MS',
  'NEAR_CACHE_MAX_BYTES',
  'JWT_SECRET',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'CACHE_ENCRYPTION_KEY',
  'EMBEDDED_SEED_PATIENTS',
  'EMBEDDED_SNAPSHOT_DIR',
  'MAX_BODY_BYTES',
  'MAX_QUERY_LENGTH',
  'SHUTDOWN_TIMEOUT_MS',
  'WEB_CONCURRENCY',
  'REQUEST_TIMEOUT_MS',
  'PERSISTED_QUERIES',
  'PERSISTED_QUERIES_MANIFEST',
  'MOBILE_CLIENT_NAMES',
  'APQ_TTL_SECONDS',
  'MAX_QUERY_DEPTH',
  'MAX_QUERY_COST',
  'MAX_ALIASES',
  'MAX_BATCH_SIZE',
  'CACHE_WARM',
  'CACHE_WARM_PHI_TENANTS',
  'CACHE_WARM_MAX_QPS',
  'CACHE_WARM_INTERVAL_MS',
  'CACHE_WARM_LEASE_MS',
  'CACHE_WARM_TOP_K',
  'CACHE_WARM_FLUSH_MS',
  'EXPLORER',
  'CORS_ORIGINS',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_SERVICE_NAME',
] as const;

export type Environment = 'development' | 'test' | 'production';

export interface Config {
  readonly env: Environment;
  readonly host: string;
  readonly port: number;
  /**
   * When set, /metrics is served on this port (same host) and not on `port`, so that it can
   * stay off the public listener. Unset: /metrics is on `port`.
   */
  readonly metricsPort: number | undefined;
  readonly logLevel: string;
  /** Unset means the embedded PGlite database, migrated and seeded at start. */
  readonly databaseUrl: string | undefined;
  /**
   * Read by `npm run db:migrate` only: when set, the `caregraph_app` role may log in with it.
   * Unset leaves the role NOLOGIN when migrate creates it, and an existing role as it is.
   */
  readonly databaseAppPassword: string | undefined;
  readonly dbPoolMax: number;
  /** Unset means the bounded in-process L2 store. */
  readonly redisUrl: string | undefined;
  /** Seed nodes of a Redis Cluster for L2, when set (never with `redisUrl`). */
  readonly redisClusterNodes: ReadonlyArray<string> | undefined;
  readonly jwt: {
    readonly secret: Uint8Array;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
  };
  readonly cache: {
    /**
     * An L2 round trip fails after this long of event-loop time (time the process spent on its
     * own work does not count), and the read goes to Postgres. 50 ms by default, from
     * measurement: see the README, "When Redis is slow or down".
     */
    readonly commandTimeoutMs: number;
    /** How long the breaker stays open before it probes L2 again. */
    readonly breakerResetMs: number;
    /** The first segment of every L2 key; separates deployments that share one Redis. */
    readonly keyPrefix: string;
    /** The bound on the in-process L2 used when REDIS_URL is unset. */
    readonly memoryMaxBytes: number;
    /** How long decoded entries stay in the near cache at most, in ms (0: no near cache). */
    readonly nearTtlMs: number;
    /** The bound on the near cache's memory, in bytes (0: no near cache). */
    readonly nearMaxBytes: number;
  };
  /** AES-256 keys; the first one seals new cache entries, all of them open old ones. */
  readonly cacheEncryptionKeys: ReadonlyArray<Buffer>;
  readonly introspection: boolean;
  readonly embeddedSeedPatients: number;
  /** Where the seeded embedded database is kept between starts; node_modules/.cache when unset. */
  readonly embeddedSnapshotDir: string | undefined;
  readonly maxBodyBytes: number;
  readonly maxQueryLength: number;
  readonly shutdownTimeoutMs: number;
  /**
   * Worker processes sharing the port (node:cluster); 1 is a single process with no primary.
   * More than one needs DATABASE_URL: the embedded database lives inside one process.
   */
  readonly webConcurrency: number;
  /** A client gets this long to send its whole request, body included (408 after). */
  readonly requestTimeoutMs: number;
  readonly persistedQueries: {
    /** `only`: every client may run manifest operations only; `allow`: mobile clients only. */
    readonly mode: 'allow' | 'only';
    /** The Apollo persisted-query manifest of the trusted operations. */
    readonly manifestPath: string;
    /** `apollographql-client-name` values that may run manifest operations only. */
    readonly mobileClientNames: ReadonlySet<string>;
    /** How long an automatic persisted query stays registered since its last use. */
    readonly apqTtlSeconds: number;
  };
  readonly limits: {
    readonly maxDepth: number;
    readonly maxCost: number;
    readonly maxAliases: number;
    readonly maxBatchSize: number;
  };
  /** Warming L2 from usage (SPEC §5; src/warming/). */
  readonly warming: {
    readonly enabled: boolean;
    /** Tenants whose PHI the warmer may read into L2; reference data is warmed for every tenant. */
    readonly phiTenants: ReadonlySet<string>;
    /** The most SQL statements a second the warmer spends, averaged over a pass. */
    readonly maxQps: number;
    /** How often the lease holder runs a pass. */
    readonly intervalMs: number;
    /** How long the warmer's lease lasts unrenewed: another instance takes over within it. */
    readonly leaseMs: number;
    /** Ids per tenant and type each instance's top-k and the shared hot set keep. */
    readonly topK: number;
    /** How often an instance merges its top-k into the shared hot set. */
    readonly flushMs: number;
  };
  /** Whether a browser's GET of /graphql gets the explorer page (src/http/explorer/). */
  readonly explorer: boolean;
  /** Browser origins allowed to call the API cross-origin (CORS); empty: none. */
  readonly corsOrigins: ReadonlyArray<string>;
  /** OpenTelemetry traces (src/tracing/); off unless an OTLP endpoint is set. */
  readonly tracing: TracingConfig;
  /** Dev defaults in use, each worth a warning at start-up. */
  readonly warnings: ReadonlyArray<string>;
}

export interface TracingConfig {
  /** Where spans are POSTed as OTLP/HTTP JSON (`…/v1/traces`); undefined: no tracing at all. */
  readonly exportUrl: string | undefined;
  /** Sent with every export (an API key, say); never logged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
}

/** Thrown at start-up when the environment is invalid. Lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: ReadonlyArray<string>) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const intInRange = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: intInRange(0, 65535, 4000),
  METRICS_PORT: z
    .string()
    .regex(/^[0-9]{1,5}$/, 'must be a port number from 1 to 65535')
    .transform(Number)
    .refine((port) => port >= 1 && port <= 65535, 'must be a port number from 1 to 65535')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  // Operators put it into the API's DATABASE_URL unescaped, so only URL-safe characters.
  DATABASE_APP_PASSWORD: z
    .string()
    .regex(
      /^[A-Za-z0-9._~-]{16,256}$/,
      'must be 16-256 of A-Z, a-z, 0-9, ".", "_", "~" and "-" (it goes into a URL unescaped)',
    )
    .optional(),
  DB_POOL_MAX: intInRange(1, 200, 10),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((value) => value.split(',').map((node) => node.trim()))
    .refine(
      (nodes) => nodes.every((node) => /^rediss?:\/\/[^/\s]+:\d+\/?$/.test(node)),
      'must be comma-separated redis://host:port (or rediss://) seed nodes',
    )
    .optional(),
  REDIS_ALLOW_UNAUTHENTICATED: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  REDIS_COMMAND_TIMEOUT_MS: intInRange(1, 10_000, 50),
  CACHE_BREAKER_RESET_MS: intInRange(100, 600_000, 5_000),
  CACHE_KEY_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/, 'must be 1-32 of a-z, 0-9, _ and -')
    .default('cg'),
  L2_MEMORY_MAX_BYTES: intInRange(1024 * 1024, 16 * 1024 * 1024 * 1024, 64 * 1024 * 1024),
  // A few seconds at most (SPEC §2.12): a copy is served only under the stamps a request read,
  // and never past its own TTL, but it is memory held for sessions that may have gone.
  NEAR_CACHE_TTL_MS: intInRange(0, 10_000, 3_000),
  NEAR_CACHE_MAX_BYTES: intInRange(0, 4 * 1024 * 1024 * 1024, 32 * 1024 * 1024),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  CACHE_ENCRYPTION_KEY: z.string().min(1).optional(),
  EMBEDDED_SEED_PATIENTS: intInRange(0, 100_000, 200),
  EMBEDDED_SNAPSHOT_DIR: z.string().min(1).optional(),
  MAX_BODY_BYTES: intInRange(1024, 10 * 1024 * 1024, 256 * 1024),
  MAX_QUERY_LENGTH: intInRange(256, 1024 * 1024, 16 * 1024),
  SHUTDOWN_TIMEOUT_MS: intInRange(0, 120_000, 10_000),
  WEB_CONCURRENCY: z
    .string()
    .regex(/^(auto|[1-9]|[1-5][0-9]|6[0-4])$/, 'must be an integer from 1 to 64, or auto')
    .default('1'),
  REQUEST_TIMEOUT_MS: intInRange(1_000, 300_000, 30_000),
  PERSISTED_QUERIES: z.enum(['allow', 'only']).default('allow'),
  PERSISTED_QUERIES_MANIFEST: z.string().min(1).default('persisted-queries/manifest.json'),
  MOBILE_CLIENT_NAMES: z.string().default('caregraph-ios,caregraph-android,caregraph-mobile'),
  APQ_TTL_SECONDS: intInRange(60, 90 * 24 * 3600, 7 * 24 * 3600),
  MAX_QUERY_DEPTH: intInRange(1, 100, 10),
  MAX_QUERY_COST: intInRange(1, 10_000_000, 20_000),
  MAX_ALIASES: intInRange(0, 1000, 30),
  MAX_BATCH_SIZE: intInRange(1, 100, 10),
  CACHE_WARM: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
  CACHE_WARM_PHI_TENANTS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((tenant) => tenant.trim())
        .filter((tenant) => tenant !== ''),
    )
    .refine(
      (tenants) => tenants.every(isTenantId),
      'must be comma-separated tenant ids (a-z, 0-9, _ and -, as tokens name them)',
    )
    .default([]),
  CACHE_WARM_MAX_QPS: intInRange(1, 10_000, 20),
  CACHE_WARM_INTERVAL_MS: intInRange(500, 600_000, 5_000),
  CACHE_WARM_LEASE_MS: intInRange(1_000, 600_000, 15_000),
  CACHE_WARM_TOP_K: intInRange(1, 100_000, 1_000),
  CACHE_WARM_FLUSH_MS: intInRange(500, 300_000, 10_000),
  // Unset: on outside production, off in production.
  EXPLORER: z.enum(['on', 'off'], { message: 'must be on or off' }).optional(),
  CORS_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter((origin) => origin !== ''),
    )
    .refine(
      (origins) => origins.every(isOrigin),
      'must be comma-separated origins as browsers send them (lowercase scheme://host[:port], no path, no default port), such as https://portal.example.org',
    )
    .default([]),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .optional(),
  // The OTLP exporter format: comma-separated key=value, values percent-encoded.
  OTEL_EXPORTER_OTLP_HEADERS: z
    .string()
    .regex(
      /^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/,
      'must be comma-separated key=value pairs',
    )
    // A CR or LF would end the header early: every export would fail, and nothing say why.
    .refine((value) => !hasControlCharacter(value), 'must not hold control characters')
    .optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(128).default('caregraph'),
});

/** Whether a string is exactly a web origin: http(s), a host, maybe a port, nothing more. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

/**
 * NODE_ENV alone, for development tools that refuse production before they check anything
 * else (an invalid value reads as undefined; `loadConfig` reports it).
 */
export function loadEnvironment(source: NodeJS.ProcessEnv = process.env): Environment | undefined {
  const value = source.NODE_ENV === '' ? undefined : source.NODE_ENV;
  const parsed = envSchema.shape.NODE_ENV.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Parses and validates the environment once, at start-up.
 *
 * @returns a frozen, typed configuration.
 * @throws ConfigError listing every invalid or missing variable.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as they do in most deployment tools.
  const env = Object.fromEntries(
    CONFIG_ENV_VARS.map((name) => [name, source[name] === '' ? undefined : source[name]]),
  );
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const problems: string[] = [];
  const warnings: string[] = [];

  if (e.JWT_SECRET === undefined) {
    if (production) problems.push('JWT_SECRET: required when NODE_ENV=production');
    else warnings.push('JWT_SECRET is unset: using the documented development secret');
  } else if (production && e.JWT_SECRET === DEV_JWT_SECRET) {
    problems.push('JWT_SECRET: the development secret is refused when NODE_ENV=production');
  }

  let cacheEncryptionKeys: Buffer[];
  if (e.CACHE_ENCRYPTION_KEY === undefined) {
    if (production) problems.push('CACHE_ENCRYPTION_KEY: required when NODE_ENV=production');
    else warnings.push('CACHE_ENCRYPTION_KEY is unset: using the development cache key');
    cacheEncryptionKeys = [Buffer.from(DEV_CACHE_ENCRYPTION_KEY, 'base64')];
  } else {
    cacheEncryptionKeys = e.CACHE_ENCRYPTION_KEY.split(',').map((part) =>
      Buffer.from(part.trim(), 'base64'),
    );
    cacheEncryptionKeys.forEach((key, index) => {
      if (key.length !== 32) {
        problems.push(`CACHE_ENCRYPTION_KEY: key ${index + 1} is not base64 of 32 bytes`);
      }
    });
    if (production && e.CACHE_ENCRYPTION_KEY.split(',').includes(DEV_CACHE_ENCRYPTION_KEY)) {
      problems.push(
        'CACHE_ENCRYPTION_KEY: the development key is refused when NODE_ENV=production',
      );
    }
  }

  // Sealing keeps an L2 value secret and bound to its key, and generations anchored in Postgres
  // defeat a replay of old values (see invalidationFeed.ts); a Redis anyone can write to still
  // lets them delete entries, fill memory or replay values older than what an instance knows.
  // Production requires a Redis that asks who is writing.
  if (e.REDIS_URL !== undefined && e.REDIS_CLUSTER_NODES !== undefined) {
    problems.push('REDIS_CLUSTER_NODES: set it or REDIS_URL, not both');
  }
  const redisSetting = e.REDIS_URL === undefined ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
  const redisTarget = e.REDIS_URL ?? e.REDIS_CLUSTER_NODES?.[0];
  if (production && redisTarget !== undefined && !e.REDIS_ALLOW_UNAUTHENTICATED) {
    const url = new URL(redisTarget);
    if (url.password === '') {
      problems.push(
        `${redisSetting}: a password is required when NODE_ENV=production (Redis ACLs: ` +
          'rediss://user:password@host:port); REDIS_ALLOW_UNAUTHENTICATED=true accepts a Redis ' +
          'only this host can reach',
      );
    } else if (url.protocol === 'redis:') {
      warnings.push(
        'REDIS_URL is redis://: the password and every sealed value cross the network in clear; use rediss://',
      );
    }
  }
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT === e.PORT) {
    problems.push('METRICS_PORT: must differ from PORT (/metrics gets a listener of its own)');
  }
  if (production && e.DATABASE_URL === undefined) {
    problems.push('DATABASE_URL: required when NODE_ENV=production (no embedded database)');
  }
  // PGlite is a database inside this process's memory: a second process would get a database
  // of its own, and writes seen by one worker would not exist for the next.
  if (e.WEB_CONCURRENCY !== '1' && e.DATABASE_URL === undefined) {
    problems.push(
      'WEB_CONCURRENCY: more than one worker needs DATABASE_URL (the embedded database cannot be shared between processes)',
    );
  }
  const otlpHeaders = otlpHeadersOf(e.OTEL_EXPORTER_OTLP_HEADERS);
  if (otlpHeaders === undefined) {
    problems.push(
      'OTEL_EXPORTER_OTLP_HEADERS: a value is not valid percent-encoding, or decodes to a control character',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    databaseAppPassword: e.DATABASE_APP_PASSWORD,
    dbPoolMax: e.DB_POOL_MAX,
    redisUrl: e.REDIS_URL,
    redisClusterNodes: e.REDIS_CLUSTER_NODES,
    jwt: Object.freeze({
      secret: new TextEncoder().encode(e.JWT_SECRET ?? DEV_JWT_SECRET),
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
    }),
    cache: Object.freeze({
      commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
      breakerResetMs: e.CACHE_BREAKER_RESET_MS,
      keyPrefix: e.CACHE_KEY_PREFIX,
      memoryMaxBytes: e.L2_MEMORY_MAX_BYTES,
      nearTtlMs: e.NEAR_CACHE_TTL_MS,
      nearMaxBytes: e.NEAR_CACHE_MAX_BYTES,
    }),
    cacheEncryptionKeys: Object.freeze(cacheEncryptionKeys),
    introspection: !production,
    embeddedSeedPatients: e.EMBEDDED_SEED_PATIENTS,
    embeddedSnapshotDir: e.EMBEDDED_SNAPSHOT_DIR,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxQueryLength: e.MAX_QUERY_LENGTH,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    webConcurrency:
      e.WEB_CONCURRENCY === 'auto' ? availableParallelism() : Number(e.WEB_CONCURRENCY),
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    persistedQueries: Object.freeze({
      mode: e.PERSISTED_QUERIES,
      manifestPath: e.PERSISTED_QUERIES_MANIFEST,
      mobileClientNames: new Set(
        e.MOBILE_CLIENT_NAMES.split(',')
          .map((name) => name.trim())
          .filter((name) => name !== ''),
      ),
      apqTtlSeconds: e.APQ_TTL_SECONDS,
    }),
    limits: Object.freeze({
      maxDepth: e.MAX_QUERY_DEPTH,
      maxCost: e.MAX_QUERY_COST,
      maxAliases: e.MAX_ALIASES,
      maxBatchSize: e.MAX_BATCH_SIZE,
    }),
    warming: Object.freeze({
      enabled: e.CACHE_WARM === 'on',
      phiTenants: new Set(e.CACHE_WARM_PHI_TENANTS),
      maxQps: e.CACHE_WARM_MAX_QPS,
      intervalMs: e.CACHE_WARM_INTERVAL_MS,
      leaseMs: e.CACHE_WARM_LEASE_MS,
      topK: e.CACHE_WARM_TOP_K,
      flushMs: e.CACHE_WARM_FLUSH_MS,
    }),
    explorer: e.EXPLORER === undefined ? !production : e.EXPLORER === 'on',
    corsOrigins: Object.freeze(e.CORS_ORIGINS),
    tracing: Object.freeze({
      exportUrl: tracesUrlOf(e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, e.OTEL_EXPORTER_OTLP_ENDPOINT),
      headers: Object.freeze(otlpHeaders ?? {}),
      serviceName: e.OTEL_SERVICE_NAME,
    }),
    warnings: Object.freeze(warnings),
  });
}

/**
 * The OTLP traces URL, as the OpenTelemetry specification derives it: the signal's own endpoint
 * as given, or `v1/traces` under the base endpoint.
 */
function tracesUrlOf(tracesEndpoint: string | undefined, base: string | undefined) {
  if (tracesEndpoint !== undefined) return tracesEndpoint;
  if (base === undefined) return undefined;
  return `${base.endsWith('/') ? base : `${base}/`}v1/traces`;
}

/** The headers of OTEL_EXPORTER_OTLP_HEADERS; undefined when a value does not decode to text. */
function otlpHeadersOf(value: string | undefined): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  if (value === undefined) return headers;
  try {
    for (const pair of value.split(',')) {
      const at = pair.indexOf('=');
      const decoded = decodeURIComponent(pair.slice(at + 1).trim());
      // %0D%0A would end the header early, as a raw CR LF would.
      if (hasControlCharacter(decoded)) return undefined;
      headers[pair.slice(0, at).trim()] = decoded;
    }
  } catch {
    return undefined;
  }
  return headers;
}

/** True when `text` holds a C0 control character or DEL. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
