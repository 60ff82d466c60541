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
  network_mode?: string;
  depends_on?: Record<string, { condition: string }>;
}

const text = readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8');
const compose = parse(text) as { services: Record<string, Service> };

/** The secrets an operator must give; none may fall back to a default. */
const SAMPLES: Record<string, string> = {
  JWT_SECRET: 'a-sample-secret-that-is-long-enough-0123456789',
  CACHE_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
  POSTGRES_PASSWORD: 'sample-owner-password-0123',
  REDIS_PASSWORD: 'sample-redis-password-0123',
  DATABASE_APP_PASSWORD: 'sample-app-password-0123',
};

/**
 * Substitutes `${VAR}`, `${VAR:-default}` and `${VAR:?message}` the way Compose does, from
 * `env`; `$$` is a literal `$` for the container's shell.
 *
 * @throws as `docker compose` refuses to start, when a `:?` variable is unset or empty.
 */
function interpolate(value: string, env: Record<string, string> = SAMPLES): string {
  return value.replace(
    /\$\$|\$\{(\w+)(?:(:-)([^}]*)|(:\?)([^}]*))?\}/g,
    (whole, name?: string, _dash?: string, fallback?: string, required?: string) => {
      if (whole === '$$') return '$';
      const given = env[name ?? ''];
      if (given !== undefined && given !== '') return given;
      if (required !== undefined) throw new Error(`required variable ${name ?? ''} is missing`);
      return fallback ?? '';
    },
  );
}

const environmentOf = (service: Service | undefined, env?: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(service?.environment ?? {}).map(([k, v]) => [k, interpolate(v, env)]),
  );

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
    expect(interpolate(command[command.indexOf('--requirepass') + 1] ?? '')).toBe(
      SAMPLES.REDIS_PASSWORD,
    );
  });

  it('requires every secret, and has a default for none', () => {
    const uses = [...text.matchAll(/(?<!\$)\$\{(\w+)(:-|:\?)?[^}]*\}/g)];
    const secrets = uses.filter(([, name]) => /PASSWORD|SECRET|KEY/.test(name ?? ''));
    expect(new Set(secrets.map(([, name]) => name))).toEqual(new Set(Object.keys(SAMPLES)));
    for (const [use, , operator] of secrets) expect(operator, use).toBe(':?');
    for (const name of Object.keys(SAMPLES)) {
      const without = { ...SAMPLES, [name]: '' };
      expect(() => interpolate(text, without), name).toThrow(`${name} is missing`);
    }
  });

  it('publishes the API port and no other: Postgres and Redis stay on the compose network', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.network_mode, name).toBeUndefined();
      if (name !== 'api') expect(service.ports, name).toBeUndefined();
    }
    expect(api?.ports).toEqual(['4000:4000']);
  });

  it('gives the api only variables the config module reads, and a configuration it accepts', () => {
    const environment = api?.environment ?? {};
    for (const name of Object.keys(environment)) expect(CONFIG_ENV_VARS).toContain(name);
    const config = loadConfig(environmentOf(api));
    expect(config.env).toBe('production');
    expect(config.host).toBe('0.0.0.0');
    expect(api?.ports).toContain(`${config.port}:${config.port}`);
  });

  it('runs the api as caregraph_app, without the owner password', () => {
    const environment = environmentOf(api);
    const database = new URL(environment.DATABASE_URL ?? '');
    expect(database.hostname).toBe('postgres');
    expect(database.pathname).toBe(`/${postgres?.environment?.POSTGRES_DB ?? ''}`);
    expect(database.username).toBe('caregraph_app');
    expect(decodeURIComponent(database.password)).toBe(SAMPLES.DATABASE_APP_PASSWORD);
    expect(environment.DATABASE_APP_PASSWORD).toBeUndefined();
    for (const value of Object.values(environment))
      expect(value).not.toContain(SAMPLES.POSTGRES_PASSWORD);
    const cache = new URL(environment.REDIS_URL ?? '');
    expect(cache.hostname).toBe('redis');
    expect(cache.password).toBe(SAMPLES.REDIS_PASSWORD);
  });

  it('migrates and seeds as the owner, making the app role, before the api starts', () => {
    const environment = environmentOf(migrate);
    for (const name of Object.keys(environment)) expect(CONFIG_ENV_VARS).toContain(name);
    const database = new URL(environment.DATABASE_URL ?? '');
    expect(database.username).toBe(postgres?.environment?.POSTGRES_USER);
    expect(decodeURIComponent(database.password)).toBe(SAMPLES.POSTGRES_PASSWORD);
    // The password the role gets is the one the api's URL carries, and config accepts it.
    expect(loadConfig(environment).databaseAppPassword).toBe(SAMPLES.DATABASE_APP_PASSWORD);

    const [shell, flag, script = ''] = migrate?.command ?? [];
    expect([shell, flag]).toEqual(['sh', '-c']);
    const steps = interpolate(script).split('&&');
    expect(steps[0]?.trim()).toBe('node dist/cli/migrate.js');
    expect(steps[1]).toContain('node dist/cli/seed.js --patients "1000"');
    expect(interpolate(script, { ...SAMPLES, SEED_PATIENTS: '0' })).toContain('[ "0" != 0 ]');
    expect(migrate?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(api?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
  });
});
