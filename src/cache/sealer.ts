import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Seals values with AES-256-GCM before they reach L2, and opens them after. The envelope names
 * its key (`kid`), and the cache key is the additional authenticated data, so an envelope
 * copied under another key or tenant fails to open.
 */
export interface Sealer {
  seal(cacheKey: string, plaintext: string): string;
  /** @returns the plaintext, or undefined when the envelope is malformed, forged or of an unknown key. */
  open(cacheKey: string, envelope: string): string | undefined;
}

interface Envelope {
  readonly kid: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}

/**
 * Creates a sealer over a key list: the first key seals, every key opens (rotation).
 *
 * @throws when a key is not 32 bytes.
 */
export function createSealer(keys: ReadonlyArray<Buffer>): Sealer {
  if (keys.length === 0 || keys.some((key) => key.length !== 32)) {
    throw new Error('cache encryption keys must be 32 bytes each');
  }
  const byKid = new Map(keys.map((key) => [keyIdOf(key), key]));
  const [current] = keys as [Buffer, ...Buffer[]];
  const currentKid = keyIdOf(current);

  return {
    seal(cacheKey, plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(cacheKey));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const envelope: Envelope = {
        kid: currentKid,
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        ciphertext: ciphertext.toString('base64'),
      };
      return JSON.stringify(envelope);
    },
    open(cacheKey, sealed) {
      try {
        const envelope = JSON.parse(sealed) as Partial<Envelope>;
        const key = typeof envelope.kid === 'string' ? byKid.get(envelope.kid) : undefined;
        if (
          key === undefined ||
          typeof envelope.iv !== 'string' ||
          typeof envelope.tag !== 'string'
        ) {
          return undefined;
        }
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
        decipher.setAAD(Buffer.from(cacheKey));
        decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
        return Buffer.concat([
          decipher.update(Buffer.from(envelope.ciphertext ?? '', 'base64')),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        // A wrong key, a forged tag or a truncated envelope: the caller counts it as a miss.
        return undefined;
      }
    },
  };
}

/** A short, non-secret name for a key: the start of its SHA-256. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** A key for search-term HMACs, derived from the first cache key so it needs no setting of its own. */
export function deriveSearchKey(key: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'caregraph search terms', 32));
}
