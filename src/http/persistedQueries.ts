import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { parse, type GraphQLSchema } from 'graphql';
import { ErrorCode } from '../errors.js';
import type { TrustedOperation } from '../persisted/trustedDocuments.js';
import { checkRequestLimits, type RequestLimits } from './requestLimits.js';

export interface GateOptions {
  readonly schema: GraphQLSchema;
  readonly trusted: ReadonlyMap<string, TrustedOperation>;
  /** `only`: every client runs manifest operations only. */
  readonly mode: 'allow' | 'only';
  readonly mobileClientNames: ReadonlySet<string>;
  readonly limits: RequestLimits & { readonly maxBatchSize: number };
}

export interface GateRefusal {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
}

interface Operation {
  query?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

// A parse of a document within the size limit is bounded anyway; this bounds it in tokens too.
const MAX_TOKENS = 20_000;

/**
 * Checks a GraphQL request before Apollo sees it, and completes it:
 * - an operation sent by the id of the persisted-query manifest gets the manifest's body;
 * - clients named as mobile (or every client, with PERSISTED_QUERIES=only) may run manifest
 *   operations only: raw text and unknown hashes get PERSISTED_QUERY_NOT_SUPPORTED;
 * - a hash sent with text must be the text's SHA-256 (PERSISTED_QUERY_HASH_MISMATCH);
 * - a batch may hold at most `maxBatchSize` operations (BATCH_TOO_LARGE);
 * - any other text is checked for depth, cost and aliases before it is validated.
 *
 * @returns a refusal, or undefined when the request may go on (possibly completed in place).
 */
export function gateGraphqlRequest(
  request: FastifyRequest,
  options: GateOptions,
): GateRefusal | undefined {
  const clientName = request.headers['apollographql-client-name'];
  const strict =
    options.mode === 'only' ||
    (typeof clientName === 'string' && options.mobileClientNames.has(clientName));

  if (request.method === 'GET') {
    const params = request.query as Record<string, unknown>;
    const operation: Operation = {
      query: params.query,
      variables: jsonOf(params.variables),
      extensions: jsonOf(params.extensions),
    };
    const refusal = gateOperation(operation, strict, options);
    if (operation.query !== params.query) params.query = operation.query;
    return refusal;
  }
  const body: unknown = request.body;
  if (Array.isArray(body)) {
    if (body.length > options.limits.maxBatchSize) {
      return refuse(
        400,
        ErrorCode.BatchTooLarge,
        `A batch may hold at most ${options.limits.maxBatchSize} operations`,
      );
    }
    for (const operation of body) {
      const refusal =
        typeof operation === 'object' && operation !== null
          ? gateOperation(operation as Operation, strict, options)
          : undefined;
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }
  return typeof body === 'object' && body !== null
    ? gateOperation(body, strict, options)
    : undefined;
}

function gateOperation(
  operation: Operation,
  strict: boolean,
  options: GateOptions,
): GateRefusal | undefined {
  const hash = persistedHashOf(operation.extensions);
  const query =
    typeof operation.query === 'string' && operation.query !== '' ? operation.query : undefined;
  const trusted = hash === undefined ? undefined : options.trusted.get(hash);
  if (strict && (trusted === undefined || (query !== undefined && query !== trusted.body))) {
    return refuse(
      400,
      ErrorCode.PersistedQueryNotSupported,
      'This client may run only operations of the persisted-query manifest, sent by id',
    );
  }
  if (trusted !== undefined) {
    // Sent by id: run the manifest's body, which was parsed and validated at start-up.
    operation.query ??= trusted.body;
    return undefined;
  }
  if (hash !== undefined && query !== undefined && sha256(query) !== hash) {
    return refuse(
      400,
      ErrorCode.PersistedQueryHashMismatch,
      'The persisted query hash is not the SHA-256 of the query',
    );
  }
  if (query === undefined) return undefined;
  let document;
  try {
    document = parse(query, { maxTokens: MAX_TOKENS });
  } catch (error) {
    // Apollo answers syntax errors with GRAPHQL_PARSE_FAILED; a token bomb stops here.
    return error instanceof Error && /more than \d+ tokens/.test(error.message)
      ? refuse(400, ErrorCode.QueryTooLarge, `Query has more than ${MAX_TOKENS} tokens`)
      : undefined;
  }
  const variables =
    typeof operation.variables === 'object' && operation.variables !== null
      ? (operation.variables as Record<string, unknown>)
      : undefined;
  const violation = checkRequestLimits(options.schema, document, options.limits, variables);
  return violation === undefined ? undefined : refuse(400, violation.code, violation.message);
}

function persistedHashOf(extensions: unknown): string | undefined {
  const hash = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)
    ?.persistedQuery?.sha256Hash;
  return typeof hash === 'string' ? hash.toLowerCase() : undefined;
}

function jsonOf(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function refuse(status: number, code: ErrorCode, message: string): GateRefusal {
  return { status, code, message };
}
