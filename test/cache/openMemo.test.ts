import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSealer, memoizeOpen, type Sealer } from '../../src/cache/sealer.js';

function counting(sealer: Sealer) {
  const counter = { opens: 0 };
  const wrapped: Sealer = {
    seal: (key, plaintext) => sealer.seal(key, plaintext),
    open: (key, sealed) => {
      counter.opens++;
      return sealer.open(key, sealed);
    },
  };
  return { counter, wrapped };
}

describe('memoizeOpen', () => {
  const sealer = createSealer([randomBytes(32)]);

  it('decrypts an envelope it has opened before only once', () => {
    const { counter, wrapped } = counting(sealer);
    const memo = memoizeOpen(wrapped);
    const sealed = sealer.seal('gen:a', 'token-1');
    expect(memo.open('gen:a', sealed)).toBe('token-1');
    expect(memo.open('gen:a', sealed)).toBe('token-1');
    expect(counter.opens).toBe(1);
  });

  it('opens a new envelope under the same key: a bumped generation is read at once', () => {
    const memo = memoizeOpen(sealer);
    expect(memo.open('gen:a', sealer.seal('gen:a', 'token-1'))).toBe('token-1');
    expect(memo.open('gen:a', sealer.seal('gen:a', 'token-2'))).toBe('token-2');
  });

  it('never answers an envelope moved under another key, even one it opened', () => {
    const memo = memoizeOpen(sealer);
    const sealed = sealer.seal('gen:a', 'token-1');
    expect(memo.open('gen:a', sealed)).toBe('token-1');
    expect(memo.open('gen:b', sealed)).toBeUndefined();
  });

  it('remembers no failure: a forged envelope fails every time', () => {
    const { counter, wrapped } = counting(sealer);
    const memo = memoizeOpen(wrapped);
    const sealed = sealer.seal('gen:a', 'token-1');
    const forged =
      sealed.slice(0, -1) + String.fromCharCode(sealed.charCodeAt(sealed.length - 1) ^ 1);
    expect(memo.open('gen:a', forged)).toBeUndefined();
    expect(memo.open('gen:a', forged)).toBeUndefined();
    expect(counter.opens).toBe(2);
  });

  it('stays bounded: past its size it starts over, and still answers correctly', () => {
    const memo = memoizeOpen(sealer, 3);
    const envelopes = Array.from({ length: 10 }, (_, i) => [
      `gen:${String(i)}`,
      sealer.seal(`gen:${String(i)}`, `t${String(i)}`),
    ]);
    for (const [key, sealed] of envelopes) expect(memo.open(key ?? '', sealed ?? '')).toBeDefined();
    envelopes.forEach(([key, sealed], i) => {
      expect(memo.open(key ?? '', sealed ?? '')).toBe(`t${String(i)}`);
    });
  });
});
