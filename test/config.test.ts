import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEV_CACHE_ENCRYPTION_KEY,
  DEV_JWT_SECRET,
  loadConfig,
} from '../src/config.js';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const SECRET = 'a-production-secret-that-is-long-enough-123';

describe('loadConfig', () => {
  it('defaults to the embedded database, the in-process store and dev secrets, with warnings', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.introspection).toBe(true);
    expect(config.warnings).toHaveLength(2);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses dev defaults when NODE_ENV=production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'JWT_SECRET: required when NODE_ENV=production',
        'CACHE_ENCRYPTION_KEY: required when NODE_ENV=production',
        'DATABASE_URL: required when NODE_ENV=production (no embedded database)',
      ]);
    }
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        JWT_SECRET: DEV_JWT_SECRET,
        CACHE_ENCRYPTION_KEY: DEV_CACHE_ENCRYPTION_KEY,
        DATABASE_URL: 'postgres://db/caregraph',
      }),
    ).toThrow(/development secret is refused[\s\S]*development key is refused/);
  });

  it('disables introspection in production', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      CACHE_ENCRYPTION_KEY: KEY_A,
      DATABASE_URL: 'postgres://db/caregraph',
    });
    expect(config.introspection).toBe(false);
    expect(config.warnings).toEqual([]);
  });

  it('requires a Redis that asks for a password in production, unless told it is private', () => {
    const production = {
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      CACHE_ENCRYPTION_KEY: KEY_A,
      DATABASE_URL: 'postgres://db/caregraph',
    };
    for (const url of ['redis://cache:6379', 'rediss://cache:6380', 'redis://user@cache:6379']) {
      expect(() => loadConfig({ ...production, REDIS_URL: url })).toThrow(
        /REDIS_URL: a password is required when NODE_ENV=production/,
      );
    }
    expect(loadConfig({ ...production, REDIS_URL: 'rediss://app:pw@cache:6380' }).warnings).toEqual(
      [],
    );
    expect(loadConfig({ ...production, REDIS_URL: 'redis://:pw@cache:6379' }).warnings).toEqual([
      expect.stringMatching(/use rediss:\/\//),
    ]);
    const loopback = { ...production, REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(loadConfig({ ...loopback, REDIS_ALLOW_UNAUTHENTICATED: 'true' }).redisUrl).toBe(
      loopback.REDIS_URL,
    );
    expect(() => loadConfig({ ...loopback, REDIS_ALLOW_UNAUTHENTICATED: 'yes' })).toThrow(
      /REDIS_ALLOW_UNAUTHENTICATED: must be true or false/,
    );
    // Outside production a password-less Redis is the ordinary development setup.
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBeDefined();
  });

  it('reads Redis Cluster seed nodes, and refuses them beside REDIS_URL or malformed', () => {
    expect(
      loadConfig({ REDIS_CLUSTER_NODES: 'redis://a:7000, redis://b:7001' }).redisClusterNodes,
    ).toEqual(['redis://a:7000', 'redis://b:7001']);
    expect(() =>
      loadConfig({ REDIS_CLUSTER_NODES: 'redis://a:7000', REDIS_URL: 'redis://b:6379' }),
    ).toThrow(/REDIS_CLUSTER_NODES: set it or REDIS_URL, not both/);
    for (const bad of ['a:7000', 'redis://a', 'redis://a:7000,,redis://b:7001', 'http://a:1']) {
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: bad })).toThrow(
        /REDIS_CLUSTER_NODES: must be/,
      );
    }
  });

  it('reads a comma-separated key list for rotation, first key first', () => {
    const config = loadConfig({ CACHE_ENCRYPTION_KEY: `${KEY_B}, ${KEY_A}` });
    expect(config.cacheEncryptionKeys.map((k) => k[0])).toEqual([2, 1]);
    expect(() => loadConfig({ CACHE_ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrow(
      'key 1 is not base64 of 32 bytes',
    );
  });

  it('validates URLs and numbers, listing every problem', () => {
    expect(() =>
      loadConfig({ REDIS_URL: 'http://cache', PORT: 'eighty', DATABASE_URL: 'mysql://x' }),
    ).toThrow(/PORT[\s\S]*DATABASE_URL: must be a postgres[\s\S]*REDIS_URL: must be a redis/);
    expect(loadConfig({ REDIS_URL: 'rediss://cache:6380' }).redisUrl).toBe('rediss://cache:6380');
  });

  it('runs one process unless WEB_CONCURRENCY asks for workers', () => {
    const url = 'postgres://db/caregraph';
    expect(loadConfig({}).webConcurrency).toBe(1);
    expect(loadConfig({ WEB_CONCURRENCY: '1' }).webConcurrency).toBe(1);
    expect(loadConfig({ WEB_CONCURRENCY: '4', DATABASE_URL: url }).webConcurrency).toBe(4);
    expect(loadConfig({ WEB_CONCURRENCY: '64', DATABASE_URL: url }).webConcurrency).toBe(64);
    expect(loadConfig({ WEB_CONCURRENCY: 'auto', DATABASE_URL: url }).webConcurrency).toBe(
      availableParallelism(),
    );
  });

  it('refuses a worker count outside 1-64', () => {
    const url = 'postgres://db/caregraph';
    for (const value of ['0', '65', '-2', '2.5', '02', 'max', 'Auto', ' 2']) {
      expect(() => loadConfig({ WEB_CONCURRENCY: value, DATABASE_URL: url }), value).toThrow(
        /WEB_CONCURRENCY: must be an integer from 1 to 64, or auto/,
      );
    }
  });

  it('refuses more than one worker on the embedded database', () => {
    for (const value of ['2', 'auto']) {
      expect(() => loadConfig({ WEB_CONCURRENCY: value }), value).toThrow(
        /WEB_CONCURRENCY: more than one worker needs DATABASE_URL/,
      );
    }
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).databaseUrl).toBeUndefined();
  });

  it('reads an app-role password that can go into a URL unescaped, and refuses any other', () => {
    const password = 'Ab3-._~'.repeat(4);
    expect(loadConfig({ DATABASE_APP_PASSWORD: password }).databaseAppPassword).toBe(password);
    expect(loadConfig({ DATABASE_APP_PASSWORD: '' }).databaseAppPassword).toBeUndefined();
    const refused = [
      'short-pass',
      'x'.repeat(257),
      `${'a'.repeat(16)}@host`,
      `${'a'.repeat(16)}/path`,
      `${'a'.repeat(16)}'; drop role x; --`,
      `${'a'.repeat(16)}\u0000`,
      `${'a'.repeat(16)}\n`,
      `${'a'.repeat(16)} `,
      `${'a'.repeat(16)}é`,
      `${'a'.repeat(15)}\u0430`,
    ];
    for (const value of refused) {
      expect(() => loadConfig({ DATABASE_APP_PASSWORD: value }), JSON.stringify(value)).toThrow(
        /DATABASE_APP_PASSWORD: must be 16-256 of/,
      );
    }
  });
  it('turns the explorer on outside production and off in it, unless EXPLORER says otherwise', () => {
    const production = {
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      CACHE_ENCRYPTION_KEY: KEY_A,
      DATABASE_URL: 'postgres://db/caregraph',
    };
    expect(loadConfig({}).explorer).toBe(true);
    expect(loadConfig({ EXPLORER: 'off' }).explorer).toBe(false);
    expect(loadConfig(production).explorer).toBe(false);
    expect(loadConfig({ ...production, EXPLORER: 'on' }).explorer).toBe(true);
    expect(() => loadConfig({ EXPLORER: 'yes' })).toThrow(/EXPLORER: must be on or off/);
  });

  it('reads CORS_ORIGINS as a list of exact origins, none by default', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(
      loadConfig({ CORS_ORIGINS: 'https://portal.example.org, http://localhost:5173,' })
        .corsOrigins,
    ).toEqual(['https://portal.example.org', 'http://localhost:5173']);
    for (const bad of [
      '*',
      'portal.example.org',
      'https://portal.example.org/',
      'https://portal.example.org/app',
      'https://Portal.example.org',
      'https://portal.example.org:443',
      'ftp://portal.example.org',
    ]) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS: must be/);
    }
  });

  it('turns tracing on only when an OTLP endpoint is set, exporting to its /v1/traces', () => {
    expect(loadConfig({}).tracing).toEqual({
      exportUrl: undefined,
      headers: {},
      serviceName: 'caregraph',
    });
    const on = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=a%2Cb, tenant = ops',
      OTEL_SERVICE_NAME: 'caregraph-eu',
    }).tracing;
    expect(on).toEqual({
      exportUrl: 'http://collector:4318/v1/traces',
      headers: { 'x-api-key': 'a,b', tenant: 'ops' },
      serviceName: 'caregraph-eu',
    });
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector/otlp/' }).tracing.exportUrl,
    ).toBe('https://collector/otlp/v1/traces');
    // The signal's own endpoint is used as given.
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/ingest',
      }).tracing.exportUrl,
    ).toBe('http://traces:9999/ingest');
  });

  it('refuses an OTLP endpoint that is not an http(s) URL, and malformed OTLP headers', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT: must be an http\(s\) URL/,
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'a=b%0D%0AInjected:%20x' })).toThrow(
      /OTEL_EXPORTER_OTLP_HEADERS: a value .* decodes to a control character/,
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'a=b\r\nInjected: x' })).toThrow(
      /OTEL_EXPORTER_OTLP_HEADERS: must not hold control characters/,
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' })).toThrow(
      /OTEL_EXPORTER_OTLP_HEADERS: must be comma-separated key=value pairs/,
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'k=%E0%A4%A' })).toThrow(
      /OTEL_EXPORTER_OTLP_HEADERS: a value is not valid percent-encoding/,
    );
  });
});
