import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_ENV_VARS, loadConfig } from '../src/config.js';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8')) as {
  services: Record<string, Service>;
};

/** Substitutes `${VAR:-default}` and `${VAR:?message}` the way Compose does, with sample secrets. */
function interpolate(value: string): string {
  const samples: Record<string, string> = {
    JWT_SECRET: 'a-sample-secret-that-is-long-enough-0123456789',
    CACHE_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
  };
  return value.replace(
    /\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g,
    (_, name: string, fallback?: string) => {
      return samples[name] ?? fallback ?? '';
    },
  );
}

describe('docker-compose.yml', () => {
  const { postgres, redis, api, migrate } = compose.services;

  it('runs Postgres 16 and Redis 7', () => {
    expect(postgres?.image).toMatch(/^postgres:16(\b|$)/);
    expect(redis?.image).toMatch(/^redis:7(\b|$)/);
  });

  it('bounds Redis memory with allkeys-lru and requires a password', () => {
    const command = redis?.command ?? [];
    expect(command[command.indexOf('--maxmemory') + 1]).toMatch(/^\d+(mb|gb)$/);
    expect(command[command.indexOf('--maxmemory-policy') + 1]).toBe('allkeys-lru');
    expect(interpolate(command[command.indexOf('--requirepass') + 1] ?? '')).not.toBe('');
  });

  it('gives the api only variables the config module reads, and a configuration it accepts', () => {
    const environment = api?.environment ?? {};
    for (const name of Object.keys(environment)) expect(CONFIG_ENV_VARS).toContain(name);
    const config = loadConfig(
      Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, interpolate(v)])),
    );
    expect(config.env).toBe('production');
    expect(config.host).toBe('0.0.0.0');
    expect(api?.ports).toContain(`${config.port}:${config.port}`);
  });

  it('points the api at the compose Postgres and the password-protected Redis', () => {
    const environment = api?.environment ?? {};
    const database = new URL(interpolate(environment.DATABASE_URL ?? ''));
    expect(database.hostname).toBe('postgres');
    expect(database.pathname).toBe(`/${postgres?.environment?.POSTGRES_DB ?? ''}`);
    expect(database.username).toBe(postgres?.environment?.POSTGRES_USER);
    const cache = new URL(interpolate(environment.REDIS_URL ?? ''));
    expect(cache.hostname).toBe('redis');
    expect(cache.password).toBe(
      interpolate(redis?.command?.[redis.command.indexOf('--requirepass') + 1] ?? ''),
    );
  });

  it('migrates before the api starts', () => {
    expect(migrate?.command).toEqual(['node', 'dist/cli/migrate.js']);
    expect(api?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    for (const name of Object.keys(migrate?.environment ?? {}))
      expect(CONFIG_ENV_VARS).toContain(name);
  });
});
