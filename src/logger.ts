import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Creates the structured logger. Request headers that carry credentials are redacted;
 * callers log ids and codes, never names, search terms or clinical text.
 */
export function createLogger(options: { level: string }): Logger {
  return pino({
    level: options.level,
    base: { service: 'caregraph' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-break-glass"]',
        '*.password',
      ],
      censor: '[redacted]',
    },
  });
}

/**
 * Describes an unexpected error for the log without its message, which may echo PHI (a
 * Postgres constraint error quotes the offending values, for instance).
 */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const cause: unknown = error.cause;
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    ...(typeof code === 'string' ? { code } : {}),
    // The first stack line repeats the message; the frames are safe.
    frames: error.stack
      ?.split('\n')
      .slice(1, 8)
      .map((line) => line.trim()),
    ...(cause !== undefined && cause !== error ? { cause: describeError(cause) } : {}),
  };
}
