import { describe, expect, it } from 'vitest';
import { decodeAuditCursor, encodeAuditCursor } from '../../src/audit/auditCursor.js';

describe('auditCursor', () => {
  const position = { occurredAt: '2026-01-02T03:04:05.123456Z', id: 42 };

  it('decodes the position it encoded', () => {
    const cursor = encodeAuditCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeAuditCursor(cursor)).toEqual(position);
  });

  it.each([
    ['text that is not base64url', 'abc+/='],
    ['another version', Buffer.from('a0|2026-01-02T03:04:05.123456Z|42').toString('base64url')],
    [
      'an id that is not a positive integer',
      Buffer.from('a1|2026-01-02T03:04:05.123456Z|-1').toString('base64url'),
    ],
    ['a time of another form', Buffer.from('a1|2026-01-02T03:04:05Z|42').toString('base64url')],
    [
      'a time no calendar has',
      Buffer.from('a1|2026-02-30T03:04:05.123456Z|42').toString('base64url'),
    ],
    ['extra parts', Buffer.from('a1|2026-01-02T03:04:05.123456Z|42|t1').toString('base64url')],
    ['a very long text', 'A'.repeat(200)],
  ])('refuses %s', (_label, cursor) => {
    expect(decodeAuditCursor(cursor)).toBeUndefined();
  });
});
