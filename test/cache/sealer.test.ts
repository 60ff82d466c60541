import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { frameEntry } from '../../src/cache/entryFrame.js';
import {
  createSealer,
  ENVELOPE_OVERHEAD,
  ENVELOPE_VERSION,
  keyIdOf,
  keyIdOfEnvelope,
} from '../../src/cache/sealer.js';

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);

describe('createSealer', () => {
  it('round-trips a value and never stores it in clear', () => {
    const sealer = createSealer([keyA]);
    const sealed = sealer.seal('cg:v:t1:Patient:1', '{"name":"Jane Doe"}');
    expect(sealed).not.toContain('Jane');
    // version, kid, iv, tag, ciphertext: one byte per character, no base64 and no JSON.
    expect(sealed.charCodeAt(0)).toBe(ENVELOPE_VERSION);
    expect(keyIdOfEnvelope(sealed)).toBe(keyIdOf(keyA));
    expect(sealed).toHaveLength(ENVELOPE_OVERHEAD + Buffer.byteLength('{"name":"Jane Doe"}'));
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
    const envelope = Buffer.from(sealer.seal('k', 'secret'), 'latin1');
    const flipped = Buffer.from(envelope);
    flipped[ENVELOPE_OVERHEAD] = (flipped[ENVELOPE_OVERHEAD] ?? 0) ^ 1;
    expect(sealer.open('k', flipped.toString('latin1'))).toBeUndefined();
    expect(sealer.open('k', 'not json')).toBeUndefined();
  });

  it('rotates keys: the first seals, every listed key opens', () => {
    const old = createSealer([keyA]).seal('k', 'v');
    const rotated = createSealer([keyB, keyA]);
    expect(rotated.open('k', old)).toBe('v');
    expect(keyIdOfEnvelope(rotated.seal('k', 'v'))).toBe(keyIdOf(keyB));
    expect(createSealer([keyB]).open('k', old)).toBeUndefined();
  });

  it('refuses an envelope with any one byte changed: version, kid, iv, tag or ciphertext', () => {
    const sealer = createSealer([keyA, keyB]);
    const key = 'cg:v:t1:MedicalRecord:1';
    // An entry frame: the stamp and the write time are inside the ciphertext.
    const sealed = sealer.seal(
      key,
      frameEntry('s'.repeat(50), Date.now(), 30_000, '{"dx":"flu"}') ?? '',
    );
    expect(sealer.open(key, sealed)).toBeDefined();
    for (let at = 0; at < sealed.length; at++) {
      for (const bit of [0x01, 0x80]) {
        const bytes = Buffer.from(sealed, 'latin1');
        bytes[at] = (bytes[at] ?? 0) ^ bit;
        expect(sealer.open(key, bytes.toString('latin1')), `byte ${at}`).toBeUndefined();
      }
    }
    // Truncated or extended by one byte.
    expect(sealer.open(key, sealed.slice(0, -1))).toBeUndefined();
    expect(sealer.open(key, `${sealed}\0`)).toBeUndefined();
    expect(sealer.open(key, sealed.slice(0, ENVELOPE_OVERHEAD - 1))).toBeUndefined();
  });

  it('refuses an envelope whose kid names the other listed key', () => {
    const sealer = createSealer([keyA, keyB]);
    const bytes = Buffer.from(sealer.seal('k', 'secret'), 'latin1');
    Buffer.from(keyIdOf(keyB), 'hex').copy(bytes, 1);
    expect(sealer.open('k', bytes.toString('latin1'))).toBeUndefined();
  });

  it('refuses an envelope copied under a key that differs by one character or by case', () => {
    const sealer = createSealer([keyA]);
    const sealed = sealer.seal('cg:v:t1:Patient:abc', 'secret');
    for (const other of [
      'cg:v:t1:Patient:abd',
      'cg:v:T1:Patient:abc',
      'cg:v:t1:Patient:abc ',
      '',
    ]) {
      expect(sealer.open(other, sealed)).toBeUndefined();
    }
  });

  it('opens what the JSON envelope of earlier releases holds as nothing, never an error', () => {
    // The envelope as the previous release wrote it.
    const iv = Buffer.alloc(12, 9);
    const cipher = createCipheriv('aes-256-gcm', keyA, iv);
    cipher.setAAD(Buffer.from('k'));
    const ciphertext = Buffer.concat([cipher.update('{"s":"x","v":1}', 'utf8'), cipher.final()]);
    const legacy = JSON.stringify({
      kid: keyIdOf(keyA),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    });
    const sealer = createSealer([keyA]);
    expect(sealer.open('k', legacy)).toBeUndefined();
    expect(sealer.open('k', JSON.stringify({ value: legacy }))).toBeUndefined();
  });

  it('round-trips NUL bytes, odd unicode and a megabyte, and refuses text that is no binary string', () => {
    const sealer = createSealer([keyA]);
    for (const plaintext of ['', '\0\0', 'Zoë 李 😀 \ud800', 'x'.repeat(1024 * 1024)]) {
      const sealed = sealer.seal('k', plaintext);
      expect(/[\u0100-\uffff]/.test(sealed)).toBe(false);
      expect(sealer.open('k', sealed)).toBe(Buffer.from(plaintext).toString('utf8'));
    }
    // A sealed value that went through UTF-8 somewhere (a character above 0xff) does not open.
    const sealed = sealer.seal('k', 'secret');
    expect(sealer.open('k', Buffer.from(sealed, 'latin1').toString('utf8'))).toBeUndefined();
  });

  it('accepts a key listed twice, and refuses a key that is not 32 bytes', () => {
    expect(() => createSealer([keyA, keyA])).not.toThrow();
    expect(() => createSealer([Buffer.alloc(31)])).toThrow();
  });
});
