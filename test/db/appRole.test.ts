import { getTableColumns, getTableName, is } from 'drizzle-orm';
import { PgTable, getTableConfig } from 'drizzle-orm/pg-core';
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { APP_TABLE_PRIVILEGES, scramVerifier } from '../../src/db/appRole.js';
import * as tables from '../../src/db/tables/index.js';

describe('appRole', () => {
  it('decides the privileges of every table of the schema, and of no other', () => {
    const schemaTables = Object.values(tables)
      .filter((value) => is(value, PgTable))
      .map((table) => getTableName(table))
      .sort();
    expect(Object.keys(APP_TABLE_PRIVILEGES).sort()).toEqual(schemaTables);
  });

  it('grants audit_events SELECT, and INSERT on every column but id and occurred_at', () => {
    const columns = Object.values(getTableColumns(tables.auditEvents))
      .map((column) => column.name)
      .filter((name) => name !== 'id' && name !== 'occurred_at');
    const [select, insert, ...others] = APP_TABLE_PRIVILEGES.audit_events ?? [];
    expect(select).toBe('SELECT');
    expect(typeof insert === 'object' && insert.privilege).toBe('INSERT');
    expect(typeof insert === 'object' && [...insert.columns].sort()).toEqual(columns.sort());
    expect(others).toEqual([]);
  });

  it('names only columns of the table in a column grant', () => {
    const byName = new Map<string, string[]>(
      Object.values(tables)
        .filter((value) => is(value, PgTable))
        .map((table) => [getTableName(table), getTableConfig(table).columns.map((c) => c.name)]),
    );
    for (const [table, grants] of Object.entries(APP_TABLE_PRIVILEGES)) {
      for (const grant of grants) {
        if (typeof grant === 'string') continue;
        expect(grant.columns.length, table).toBeGreaterThan(0);
        for (const column of grant.columns) expect(byName.get(table), table).toContain(column);
      }
    }
  });

  it('builds the SCRAM-SHA-256 verifier of RFC 7677, in the form Postgres stores', () => {
    // RFC 7677 §3: user "user", password "pencil", this salt, 4096 iterations. The RFC gives the
    // proofs of its exchange, so the keys are checked through the server signature it prints.
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const verifier = scramVerifier('pencil', salt, 4096);
    const match = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(verifier);
    expect(match?.[1]).toBe('W22ZaJ0SNY7soEsUEjb6gQ==');
    const serverKey = Buffer.from(match?.[3] ?? '', 'base64');
    const authMessage =
      'n=user,r=rOprNGfwEbeRWgbNEkqO,' +
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,' +
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const signature = createHmac('sha256', serverKey).update(authMessage).digest('base64');
    expect(signature).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    // The server recovers ClientKey from the RFC's proof with StoredKey; H(ClientKey) must match.
    const storedKey = Buffer.from(match?.[2] ?? '', 'base64');
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ (clientSignature[i] ?? 0)));
    expect(createHash('sha256').update(clientKey).digest().equals(storedKey)).toBe(true);
  });

  it('salts every verifier afresh', () => {
    expect(scramVerifier('same-password-0123')).not.toBe(scramVerifier('same-password-0123'));
  });
});
