import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV_VARS, loadConfig } from '../src/config.js';
import {
  compose,
  composeText as text,
  environmentOf,
  interpolate,
  SAMPLES,
} from './support/composeFile.js';

describe('docker-compose.yml', () => {
  const { postgres, redis, api, migrate, seed, token } = compose.services;

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

  it('publishes the API port and no other: Postgres and Redis are on an internal network', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (name !== 'api') expect(service.ports, name).toBeUndefined();
    }
    expect(api?.ports).toEqual(['4000:4000']);
    expect(compose.networks.data?.internal).toBe(true);
    expect(postgres?.networks).toEqual(['data']);
    expect(redis?.networks).toEqual(['data']);
    expect(postgres?.network_mode).toBeUndefined();
    expect(redis?.network_mode).toBeUndefined();
    // Every network but the internal one is the API's alone, and carries only its port.
    for (const [name, service] of Object.entries(compose.services)) {
      const outside = (service.networks ?? []).filter((network) => network !== 'data');
      if (name !== 'api') expect(outside, name).toEqual([]);
      if (name !== 'api' && service.networks === undefined)
        expect(service.network_mode, name).toBe('none');
    }
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

  it('migrates as the owner, making the app role with its password, before the api starts', () => {
    const environment = environmentOf(migrate);
    for (const name of Object.keys(environment)) expect(CONFIG_ENV_VARS).toContain(name);
    const database = new URL(environment.DATABASE_URL ?? '');
    expect(database.username).toBe(postgres?.environment?.POSTGRES_USER);
    expect(decodeURIComponent(database.password)).toBe(SAMPLES.POSTGRES_PASSWORD);
    // The password the role gets is the one the api's URL carries, and config accepts it.
    expect(loadConfig(environment).databaseAppPassword).toBe(SAMPLES.DATABASE_APP_PASSWORD);
    expect(migrate?.command).toEqual(['node', 'dist/cli/migrate.js']);
    expect(migrate?.profiles).toBeUndefined();
    expect(migrate?.depends_on?.postgres?.condition).toBe('service_healthy');
  });

  it('starts the api once Postgres and Redis are healthy and the migration has succeeded', () => {
    expect(api?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
      redis: { condition: 'service_healthy' },
    });
    for (const name of ['postgres', 'redis', 'api'])
      expect(compose.services[name], name).toHaveProperty('healthcheck.test');
  });

  it('seeds on demand, as the owner, after the migration', () => {
    const environment = environmentOf(seed);
    for (const name of Object.keys(environment)) expect(CONFIG_ENV_VARS).toContain(name);
    expect(loadConfig(environment).env).toBe('production');
    expect(new URL(environment.DATABASE_URL ?? '').username).toBe(
      postgres?.environment?.POSTGRES_USER,
    );
    // A profile: `up` leaves the database empty; `docker compose run --rm seed` fills it.
    expect(seed?.profiles).toEqual(['seed']);
    expect(seed?.entrypoint).toEqual(['node', 'dist/cli/seed.js']);
    expect((seed?.command ?? []).map((arg) => interpolate(arg))).toEqual(['--patients', '1000']);
    expect(interpolate(seed?.command?.[1] ?? '', { ...SAMPLES, SEED_PATIENTS: '50' })).toBe('50');
    expect(seed?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
  });

  it("signs tokens with the api's own JWT settings, offline", () => {
    expect(token?.profiles).toEqual(['tools']);
    expect(token?.entrypoint).toEqual(['node', 'dist/cli/token.js']);
    expect(token?.environment).toEqual(api?.environment);
    expect(token?.network_mode).toBe('none');
    const config = loadConfig(environmentOf(token));
    expect(Buffer.from(config.jwt.secret).toString()).toBe(SAMPLES.JWT_SECRET);
  });

  it('runs the node services as compiled JavaScript of one image', () => {
    for (const service of [api, migrate, seed, token]) {
      expect(service?.build).toBe('.');
      expect(service?.image).toBe('caregraph');
    }
    const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
    const runStage = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    expect(runStage).toMatch(/^USER node$/m);
    expect(runStage).toContain('CMD ["node", "dist/main.js"]');
    expect(runStage).not.toMatch(/tsx|npm (start|run)/);
  });
});
