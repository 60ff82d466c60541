import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createSchema } from '../../src/graphql/createSchema.js';
import { loadTypeDefs } from '../../src/graphql/loadTypeDefs.js';
import { CachePolicyError, readCachePolicies } from '../../src/policy/readCachePolicies.js';

const DIRECTIVES = `
  directive @phi(maxAge: Int = 300) on OBJECT | FIELD_DEFINITION
  directive @reference(maxAge: Int = 3600) on OBJECT | FIELD_DEFINITION
`;

describe('readCachePolicies', () => {
  const policies = readCachePolicies(buildSchema(loadTypeDefs()));

  it('reads the type-level policies of the schema', () => {
    expect(policies.get('Patient')?.policy).toEqual({
      cacheClass: 'phi',
      maxAgeSeconds: 300,
      source: 'type',
    });
    expect(policies.get('MedicalRecord')?.policy?.cacheClass).toBe('phi');
    expect(policies.get('Study')?.policy?.cacheClass).toBe('phi');
    expect(policies.get('Doctor')?.policy).toEqual({
      cacheClass: 'reference',
      maxAgeSeconds: 3600,
      source: 'type',
    });
    expect(policies.get('Department')?.policy).toEqual({
      cacheClass: 'reference',
      maxAgeSeconds: 7200,
      source: 'type',
    });
  });

  it('refines fields with their own directive, taking the smaller maxAge', () => {
    expect(policies.get('MedicalRecord')?.fields.get('notes')).toEqual({
      cacheClass: 'phi',
      maxAgeSeconds: 60,
      source: 'type+field',
    });
    expect(policies.get('Study')?.fields.get('reportStatus')?.maxAgeSeconds).toBe(30);
    expect(policies.get('MedicalRecord')?.fields.get('diagnosis')).toEqual({
      cacheClass: 'phi',
      maxAgeSeconds: 300,
      source: 'type',
    });
  });

  it('makes a @phi field of a @reference type PHI, with the smaller maxAge', () => {
    const schema = buildSchema(`${DIRECTIVES}
      type Query { d: D }
      type D @reference(maxAge: 3600) { id: ID! secret: String @phi(maxAge: 120) }`);
    expect(readCachePolicies(schema).get('D')?.fields.get('secret')).toEqual({
      cacheClass: 'phi',
      maxAgeSeconds: 120,
      source: 'type+field',
    });
  });

  it('leaves types without directives out of the map', () => {
    expect(policies.has('AuditEvent')).toBe(false);
    expect(policies.has('Query')).toBe(false);
  });

  it('refuses a @phi maxAge over 300 with a clear message', () => {
    const schema = buildSchema(`${DIRECTIVES}
      type Query { p: P }
      type P @phi { id: ID! notes: String @phi(maxAge: 301) }`);
    expect(() => readCachePolicies(schema)).toThrow(CachePolicyError);
    expect(() => readCachePolicies(schema)).toThrow(
      'P.notes: @phi(maxAge: 301) exceeds the HIPAA cap of 300 seconds',
    );
  });

  it('refuses a type-level @phi maxAge over 300, a negative maxAge, and both directives at once', () => {
    const schema = buildSchema(`${DIRECTIVES}
      type Query { p: P q: Q r: R }
      type P @phi(maxAge: 86400) { id: ID! }
      type Q @reference(maxAge: -1) { id: ID! }
      type R @phi @reference { id: ID! }`);
    expect(() => readCachePolicies(schema)).toThrow(
      /P: @phi\(maxAge: 86400\) exceeds[\s\S]*Q: @reference\(maxAge\) must be a non-negative integer[\s\S]*R carries both/,
    );
  });

  it('makes the service refuse to start on a schema with @phi(maxAge: 301)', () => {
    const typeDefs = loadTypeDefs().replace('@phi(maxAge: 60)', '@phi(maxAge: 301)');
    expect(() => createSchema(typeDefs)).toThrow(CachePolicyError);
  });
});
