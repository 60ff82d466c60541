import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  network_mode?: string;
  networks?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
}

/** docker-compose.yml as written. */
export const composeText = readFileSync(
  new URL('../../docker-compose.yml', import.meta.url),
  'utf8',
);

/** docker-compose.yml parsed, its aliases resolved. */
export const compose = parse(composeText) as {
  services: Record<string, ComposeService>;
  networks: Record<string, { internal?: boolean } | null>;
};

/** The secrets an operator must give; none may fall back to a default. */
export const SAMPLES: Record<string, string> = {
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
export function interpolate(value: string, env: Record<string, string> = SAMPLES): string {
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

/** A service's environment, substituted from `env` (the samples by default). */
export const environmentOf = (service: ComposeService | undefined, env?: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(service?.environment ?? {}).map(([k, v]) => [k, interpolate(v, env)]),
  );
