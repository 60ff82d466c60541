import { afterEach, describe, expect, it, vi } from 'vitest';
import { authenticate, type JwtSettings } from '../../src/auth/authenticate.js';
import { signToken } from '../../src/auth/tokens.js';

function settings(): JwtSettings {
  return {
    secret: new TextEncoder().encode('s'.repeat(32)),
    issuer: undefined,
    audience: undefined,
  };
}
const claims = { sub: 'u1', tenant: 't1', role: 'frontdesk' } as const;

describe('authenticate', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers a token it verified before with the same principal', async () => {
    const jwt = settings();
    const token = await signToken(claims, jwt, '1h');
    const first = await authenticate(`Bearer ${token}`, jwt);
    expect(await authenticate(`Bearer ${token}`, jwt)).toBe(first);
    expect(first).toMatchObject({ userId: 'u1', tenantId: 't1', role: 'frontdesk' });
  });

  it('refuses a token once it expires, even one verified before', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const jwt = settings();
    const token = await signToken(claims, jwt, '2s');
    await expect(authenticate(`Bearer ${token}`, jwt)).resolves.toMatchObject({ userId: 'u1' });
    vi.advanceTimersByTime(3_000);
    await expect(authenticate(`Bearer ${token}`, jwt)).rejects.toThrow('Token expired');
  });

  it('never keeps a token that failed, nor one signed with another secret', async () => {
    const jwt = settings();
    const other = { ...settings(), secret: new TextEncoder().encode('o'.repeat(32)) };
    const forged = await signToken(claims, other, '1h');
    await expect(authenticate(`Bearer ${forged}`, jwt)).rejects.toThrow('Invalid token');
    await expect(authenticate(`Bearer ${forged}`, jwt)).rejects.toThrow('Invalid token');
    // Verified under one secret is not verified under another.
    await expect(authenticate(`Bearer ${forged}`, other)).resolves.toMatchObject({ userId: 'u1' });
    await expect(authenticate(`Bearer ${forged}`, jwt)).rejects.toThrow('Invalid token');
  });

  it('refuses a token whose signature was altered after a verified one', async () => {
    const jwt = settings();
    const token = await signToken(claims, jwt, '1h');
    await authenticate(`Bearer ${token}`, jwt);
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${token.slice(0, -2)}${last}${token.slice(-1)}`;
    await expect(authenticate(`Bearer ${tampered}`, jwt)).rejects.toThrow('Invalid token');
  });
});
