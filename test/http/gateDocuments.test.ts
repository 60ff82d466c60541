import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createSchema } from '../../src/graphql/createSchema.js';
import { gateGraphqlRequest } from '../../src/http/persistedQueries.js';

const { schema } = createSchema();
const limits = { maxDepth: 10, maxCost: 20_000, maxAliases: 30, maxBatchSize: 10 };

function post(query: string): FastifyRequest {
  return {
    method: 'POST',
    headers: {},
    url: '/graphql',
    body: { query },
  } as unknown as FastifyRequest;
}

describe('gateGraphqlRequest', () => {
  it('checks the limits of a document Apollo has validated without parsing its text again', () => {
    const text = '{ departments { id } }';
    const hash = createHash('sha256').update(text).digest('hex');
    // Stands in for what Apollo stored under this text: if the gate parsed the text itself,
    // it would see a shallow query and let it through.
    let deep = 'id';
    for (let i = 0; i < 12; i++) deep = `doctors { department { ${deep} } }`;
    const stored = parse(`{ departments { ${deep} } }`);
    const options = {
      schema,
      trusted: new Map(),
      documents: { documentOf: (queryHash: string) => (queryHash === hash ? stored : undefined) },
      mode: 'allow' as const,
      mobileClientNames: new Set<string>(),
      limits,
      maxQueryLength: 10_000,
    };
    expect(gateGraphqlRequest(post(text), options)?.code).toBe('QUERY_TOO_DEEP');
    expect(gateGraphqlRequest(post('{ departments { name } }'), options)).toBeUndefined();
  });
});
