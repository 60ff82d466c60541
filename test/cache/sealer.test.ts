import { describe, expect, it } from 'vitest';
import { createSealer, keyIdOf } from '../../src/cache/sealer.js';

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);

describe('createSealer', () => {
  it('round-trips a value and never stores it in clear', () => {
    const sealer = createSealer([keyA]);
    const sealed = sealer.seal('cg:v:t1:Patient:1', '{"name":"Jane Doe"}');
    expect(sealed).not.toContain('Jane');
    expect(Object.keys(JSON.parse(sealed) as object)).toEqual(['kid', 'iv', 'tag', 'ciphertext']);
    expect(sealer.open('cg:v:t1:Patient:1', sealed)).toBe('{"name":"Jane Doe"}');
  });

  it('refuses an envelope copied under another key or tenant', () => {
    const sealer = createSealer([keyA]);
    const sealed = sealer.seal('cg:v:t1:Patient:1', 'secret');
    expect(sealer.open('cg:v:t2:Patient:1', sealed)).toBeUndefined();
    expect(sealer.open('cg:v:t1:Patient:2', sealed)).toBeUndefined();
  });

  it('refuses a tampered or malformed envelope', () => {
    const sealer = createSealer([keyA]);
    const envelope = JSON.parse(sealer.seal('k', 'secret')) as { ciphertext: string };
    const flipped = Buffer.from(envelope.ciphertext, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(
      sealer.open('k', JSON.stringify({ ...envelope, ciphertext: flipped.toString('base64') })),
    ).toBeUndefined();
    expect(sealer.open('k', 'not json')).toBeUndefined();
  });

  it('rotates keys: the first seals, every listed key opens', () => {
    const old = createSealer([keyA]).seal('k', 'v');
    const rotated = createSealer([keyB, keyA]);
    expect(rotated.open('k', old)).toBe('v');
    expect((JSON.parse(rotated.seal('k', 'v')) as { kid: string }).kid).toBe(keyIdOf(keyB));
    expect(createSealer([keyB]).open('k', old)).toBeUndefined();
  });
});
