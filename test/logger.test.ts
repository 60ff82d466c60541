import { randomBytes } from 'node:crypto';
import { DrizzleQueryError } from 'drizzle-orm';
import { GraphQLError } from 'graphql';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { createLogger, describeError, type ErrorDescription } from '../src/logger.js';

const canary = () => `CANARY${randomBytes(6).toString('hex')}`;

/** What postgres.js raises for a NUL byte, wrapped the way drizzle wraps every failed query. */
function failedQuery(params: unknown[]): DrizzleQueryError {
  const driverError = new postgres.PostgresError({
    message: 'invalid byte sequence for encoding "UTF8": 0x00',
    code: '22021',
    severity: 'ERROR',
    routine: 'report_invalid_encoding',
  } as unknown as string);
  return new DrizzleQueryError(
    'update "patients" set "name" = $1, "phone" = $2 where "id" = $3',
    params,
    driverError,
  );
}

function expectOnlyFrames(description: ErrorDescription | undefined): void {
  for (let at = description; at !== undefined; at = at.cause) {
    for (const frame of at.frames ?? []) expect(frame).toMatch(/^at \S/);
  }
}

/** A logger whose lines are kept in memory, at every level. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (s) => lines.push(s) } });
  return { logger, text: () => lines.join('') };
}

describe('describeError', () => {
  it('keeps the class and code of a drizzle query error and its cause, and none of the message', () => {
    const name = canary();
    const phone = canary();
    const error = failedQuery([`${name}\u0000`, phone, 'f4b0c2f5-8d8e-4f0b-9a51-3d1f1f2e0c11']);
    // The attack: the message spans lines, and the params line follows the first.
    expect(error.stack?.split('\n')[1]).toContain(name);

    const description = describeError(error);
    const text = JSON.stringify(description);
    expect(text).not.toContain(name);
    expect(text).not.toContain(phone);
    expect(text).not.toContain('f4b0c2f5');
    expect(text).not.toMatch(/params|Failed query|patients|invalid byte/);
    expect(description).toMatchObject({
      type: 'DrizzleQueryError',
      cause: { type: 'PostgresError', code: '22021' },
    });
    expect(description.frames?.length).toBeGreaterThan(0);
    expectOnlyFrames(description);
  });

  it('drops message lines that are dressed as stack frames', () => {
    const value = canary();
    const error = failedQuery([`x\n    at ${value} (/srv/app.js:1:1)\n    at y`]);
    const text = JSON.stringify(describeError(error));
    expect(text).not.toContain(value);
    expectOnlyFrames(describeError(error));
  });

  it('keeps no frames when the message no longer matches the stack', () => {
    const value = canary();
    const error = new Error(`select 1\nparams: ${value}\n    at ${value} (x.js:1:1)`);
    // The stack is written once, with the message as it was then.
    expect(error.stack).toContain(value);
    error.message = 'changed';
    const description = describeError(error);
    expect(description.frames).toBeUndefined();
    expect(JSON.stringify(description)).not.toContain(value);
  });

  it("describes a GraphQLError's original error without the stack it borrowed", () => {
    const value = canary();
    const original = failedQuery([value]);
    const wrapped = new GraphQLError(`Context creation failed: ${original.message}`, {
      originalError: original,
    });
    const description = describeError(wrapped);
    expect(JSON.stringify(description)).not.toContain(value);
    expect(description).toMatchObject({
      type: 'GraphQLError',
      cause: { type: 'DrizzleQueryError', cause: { code: '22021' } },
    });
    expectOnlyFrames(description);
  });

  it('keeps codes that are codes and drops text posing as one', () => {
    const value = canary();
    const coded = Object.assign(new Error(value), { code: 'ECONNREFUSED' });
    const posing = Object.assign(new Error(value), { code: `name is ${value}` });
    expect(describeError(coded).code).toBe('ECONNREFUSED');
    expect(JSON.stringify(describeError(posing))).not.toContain(value);
  });

  it('ends on a cycle of causes and describes a thrown non-error by its type only', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(JSON.stringify(describeError(a)).length).toBeLessThan(10_000);
    expect(describeError(`thrown ${canary()}`)).toEqual({ type: 'string' });
  });
});

describe('createLogger', () => {
  it('stamps every line with an ISO 8601 UTC time', () => {
    const { logger, text } = capturedLogger();
    logger.info('started');
    const line = JSON.parse(text()) as { time: unknown };
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('writes an error passed as the first argument without its message', () => {
    const { logger, text } = capturedLogger();
    const value = canary();
    logger.error(failedQuery([value]));
    logger.warn(new Error(value));
    logger.child({ reqId: 'r1' }).debug(new Error(value));
    expect(text()).not.toContain(value);
    expect(text()).toContain('"type":"DrizzleQueryError"');
  });

  it('writes an `err` field without its message, and drops a message that quotes it', () => {
    const { logger, text } = capturedLogger();
    const value = canary();
    const error = failedQuery([value]);
    logger.warn({ err: error });
    logger.error({ err: error }, error.message);
    logger.info({ err: new Error(value) }, 'a fixed message');
    expect(text()).not.toContain(value);
    expect(text()).toContain('a fixed message');
  });

  it('logs a request without its query string, where GET carries the variables', () => {
    const { logger, text } = capturedLogger();
    const value = canary();
    logger.info(
      { req: { method: 'GET', url: `/graphql?variables={"s":"${value}"}`, id: 'r2' } },
      'incoming request',
    );
    expect(text()).not.toContain(value);
    expect(text()).toContain('"url":"/graphql"');
  });
});
