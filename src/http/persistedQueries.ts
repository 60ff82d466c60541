import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { parse, type GraphQLSchema } from 'graphql';
import { ErrorCode } from '../errors.js';
import type { TrustedOperation } from '../persisted/trustedDocuments.js';
import type { DocumentStore } from './documentStore.js';
import { checkRequestLimits, type RequestLimits } from './requestLimits.js';

export interface GateOptions {
  readonly schema: GraphQLSchema;
  readonly trusted: ReadonlyMap<string, TrustedOperation>;
  /** Documents Apollo has parsed and validated: the gate does not parse those again. */
  readonly documents: Pick<DocumentStore, 'documentOf'>;
  /** `only`: every client runs manifest operations only. */
  readonly mode: 'allow' | 'only';
  readonly mobileClientNames: ReadonlySet<string>;
  readonly limits: RequestLimits & { readonly maxBatchSize: number };
  readonly maxQueryLength: number;
}

export interface GateRefusal {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
}

interface Operation {
  readonly query: unknown;
  readonly variables: unknown;
  readonly extensions: unknown;
}

/** Parsing stops past this many tokens, whatever the document's size in bytes. */
const MAX_TOKENS = 20_000;
const GET_PARAMETERS = ['query', 'variables', 'extensions', 'operationName'] as const;

/**
 * Checks every operation of a GraphQL request before Apollo parses or validates it:
 * - a batch holds at most `maxBatchSize` operations (BATCH_TOO_LARGE);
 * - query text is at most `maxQueryLength` characters (QUERY_TOO_LARGE, 413) and MAX_TOKENS
 *   tokens;
 * - clients named as mobile (or every client, with PERSISTED_QUERIES=only) send manifest
 *   operations by id only (PERSISTED_QUERY_NOT_SUPPORTED); Apollo's persisted-query cache
 *   then answers the id with the manifest's body;
 * - a hash sent with text is the text's SHA-256 (PERSISTED_QUERY_HASH_MISMATCH);
 * - any text is within the depth, cost and alias limits.
 * A GET is read exactly as Apollo reads it, and a repeated parameter is refused.
 *
 * @returns a refusal, or undefined when the request may go on.
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
    const search = new URL(request.url, 'http://localhost').searchParams;
    if (GET_PARAMETERS.some((name) => search.getAll(name).length > 1)) {
      return refuse(
        400,
        ErrorCode.BadRequest,
        'A GraphQL GET request names each parameter at most once',
      );
    }
    return gateOperation(
      {
        query: search.get('query') ?? undefined,
        variables: jsonOf(search.get('variables')),
        extensions: jsonOf(search.get('extensions')),
      },
      strict,
      options,
    );
  }
  const body: unknown = request.body;
  const operations = Array.isArray(body) ? (body as unknown[]) : [body];
  if (operations.length > options.limits.maxBatchSize) {
    return refuse(
      400,
      ErrorCode.BatchTooLarge,
      `A batch may hold at most ${options.limits.maxBatchSize} operations`,
    );
  }
  for (const operation of operations) {
    if (typeof operation !== 'object' || operation === null) continue;
    const refusal = gateOperation(operation as Operation, strict, options);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

function gateOperation(
  operation: Operation,
  strict: boolean,
  options: GateOptions,
): GateRefusal | undefined {
  const persisted = (
    operation.extensions as
      { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined
  )?.persistedQuery;
  const hash = typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
  const query =
    typeof operation.query === 'string' && operation.query !== '' ? operation.query : undefined;
  if (query !== undefined && query.length > options.maxQueryLength) {
    return refuse(
      413,
      ErrorCode.QueryTooLarge,
      `Query text exceeds the limit of ${options.maxQueryLength} characters`,
    );
  }
  if (persisted !== undefined && persisted.version !== 1) {
    return refuse(
      400,
      ErrorCode.BadRequest,
      'Only version 1 of the persisted-query protocol is supported',
    );
  }
  const trusted = hash === undefined ? undefined : options.trusted.get(hash);
  if (strict && (trusted === undefined || query !== undefined)) {
    return refuse(
      400,
      ErrorCode.PersistedQueryNotSupported,
      'This client may run only operations of the persisted-query manifest, sent by id without text',
    );
  }
  const textHash = query === undefined ? undefined : sha256(query);
  if (hash !== undefined && textHash !== undefined && textHash !== hash) {
    return refuse(
      400,
      ErrorCode.PersistedQueryHashMismatch,
      'The persisted query hash is not the SHA-256 of the query',
    );
  }
  if (query === undefined || textHash === undefined) return undefined;
  // A document Apollo has validated before was within MAX_TOKENS; only its limits, which
  // depend on the variables, are checked again.
  let document = options.documents.documentOf(textHash);
  if (document === undefined) {
    try {
      document = parse(query, { maxTokens: MAX_TOKENS });
    } catch (error) {
      // Apollo answers syntax errors with GRAPHQL_PARSE_FAILED; a token bomb stops here.
      return error instanceof Error && /contains more th[ae]n? \d+ tokens/.test(error.message)
        ? refuse(413, ErrorCode.QueryTooLarge, `Query has more than ${MAX_TOKENS} tokens`)
        : undefined;
    }
  }
  const variables =
    typeof operation.variables === 'object' && operation.variables !== null
      ? (operation.variables as Record<string, unknown>)
      : undefined;
  const violation = checkRequestLimits(options.schema, document, options.limits, variables);
  return violation === undefined ? undefined : refuse(400, violation.code, violation.message);
}

function jsonOf(value: string | null): unknown {
  if (value === null) return undefined;
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
