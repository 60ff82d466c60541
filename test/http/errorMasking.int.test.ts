import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createFormatError } from '../../src/http/formatError.js';
import { createLogger } from '../../src/logger.js';
import { seededPatient } from '../support/fixtures.js';
import { startTestServer } from '../support/testServer.js';

describe('error masking', () => {
  it('masks an uncoded error, even one Apollo has labelled INTERNAL_SERVER_ERROR', () => {
    const formatError = createFormatError(createLogger({ level: 'silent' }));
    const leaked = 'insert into "patients" ... params: Jane Q. Doe,+1 555-123-4567';
    const formatted = formatError(
      {
        message: leaked,
        path: ['updatePatient'],
        extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at x'] },
      },
      new GraphQLError(leaked, { originalError: new Error(leaked) }),
    );
    expect(formatted).toEqual({
      message: 'Internal server error',
      path: ['updatePatient'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  });

  // Since the hardening issue (10), Postgres being out of reach is no longer an internal error:
  // it answers 503 DATABASE_UNAVAILABLE, still with a fixed message and nothing of the failure.
  it('answers a database failure with a masked DATABASE_UNAVAILABLE that holds no data or stack', async () => {
    const server = await startTestServer();
    const patient = await seededPatient(server.database.db);
    const token = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    // The pool is gone, so every statement fails inside the resolvers.
    await server.database.close();
    const response = await server.graphql(
      `query ($id: ID!) { patient(id: $id) { name } departments { name } }`,
      {
        token,
        variables: { id: patient.patientId },
      },
    );
    await server.app.close();
    const codes = response.body.errors?.map((error) => error.extensions?.code);
    expect(codes?.length).toBeGreaterThan(0);
    expect(response.status).toBe(503);
    expect(new Set(codes)).toEqual(new Set(['DATABASE_UNAVAILABLE']));
    for (const error of response.body.errors ?? []) {
      expect(error.message).toBe('The database is unavailable; try again shortly');
      expect(Object.keys(error.extensions ?? {})).toEqual(['code']);
    }
    expect(JSON.stringify(response.body)).not.toMatch(/select|patients|tenant_id|\.ts:\d+/i);
  });
});
