import { buildSchema, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ENTITY_NAMES } from '../../src/db/entities.js';
import { loadTypeDefs } from '../../src/graphql/loadTypeDefs.js';

const schema = buildSchema(loadTypeDefs());

function undescribed(type: GraphQLObjectType | null | undefined): string[] {
  return Object.values(type?.getFields() ?? {})
    .filter((field) => (field.description ?? '').trim() === '')
    .map((field) => `${type?.name ?? ''}.${field.name}`);
}

describe('schema descriptions', () => {
  it('describes every Query field and every mutation', () => {
    expect([
      ...undescribed(schema.getQueryType()),
      ...undescribed(schema.getMutationType()),
    ]).toEqual([]);
  });

  it('describes every field of the mutation inputs', () => {
    const missing = Object.values(schema.getTypeMap())
      .filter((type) => type.name.endsWith('Input') && 'getFields' in type)
      .flatMap((type) =>
        Object.values((type as GraphQLObjectType).getFields())
          .filter((field) => (field.description ?? '').trim() === '')
          .map((field) => `${type.name}.${field.name}`),
      );
    expect(missing).toEqual([]);
  });

  it('says what the purgeCache Int counts: generations, not entries', () => {
    const purge = schema.getMutationType()?.getFields().purgeCache;
    expect(purge?.description).toMatch(/number of cache generations it\s+advanced/);
    expect(purge?.description).not.toMatch(/entries purged/);
  });

  it('types purgeCache(type) as the enum of the cacheable entity types', () => {
    const type = schema
      .getMutationType()
      ?.getFields()
      .purgeCache?.args.find((a) => a.name === 'type');
    expect(String(type?.type)).toBe('CacheEntityType');
    const values = schema.getType('CacheEntityType');
    expect(values && 'getValues' in values ? values.getValues().map((v) => v.name) : []).toEqual([
      ...ENTITY_NAMES,
    ]);
  });

  it('states the search rule: name contains, MRN exact', () => {
    const patients = schema.getQueryType()?.getFields().patients;
    expect(patients?.description).toMatch(/contains it anywhere, ignoring case/);
    expect(patients?.description).toMatch(/MRN equals it exactly/);
  });
});
