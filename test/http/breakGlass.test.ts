import { describe, expect, it } from 'vitest';
import type { Principal, Role } from '../../src/auth/principal.js';
import { checkBreakGlass } from '../../src/http/breakGlass.js';

const principal = (role: Role): Principal => ({
  userId: 'u1',
  tenantId: 't1',
  role,
  doctorId: undefined,
  patientId: undefined,
});
const clinician = principal('clinician');

/** Raw headers as Node's parser hands them over: one Latin-1 char per byte received. */
const wire = (...values: Array<string | Buffer>): string[] =>
  values.flatMap((value) => [
    'X-Break-Glass',
    (typeof value === 'string' ? Buffer.from(value, 'utf8') : value).toString('latin1'),
  ]);

const reasonOf = (rawHeaders: string[]) => checkBreakGlass(rawHeaders, clinician).reason;
const codeOf = (rawHeaders: string[]) => checkBreakGlass(rawHeaders, clinician).refusal?.code;

describe('checkBreakGlass', () => {
  it('finds no reason, and no refusal, without the header', () => {
    expect(
      checkBreakGlass(['Host', 'x', 'X-Break-Glassy', 'Unconscious, no ID'], clinician),
    ).toEqual({ reason: undefined });
  });

  it('decodes a UTF-8 reason and keeps it exactly, inner spacing included', () => {
    for (const reason of [
      'Notfall: Bewusstlosigkeit, Allergie unbekannt — 急患',
      'Ασθενής αναίσθητος στα επείγοντα',
      '意識不明の急患、身元不明',
      'मरीज़ बेहोश है',
      'Unconscious  in  ED,   no next of kin',
      'Café Straße 12: Übelkeit',
    ]) {
      expect(reasonOf(wire(reason))).toBe(reason);
    }
  });

  it('decodes the RFC 8187 form, as a browser can send it, and stores the text', () => {
    const reason = 'Notfall: Bewusstlosigkeit (Allergie unbekannt) — 急患';
    expect(reasonOf(wire(`UTF-8''${encodeURIComponent(reason)}`))).toBe(reason);
    expect(reasonOf(wire(`utf-8'de'${encodeURIComponent(reason)}`))).toBe(reason);
    // Decoded once: an encoded percent sign is a percent sign.
    expect(reasonOf(wire("UTF-8''Sepsis%20risk%2520high"))).toBe('Sepsis risk%20high');
  });

  it('refuses the RFC 8187 form when it is broken or carries what raw text may not', () => {
    for (const value of [
      "UTF-8''Sepsis%2risk high",
      "UTF-8''Sepsis risk high, unencoded",
      "UTF-8''Unconscious%00patient%20here",
      "UTF-8''Unconscious%C2%85patient here",
      "UTF-8''Unconscious%E2%80%AEpatient here",
      "UTF-8''Unconscious%FFpatient%20here",
      `UTF-8''${'%41'.repeat(2001)}`,
    ]) {
      expect(codeOf(wire(value)), value).toBe('BREAK_GLASS_REASON_REQUIRED');
    }
  });

  it('refuses controls, format and invisible characters, and private or unassigned code points', () => {
    const base = 'Unconscious patient';
    for (const char of [
      '\u0000',
      '\t',
      '\u001b',
      '\u007f',
      '\u0085',
      '\u009b',
      '\u200b',
      '\u200d',
      '\u202e',
      '\u2066',
      '\u2028',
      '\ufeff',
      '\u00ad',
      '\u3164',
      '\ue000',
      '\u{10ffff}',
      '\ufffe',
      '\u0378',
      '\u{e0041}',
    ]) {
      const label = `U+${char.codePointAt(0)?.toString(16) ?? ''}`;
      expect(codeOf(wire(`${base}${char} in the ED`)), label).toBe('BREAK_GLASS_REASON_REQUIRED');
      expect(reasonOf(wire(`${base}${char} in the ED`)), label).toBeUndefined();
    }
    expect(codeOf(wire(`\ufeff${base}`))).toBe('BREAK_GLASS_REASON_REQUIRED');
  });

  it('refuses blank symbols that are not Default_Ignorable, and the Hangul fillers, wherever they stand', () => {
    // U+2800 and U+1D159 are symbols (So) that draw nothing; the fillers are letters (Lo).
    for (const char of ['\u2800', '\u{1d159}', '\uffa0', '\u3164', '\u115f', '\u1160']) {
      const label = `U+${char.codePointAt(0)?.toString(16) ?? ''}`;
      for (const reason of [
        `Unconscious patient${char}in the ED`,
        `${char}Unconscious patient in the ED`,
        `${char.repeat(12)} abc`,
        `abc${char.repeat(3)}1234567890`,
        `UTF-8''Unconscious%20patient${encodeURIComponent(char)}in%20the%20ED`,
      ]) {
        expect(codeOf(wire(reason)), `${label} in ${reason}`).toBe('BREAK_GLASS_REASON_REQUIRED');
      }
    }
  });

  it('takes U+2000 to U+200A as white space: kept inside a reason, never letters, one toward the minimum', () => {
    for (let code = 0x2000; code <= 0x200a; code++) {
      const space = String.fromCodePoint(code);
      const label = `U+${code.toString(16)}`;
      const reason = `Unconscious${space}patient${space.repeat(3)}in the ED`;
      expect(reasonOf(wire(reason)), label).toBe(reason);
      expect(codeOf(wire(`abc${space.repeat(12)}`)), label).toBe('BREAK_GLASS_REASON_REQUIRED');
      expect(codeOf(wire(`abc${space.repeat(12)}d`)), label).toBe('BREAK_GLASS_REASON_REQUIRED');
      expect(codeOf(wire(`a${space}b${space}c${space}d${space}e${space}f`)), label).toBe(
        'BREAK_GLASS_REASON_REQUIRED',
      );
    }
  });

  it('refuses the RFC 8187 form with any charset but UTF-8, rather than storing it as typed', () => {
    for (const value of [
      "ISO-8859-1''Notfall%20%C4rztin%20gerufen",
      "iso-8859-1'de'Notfall%20%C4rztin%20gerufen",
      "windows-1252''Notfall%3A%20bewusstlos",
      "US-ASCII''Unconscious%20patient%20in%20ED",
      "UTF-16''%00U%00n%00c%00o%00n%00s%00c%00i%00o%00u%00s",
      "utf8''Unconscious%20patient%20in%20ED",
      "ISO-8859-1''Notfall Arztin gerufen, unencoded",
      "ISO-8859-1'de'Notfall,%C4rztin,gerufen",
    ]) {
      expect(codeOf(wire(value)), value).toBe('BREAK_GLASS_REASON_REQUIRED');
    }
    // Typed reasons that merely begin with apostrophes are text, not the encoded form.
    for (const reason of [
      "O'Day's daughter reports an overdose",
      "Rock'n'roll concert, unconscious in the ED",
      "D'Angelo unconscious in the ED, no ID",
    ]) {
      expect(reasonOf(wire(reason)), reason).toBe(reason);
    }
  });

  it('refuses bytes that are not UTF-8, rather than storing U+FFFD', () => {
    const text = Buffer.from('Unconscious patient ', 'utf8');
    for (const bad of [
      [0xff],
      [0xc3], // truncated sequence
      [0xc0, 0xaf], // overlong "/"
      [0xed, 0xa0, 0x80], // an encoded surrogate
      [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
      [0xe9, 0x74, 0xe9], // Latin-1 "été"
    ]) {
      expect(codeOf(wire(Buffer.concat([text, Buffer.from(bad)]))), bad.join()).toBe(
        'BREAK_GLASS_REASON_REQUIRED',
      );
    }
  });

  it('refuses a value that did not come off the wire as bytes', () => {
    expect(codeOf(['x-break-glass', 'Unconscious patient 急患'])).toBe(
      'BREAK_GLASS_REASON_REQUIRED',
    );
  });

  it('bounds the reason in code points, not UTF-16 units, and in bytes', () => {
    const astral = '𠀀'; // a CJK letter outside the BMP: 2 UTF-16 units, 4 bytes
    expect(reasonOf(wire(astral.repeat(500)))).toBe(astral.repeat(500));
    expect(codeOf(wire(astral.repeat(501)))).toBe('BREAK_GLASS_REASON_REQUIRED');
    expect(reasonOf(wire('a'.repeat(500)))).toBe('a'.repeat(500));
    expect(codeOf(wire('a'.repeat(501)))).toBe('BREAK_GLASS_REASON_REQUIRED');
    expect(codeOf(wire('a'.repeat(100_000)))).toBe('BREAK_GLASS_REASON_REQUIRED');
    expect(reasonOf(wire('急患 意識不明 身元不明'))).toBe('急患 意識不明 身元不明');
  });

  it('refuses reasons that are short, padded, blank or without words', () => {
    for (const reason of [
      '',
      'x',
      'asdf',
      'abc      d',
      '\u00a0'.repeat(12),
      '\u3000'.repeat(12),
      '1234567890 !!',
      'a b c d e f g h i j',
      '🚑🚑🚑🚑🚑🚑🚑🚑🚑🚑',
    ]) {
      expect(codeOf(wire(reason)), reason).toBe('BREAK_GLASS_REASON_REQUIRED');
    }
  });

  it('refuses the header sent twice rather than joining the two', () => {
    expect(codeOf(wire('Unconscious patient', 'no next of kin'))).toBe(
      'BREAK_GLASS_REASON_REQUIRED',
    );
  });

  it('forbids the header to every role but clinicians, whatever it holds', () => {
    for (const role of ['frontdesk', 'patient', 'auditor', 'admin'] as const) {
      expect(checkBreakGlass(wire('Unconscious patient, no ID'), principal(role)).refusal).toEqual(
        expect.objectContaining({ status: 403, code: 'FORBIDDEN' }),
      );
    }
    expect(checkBreakGlass(wire('Unconscious patient'), undefined).refusal?.status).toBe(403);
  });

  it('never echoes the reason in a refusal', () => {
    const secret = 'Jane Doe HIV positive\u0085';
    const refusal = checkBreakGlass(wire(secret), clinician).refusal;
    expect(refusal?.status).toBe(400);
    expect(refusal?.message).not.toMatch(/Jane|HIV/);
  });
});
