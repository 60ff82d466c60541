import { describe, expect, it } from 'vitest';
import { EXPIRED, frameEntry, OTHER_STAMP, readEntryFrame } from '../../src/cache/entryFrame.js';

const STAMP = 'AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBB.CCCCCCCCCCCCCCCC';
const NOW = Date.UTC(2026, 0, 1);

describe('entryFrame', () => {
  it('reads back what it framed, with its write time and TTL', () => {
    const json = JSON.stringify({ name: 'Zoë \u0000 李 😀', notes: 'x'.repeat(100_000) });
    const framed = frameEntry(STAMP, NOW, 30_000, json) ?? '';
    expect(readEntryFrame(framed, STAMP, NOW + 29_999)).toEqual({
      writtenAtMs: NOW,
      ttlMs: 30_000,
      json,
    });
  });

  it('refuses another stamp before it looks at the JSON', () => {
    // Not JSON at all: a stamp mismatch must answer without parsing it.
    const framed = frameEntry(STAMP, NOW, 30_000, '{not json') ?? '';
    expect(readEntryFrame(framed, STAMP.replace('C', 'D'), NOW)).toBe(OTHER_STAMP);
    // A stamp that is a prefix of the framed one, or the framed one a prefix of it.
    expect(readEntryFrame(framed, STAMP.slice(0, -1), NOW)).toBe(OTHER_STAMP);
    expect(readEntryFrame(framed, `${STAMP}C`, NOW)).toBe(OTHER_STAMP);
    expect(readEntryFrame(framed, '', NOW)).toBe(OTHER_STAMP);
  });

  it('refuses an entry at or past the TTL sealed into it', () => {
    const framed = frameEntry(STAMP, NOW, 1_000, '1') ?? '';
    expect(readEntryFrame(framed, STAMP, NOW + 999)).toMatchObject({ json: '1' });
    expect(readEntryFrame(framed, STAMP, NOW + 1_000)).toBe(EXPIRED);
    expect(readEntryFrame(framed, STAMP, NOW + 86_400_000)).toBe(EXPIRED);
  });

  it('answers undefined for a plaintext that is no frame', () => {
    const framed = frameEntry(STAMP, NOW, 1_000, '1') ?? '';
    for (const plaintext of [
      '',
      'e',
      '{"s":"x","v":1}',
      framed.slice(0, 20),
      framed.slice(0, 30),
      `E${framed.slice(1)}`,
      // A header digit that is not lower-case hex.
      `${framed.slice(0, 3)}G${framed.slice(4)}`,
      `${framed.slice(0, 23)}ff${framed.slice(25)}`,
    ]) {
      expect(readEntryFrame(plaintext, STAMP, NOW)).toBeUndefined();
    }
  });

  it('frames no stamp longer than its header can say', () => {
    expect(frameEntry('s'.repeat(256), NOW, 1_000, '1')).toBeUndefined();
    expect(frameEntry('s'.repeat(255), NOW, 1_000, '1')).toBeDefined();
  });
});
