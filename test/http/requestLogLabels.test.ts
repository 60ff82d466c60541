import { describe, expect, it } from 'vitest';
import { clientLabelOf, errorCodeOf, operationNameOf } from '../../src/http/requestLog/labels.js';
import { errorCodesOfBody } from '../../src/http/requestLog/requestLine.js';

describe('request log labels', () => {
  it('keeps an operation name only when it is a GraphQL name, cut to 64 characters', () => {
    expect(operationNameOf('PatientChart')).toBe('PatientChart');
    expect(operationNameOf('Jane Doe, 1970-01-01')).toBeNull();
    expect(operationNameOf(undefined)).toBeNull();
    expect(operationNameOf(`A${'b'.repeat(100)}`)).toHaveLength(64);
  });

  it('limits a client header to identifier characters and 64 of them', () => {
    expect(clientLabelOf('ios-app/3.1.0+build.7')).toBe('ios-app/3.1.0+build.7');
    expect(clientLabelOf('portal "web"\n{x}')).toBe('portal__web___x_');
    expect(clientLabelOf('x'.repeat(500))).toHaveLength(64);
    expect(clientLabelOf('')).toBeUndefined();
    expect(clientLabelOf(undefined)).toBeUndefined();
  });

  it('reads error codes only, from a response or a batch of them', () => {
    const body = JSON.stringify([
      { errors: [{ message: 'Jane Doe not found', extensions: { code: 'NOT_FOUND' } }] },
      { errors: [{ message: 'x', extensions: { code: 'Jane Doe' } }, { message: 'y' }] },
      null,
    ]);
    expect(errorCodesOfBody(body)).toEqual(['NOT_FOUND']);
    expect(errorCodesOfBody('not json')).toEqual([]);
    expect(errorCodeOf('AUDIT_UNAVAILABLE')).toBe('AUDIT_UNAVAILABLE');
  });
});
