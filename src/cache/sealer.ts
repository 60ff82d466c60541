import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  hkdfSync,
  randomFillSync,
  type KeyObject,
} from 'node:crypto';

/**
 * Seals values with AES-256-GCM before they reach L2, and opens them after. The envelope names
 * its key (`kid`), and the cache key is the additional authenticated data, so an envelope
 * copied under another key or tenant fails to open.
 *
 * A sealed value is a binary string (one character per byte, as `latin1`): the stores keep it
 * as bytes, with no base64 and no JSON around it.
 */
export interface Sealer {
  seal(cacheKey: string, plaintext: string): string;
  /** @returns the plaintext, or undefined when the envelope is malformed, forged or of an unknown key. */
  open(cacheKey: string, envelope: string): string | undefined;
}

/**
 * The envelope's first byte. Before it, envelopes were JSON (`{"kid":…}`, first byte `{`): those
 * open as nothing, a miss, and are never misread as this format.
 */
export const ENVELOPE_VERSION = 2;
const KID_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Version and key id: in clear, and authenticated with the cache key as AAD. */
const HEADER_BYTES = 1 + KID_BYTES;
const TAG_AT = HEADER_BYTES + IV_BYTES;
/** Where the ciphertext starts: after version, kid, IV and tag. */
export const ENVELOPE_OVERHEAD = TAG_AT + TAG_BYTES;

/**
 * Creates a sealer over a key list: the first key seals, every key opens (rotation). The
 * envelope is `version (1) | kid (4) | iv (12) | tag (16) | ciphertext`; the AAD is the version,
 * the kid and the cache key, so every byte of it is authenticated.
 *
 * @throws when a key is not 32 bytes, or two different keys share a key id.
 */
export function createSealer(keys: ReadonlyArray<Buffer>): Sealer {
  if (keys.length === 0 || keys.some((key) => key.length !== 32)) {
    throw new Error('cache encryption keys must be 32 bytes each');
  }
  const byKid = new Map<number, { readonly raw: Buffer; readonly key: KeyObject }>();
  for (const raw of keys) {
    const kid = binaryKeyIdOf(raw);
    const known = byKid.get(kid);
    if (known !== undefined && !known.raw.equals(raw)) {
      throw new Error('two cache encryption keys share a key id; generate another key');
    }
    byKid.set(kid, { raw, key: createSecretKey(raw) });
  }
  const [first] = keys as [Buffer, ...Buffer[]];
  const currentKid = binaryKeyIdOf(first);
  const current = createSecretKey(first);

  return {
    seal(cacheKey, plaintext) {
      const body = Buffer.from(plaintext, 'utf8');
      const out = Buffer.allocUnsafe(ENVELOPE_OVERHEAD + body.length);
      out[0] = ENVELOPE_VERSION;
      out.writeUInt32BE(currentKid, 1);
      const iv = randomFillSync(out.subarray(HEADER_BYTES, TAG_AT));
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(aadOf(out, cacheKey));
      // GCM is a stream mode: the ciphertext is as long as the plaintext.
      cipher.update(body).copy(out, ENVELOPE_OVERHEAD);
      cipher.final();
      cipher.getAuthTag().copy(out, TAG_AT);
      return out.toString('latin1');
    },
    open(cacheKey, sealed) {
      if (sealed.length < ENVELOPE_OVERHEAD || sealed.charCodeAt(0) !== ENVELOPE_VERSION) {
        return undefined;
      }
      const envelope = Buffer.from(sealed, 'latin1');
      const key = byKid.get(envelope.readUInt32BE(1))?.key;
      if (key === undefined) return undefined;
      try {
        const decipher = createDecipheriv(
          'aes-256-gcm',
          key,
          envelope.subarray(HEADER_BYTES, TAG_AT),
        );
        decipher.setAAD(aadOf(envelope, cacheKey));
        decipher.setAuthTag(envelope.subarray(TAG_AT, ENVELOPE_OVERHEAD));
        const head = decipher.update(envelope.subarray(ENVELOPE_OVERHEAD));
        const tail = decipher.final();
        return (tail.length === 0 ? head : Buffer.concat([head, tail])).toString('utf8');
      } catch {
        // A wrong key, a forged tag or a truncated envelope: the caller counts it as a miss.
        return undefined;
      }
    },
  };
}

/** The additional authenticated data: the envelope's version and kid, then the cache key. */
function aadOf(envelope: Buffer, cacheKey: string): Buffer {
  const aad = Buffer.allocUnsafe(HEADER_BYTES + Buffer.byteLength(cacheKey, 'utf8'));
  envelope.copy(aad, 0, 0, HEADER_BYTES);
  aad.write(cacheKey, HEADER_BYTES, 'utf8');
  return aad;
}

/** A short, non-secret name for a key: the start of its SHA-256, in hex. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256')
    .update(key)
    .digest('hex')
    .slice(0, KID_BYTES * 2);
}

/** The key id as the envelope carries it: the same four bytes as `keyIdOf`, as a number. */
function binaryKeyIdOf(key: Buffer): number {
  return Number.parseInt(keyIdOf(key), 16);
}

/** The key id an envelope names, in the hex form of `keyIdOf`; undefined when it is no envelope. */
export function keyIdOfEnvelope(sealed: string): string | undefined {
  if (sealed.length < ENVELOPE_OVERHEAD || sealed.charCodeAt(0) !== ENVELOPE_VERSION) {
    return undefined;
  }
  return Buffer.from(sealed.slice(1, HEADER_BYTES), 'latin1').toString('hex');
}

/** A key for search-term HMACs, derived from the first cache key so it needs no setting of its own. */
export function deriveSearchKey(key: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'caregraph search terms', 32));
}

/**
 * A sealer whose `open` remembers what it opened: the same envelope under the same cache key
 * opens to the same plaintext (AES-GCM decryption is deterministic, and the key ring never
 * changes while a process runs), so an envelope seen before is answered without decrypting.
 * Only an exact match of key and envelope is answered from memory; anything else is opened,
 * and a failure is never remembered. For the control values (epoch, generations) every request
 * reads: a handful of short envelopes, each read by many requests.
 *
 * @param maxEntries how many envelopes it remembers; past that it starts over.
 */
export function memoizeOpen(sealer: Sealer, maxEntries = 20_000): Sealer {
  let opened = new Map<string, { readonly sealed: string; readonly plaintext: string }>();
  return {
    seal: (cacheKey, plaintext) => sealer.seal(cacheKey, plaintext),
    open(cacheKey, sealed) {
      const known = opened.get(cacheKey);
      if (known !== undefined && known.sealed === sealed) return known.plaintext;
      const plaintext = sealer.open(cacheKey, sealed);
      if (plaintext === undefined) return undefined;
      if (opened.size >= maxEntries) opened = new Map();
      opened.set(cacheKey, { sealed, plaintext });
      return plaintext;
    },
  };
}
