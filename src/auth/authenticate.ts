import { createSecretKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { UnauthenticatedError } from '../errors.js';
import { isUuid, normalizeId } from '../graphql/ids.js';
import { isSubject, isTenantId } from './claimRules.js';
import { isRole, type Principal } from './principal.js';

export interface JwtSettings {
  readonly secret: Uint8Array;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
}

const BEARER_PATTERN = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/**
 * Verifies an `Authorization: Bearer <JWT>` header (HS256, `exp` required) and returns the
 * principal its claims describe.
 *
 * @throws UnauthenticatedError when the header is missing or malformed, the signature or
 *   claims are invalid, or the token has expired. The message never echoes the token.
 */
export async function authenticate(
  authorization: string | undefined,
  settings: JwtSettings,
): Promise<Principal> {
  if (authorization === undefined || authorization === '') {
    throw new UnauthenticatedError('Missing bearer token', 'missing');
  }
  const token = BEARER_PATTERN.exec(authorization)?.[1];
  if (token === undefined)
    throw new UnauthenticatedError('Malformed Authorization header', 'malformed');
  const verified = verifiedTokensOf(settings);
  const known = verified.get(token);
  if (known !== undefined && Date.now() < known.expiresAtMs) return known.principal;

  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, verificationKeyOf(settings), {
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'exp'],
      ...(settings.issuer === undefined ? {} : { issuer: settings.issuer }),
      ...(settings.audience === undefined ? {} : { audience: settings.audience }),
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired)
      throw new UnauthenticatedError('Token expired', 'expired');
    throw new UnauthenticatedError('Invalid token', 'invalid');
  }
  const principal = principalOf(payload);
  // jwtVerify required exp, and refused a token already past it.
  const expiresAtMs = Math.min((payload.exp as number) * 1000, Date.now() + VERIFIED_TOKEN_TTL_MS);
  verified.set(token, { principal, expiresAtMs });
  return principal;
}

// A portal sends the same token on every request, and verifying its signature (WebCrypto,
// through jose) cost about a tenth of a warm chart's CPU. A verified token's principal is
// kept, by the whole token string (signature included), until the token expires and for a
// minute at most; a token that failed is never kept, so it is verified again every time.
const VERIFIED_TOKEN_TTL_MS = 60_000;
const MAX_VERIFIED_TOKENS = 10_000;
interface VerifiedToken {
  readonly principal: Principal;
  readonly expiresAtMs: number;
}
const verifiedTokens = new WeakMap<JwtSettings, LRUCache<string, VerifiedToken>>();

function verifiedTokensOf(settings: JwtSettings): LRUCache<string, VerifiedToken> {
  let cache = verifiedTokens.get(settings);
  if (cache === undefined) {
    cache = new LRUCache({ max: MAX_VERIFIED_TOKENS });
    verifiedTokens.set(settings, cache);
  }
  return cache;
}

// jose imports a secret given as bytes on every call; a KeyObject is imported once.
const verificationKeys = new WeakMap<JwtSettings, KeyObject>();

function verificationKeyOf(settings: JwtSettings): KeyObject {
  let key = verificationKeys.get(settings);
  if (key === undefined) {
    key = createSecretKey(settings.secret);
    verificationKeys.set(settings, key);
  }
  return key;
}

function principalOf(claims: Record<string, unknown>): Principal {
  const { sub, tenant, role, doctorId, patientId } = claims;
  if (!isSubject(sub)) {
    throw new UnauthenticatedError('Invalid token claims', 'claims');
  }
  if (!isTenantId(tenant)) {
    throw new UnauthenticatedError('Invalid token claims', 'claims');
  }
  if (!isRole(role)) throw new UnauthenticatedError('Invalid token claims', 'claims');
  if (doctorId !== undefined && !isUuid(doctorId)) {
    throw new UnauthenticatedError('Invalid token claims', 'claims');
  }
  if (patientId !== undefined && !isUuid(patientId)) {
    throw new UnauthenticatedError('Invalid token claims', 'claims');
  }
  // A clinician without a doctor id, or a patient without a patient id, could read nothing
  // safely; refusing the token is clearer than a response full of FORBIDDEN.
  if (role === 'clinician' && doctorId === undefined) {
    throw new UnauthenticatedError('Clinician tokens need a doctorId claim', 'claims');
  }
  if (role === 'patient' && patientId === undefined) {
    throw new UnauthenticatedError('Patient tokens need a patientId claim', 'claims');
  }
  return {
    userId: sub,
    tenantId: tenant,
    role,
    doctorId: role === 'clinician' && doctorId !== undefined ? normalizeId(doctorId) : undefined,
    patientId: role === 'patient' && patientId !== undefined ? normalizeId(patientId) : undefined,
  };
}
