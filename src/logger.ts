import { pino, stdTimeFunctions, type DestinationStream, type Logger, type LogFn } from 'pino';

export type { Logger };

/**
 * Creates the structured logger. Request headers that carry credentials are redacted, and no
 * error message reaches the log, whoever logs the error (our code, Fastify, Apollo): an error
 * is written as its class, code and stack frames only. Callers log ids and codes, never names,
 * search terms or clinical text.
 *
 * @param options.destination where lines go; standard output when omitted.
 */
export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'caregraph' },
      // `"time":"2026-01-31T09:30:00.000Z"`: readable as it stands, and sorted as text.
      timestamp: stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-break-glass"]',
          '*.password',
        ],
        censor: '[redacted]',
      },
      serializers: { err: serializeError, req: serializeRequest },
      hooks: { logMethod: withoutErrorMessages },
    },
    options.destination,
  );
}

/** What the log keeps of an error: nothing the error's message or its data could carry. */
export interface ErrorDescription {
  /** The error's class (its constructor's name), such as `DrizzleQueryError`. */
  readonly type: string;
  /** A SQLSTATE, a Node or driver code, or a GraphQL error code. */
  readonly code?: string;
  /** Genuine `at …` stack frames, when they can be told apart from the message. */
  readonly frames?: string[];
  readonly cause?: ErrorDescription;
}

const MAX_FRAMES = 8;
const MAX_CAUSES = 3;
const IDENTIFIER = /^[A-Za-z_$][\w$]{0,63}$/;
const CODE = /^[A-Za-z0-9_.-]{1,64}$/;
const FRAME = /^ {4}at \S/;

/**
 * Describes an error for the log without its message, which may echo PHI: drizzle's
 * `Failed query: …\nparams: …` holds every parameter of the statement, and a Postgres error
 * quotes the offending value. Causes (drizzle wraps the driver's error as `cause`, a
 * GraphQLError keeps its `originalError`) are described the same way.
 */
export function describeError(error: unknown, depth = 0): ErrorDescription {
  if (!(error instanceof Error)) return { type: typeof error };
  const code = codeOf(error);
  const frames = framesOf(error);
  const cause = causeOf(error);
  return {
    type: classOf(error),
    ...(code === undefined ? {} : { code }),
    ...(frames === undefined ? {} : { frames }),
    ...(cause !== undefined && cause !== error && depth < MAX_CAUSES
      ? { cause: describeError(cause, depth + 1) }
      : {}),
  };
}

function classOf(error: Error): string {
  const name: unknown = error.constructor.name;
  if (typeof name === 'string' && IDENTIFIER.test(name)) return name;
  return IDENTIFIER.test(error.name) ? error.name : 'Error';
}

function codeOf(error: Error): string | undefined {
  const own: unknown = (error as { code?: unknown }).code;
  const graphql: unknown = (error as { extensions?: { code?: unknown } }).extensions?.code;
  const code = typeof own === 'string' || typeof own === 'number' ? String(own) : graphql;
  return typeof code === 'string' && CODE.test(code) ? code : undefined;
}

function causeOf(error: Error): unknown {
  return error.cause ?? (error as { originalError?: unknown }).originalError;
}

/**
 * V8 writes a stack as `<name>: <message>` and then one `    at …` line per frame. The message
 * may span lines, and a hostile value inside it may itself look like a frame, so the frames
 * are what follows the exact header; when the header is not the stack's first text (the
 * message changed after the stack was taken, or a GraphQLError borrowed its cause's stack),
 * no line can be told apart from the message and none is kept.
 */
function framesOf(error: Error): string[] | undefined {
  const stack: unknown = error.stack;
  if (typeof stack !== 'string') return undefined;
  // Typed as strings, but any value can be assigned to them at run time.
  const { name: rawName, message: rawMessage }: { name: unknown; message: unknown } = error;
  const name = String(rawName);
  const message = String(rawMessage);
  const header = name === '' ? message : message === '' ? name : `${name}: ${message}`;
  if (!stack.startsWith(`${header}\n`)) return undefined;
  const frames: string[] = [];
  for (const line of stack.slice(header.length + 1).split('\n')) {
    if (!FRAME.test(line) || frames.length === MAX_FRAMES) break;
    frames.push(line.trim());
  }
  return frames;
}

/** pino's `err` serializer: an Error is described, never serialized with its message. */
function serializeError(value: unknown): unknown {
  return value instanceof Error ? describeError(value) : value;
}

/**
 * Fastify's request serializer, without the query string: a GET carries its variables there.
 * Headers are not logged at all.
 */
function serializeRequest(request: {
  method?: unknown;
  url?: unknown;
  id?: unknown;
}): Record<string, unknown> {
  const url = typeof request.url === 'string' ? request.url.split('?')[0] : undefined;
  return { method: request.method, url, id: request.id };
}

/**
 * pino takes an Error given as the first argument, or as `err` with no message, and writes
 * its message as the line's `msg` (Fastify and Apollo both log that way). Such calls get a
 * described error and a fixed message instead.
 */
function withoutErrorMessages(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  const [first, given]: unknown[] = args;
  if (first instanceof Error) {
    method.apply(this, [{ err: describeError(first) }, fixedMessage(given, first)]);
    return;
  }
  if (typeof first === 'object' && first !== null && 'err' in first) {
    const { err } = first;
    if (err instanceof Error) {
      method.apply(this, [{ ...first, err: describeError(err) }, fixedMessage(given, err)]);
      return;
    }
  }
  method.apply(this, args);
}

/** The caller's message, unless it is missing or quotes the error's own (Fastify's habit). */
function fixedMessage(given: unknown, error: Error): string {
  if (typeof given !== 'string') return 'error';
  return error.message !== '' && given.includes(error.message) ? 'error' : given;
}
