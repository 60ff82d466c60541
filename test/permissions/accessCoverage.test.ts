import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadTypeDefs } from '../../src/graphql/loadTypeDefs.js';
import { checkAccessCoverage } from '../../src/permissions/accessCoverage.js';
import { RULES } from '../../src/permissions/permissions.js';
import { readCachePolicies } from '../../src/policy/readCachePolicies.js';

/** The project's SDL with some extra definitions. */
function schemaWith(extra: string) {
  const schema = buildSchema(`${loadTypeDefs()}\n${extra}`);
  return checkAccessCoverage(schema, RULES, readCachePolicies(schema));
}

describe('checkAccessCoverage', () => {
  it('finds every field of the schema covered by a rule or an entity decision', () => {
    expect(schemaWith('')).toEqual([]);
  });

  it('refuses a patient field without a rule of its own', () => {
    expect(schemaWith('extend type Patient { ssn: String }')).toEqual([
      "Patient.ssn: a PHI field needs a rule or its entity's serve decision",
    ]);
  });

  it('refuses a root field without a rule unless it returns reference data', () => {
    expect(schemaWith('extend type Query { anyPatient: Patient, anyDoctor: Doctor }')).toEqual([
      expect.stringMatching(/^Query\.anyPatient: .* needs a rule/),
    ]);
    expect(schemaWith('extend type Mutation { wipe: Int }')).toEqual([
      'Mutation.wipe: a root field needs a rule unless it returns reference data',
    ]);
  });

  it('refuses a field that returns patients without a rule, even on reference data', () => {
    expect(schemaWith('extend type Doctor { patients: [Patient!]! }')).toEqual([
      'Doctor.patients: a field that returns a patient needs a rule',
    ]);
  });

  it('refuses a type that some field reaches without a rule', () => {
    const problems = schemaWith('extend type Doctor { lastLogin: AuditEvent }');
    expect(problems.length).toBeGreaterThan(0);
    expect(
      problems.every((p) => p.includes('reached without a rule through Doctor.lastLogin')),
    ).toBe(true);
  });

  it('covers every field of records and studies by their serve decision', () => {
    expect(
      schemaWith(
        'extend type MedicalRecord { codedBy: Doctor } extend type Study { seriesCount: Int }',
      ),
    ).toEqual([]);
  });
});
