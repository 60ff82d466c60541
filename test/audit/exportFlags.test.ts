import { describe, expect, it } from 'vitest';
import { parseExportFlags } from '../../src/audit/exportFlags.js';

const RANGE = ['--from', '2026-01-01', '--to', '2026-01-02T00:00:00+01:00'];

describe('parseExportFlags', () => {
  it('brings the flags to the criteria of the query', () => {
    const id = '0A1B2C3D-0000-4000-8000-000000000001';
    expect(
      parseExportFlags([
        ...RANGE,
        '--tenant',
        't2',
        '--actor',
        'u1',
        '--action',
        'BREAK_GLASS',
        '--patient',
        id,
        '--out',
        'x.ndjson',
      ]),
    ).toEqual({
      help: false,
      tenantId: 't2',
      out: 'x.ndjson',
      criteria: {
        from: '2026-01-01T00:00:00.000000Z',
        to: '2026-01-01T23:00:00.000000Z',
        actorId: 'u1',
        action: 'break_glass',
        patientId: id.toLowerCase(),
        resourceType: undefined,
      },
    });
  });

  it('answers --help and -h', () => {
    expect(parseExportFlags(['--help'])).toEqual({ help: true });
    expect(parseExportFlags(['-h'])).toEqual({ help: true });
  });

  it.each([
    ['an unknown flag', [...RANGE, '--format', 'csv'], /Unknown option '--format'/],
    ['a positional argument', [...RANGE, 'extra'], /positional/],
    ['a flag without its value', ['--from', '2026-01-01', '--to'], /argument missing/],
    ['no --to', ['--from', '2026-01-01'], /^--from and --to are required/],
    ['a flag given twice', [...RANGE, '--from', '2025-01-01'], /^--from is given more than once/],
    ['a tenant the server refuses', [...RANGE, '--tenant', 'T1'], /^--tenant is not a tenant id/],
    [
      'a time without an offset',
      ['--from', '2026-01-01T00:00', '--to', '2026-01-02'],
      /^Invalid --from: /,
    ],
    ['a day no calendar has', ['--from', '2026-02-29', '--to', '2026-03-02'], /^Invalid --from: /],
    [
      'an empty range',
      ['--from', '2026-01-02', '--to', '2026-01-02'],
      /^Invalid --to: must be later than --from/,
    ],
    [
      'an unknown action',
      [...RANGE, '--action', 'peek'],
      /^Invalid --action: must be one of read, write, purge, deny, break_glass, warm, export$/,
    ],
    [
      'a patient that is no uuid',
      [...RANGE, '--patient', 'P1'],
      /^Invalid --patient: must be a uuid$/,
    ],
    ['an empty tenant', [...RANGE, '--tenant', ''], /^--tenant is not a tenant id/],
    ['a blank actor', [...RANGE, '--actor', ' '], /^Invalid --actor: /],
  ])('refuses %s', (_label, args, message) => {
    expect(() => parseExportFlags(args)).toThrow(message);
  });
});
