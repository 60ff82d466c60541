import { SignJWT } from 'jose';
import type { JwtSettings } from './authenticate.js';
import type { Role } from './principal.js';

export interface TokenClaims {
  readonly sub: string;
  readonly tenant: string;
  readonly role: Role;
  readonly doctorId?: string | undefined;
  readonly patientId?: string | undefined;
}

/**
 * Signs an HS256 bearer token, for `npm run token`, the embedded start-up banner and tests.
 *
 * @returns the compact JWT.
 */
export async function signToken(
  claims: TokenClaims,
  settings: JwtSettings,
  expiresIn: string | number = '8h',
): Promise<string> {
  const body: Record<string, string> = { tenant: claims.tenant, role: claims.role };
  if (claims.doctorId !== undefined) body.doctorId = claims.doctorId;
  if (claims.patientId !== undefined) body.patientId = claims.patientId;
  let jwt = new SignJWT(body)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn);
  if (settings.issuer !== undefined) jwt = jwt.setIssuer(settings.issuer);
  if (settings.audience !== undefined) jwt = jwt.setAudience(settings.audience);
  return jwt.sign(settings.secret);
}
