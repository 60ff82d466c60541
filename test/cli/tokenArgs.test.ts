import { describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth/authenticate.js';
import { signToken } from '../../src/auth/tokens.js';
import { UsageError } from '../../src/cli/cliArgs.js';
import { parseTokenArgs } from '../../src/cli/tokenArgs.js';
import { loadConfig } from '../../src/config.js';

const DOCTOR = '11111111-2222-4333-8444-555555555555';
const base = ['--role', 'admin', '--tenant', 't1'];

function refusal(args: ReadonlyArray<string>): string {
  try {
    parseTokenArgs(args);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  return 'accepted';
}

describe('parseTokenArgs', () => {
  it.each([
    ['a flag followed by another', ['--role', '--tenant', 't1'], '--role needs a value'],
    [
      'a flag given twice (the last would win)',
      ['--role', 'frontdesk', '--role', 'admin', '--tenant', 't1'],
      '--role is given more than once',
    ],
    ['a value given to --help', ['--help=yes'], '--help takes no value'],
    ['a stray argument', [...base, 'now'], 'unexpected argument "now"'],
    ['a duration past a year', [...base, '--expires', '366d'], 'is not a duration'],
    ['a zero duration', [...base, '--expires', '0h'], 'is not a duration'],
    ['a duration with a space', [...base, '--expires', '8 h'], 'is not a duration'],
    ['no role', ['--tenant', 't1'], '--role is required'],
    ['an unknown role', ['--role', 'root', '--tenant', 't1'], 'unknown role "root"'],
    ['no tenant', ['--role', 'admin'], '--tenant is required'],
    [
      'a patient without --patient',
      ['--role', 'patient', '--tenant', 't1'],
      'a patient token needs --patient',
    ],
    [
      'a malformed doctor id',
      ['--role', 'clinician', '--tenant', 't1', '--doctor', '42'],
      '--doctor must be a uuid',
    ],
    [
      'an id for a role that has none',
      [...base, '--patient', DOCTOR],
      '--patient applies to --role patient only',
    ],
    ['a subject with a control character', [...base, '--sub', 'a\u0000b'], '--sub must be'],
  ])('refuses %s', (_what, args, message) => {
    expect(refusal(args)).toContain(message);
  });

  it('refuses exactly the tenants authenticate() refuses: one rule for both', async () => {
    const jwt = loadConfig({}).jwt;
    for (const tenant of ['T1', 't 1', '-t1', 'ü', '', 'a'.repeat(64), 't1', 'north-2', 'a_b']) {
      const signed = await signToken({ sub: 's', tenant, role: 'admin' }, jwt);
      const serverAccepts = await authenticate(`Bearer ${signed}`, jwt).then(
        () => true,
        () => false,
      );
      const cliAccepts = refusal(['--role', 'admin', '--tenant', tenant]) === 'accepted';
      expect({ tenant, cliAccepts }).toEqual({ tenant, cliAccepts: serverAccepts });
    }
  });

  it('reads every flag into claims, lower-casing ids and defaulting to 8 hours', () => {
    expect(
      parseTokenArgs(['--role', 'clinician', '--tenant', 't1', '--doctor', DOCTOR.toUpperCase()]),
    ).toEqual({
      kind: 'sign',
      claims: { sub: `clinician-${DOCTOR}`, tenant: 't1', role: 'clinician', doctorId: DOCTOR },
      expiresIn: '28800s',
    });
    expect(parseTokenArgs(['-h'])).toEqual({ kind: 'help' });
  });
});
