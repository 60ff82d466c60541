import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/runCli.js';

interface Banner {
  readonly origin: string;
  readonly tokens: Record<string, string>;
  readonly patientId: string;
  readonly doctorId: string;
}

const SEED_PATIENTS = '20';

/**
 * Runs `npm start`, as the README's quick start does, with neither DATABASE_URL nor REDIS_URL
 * set. The child is npm itself, so a signal to it is a signal to `npm start`.
 */
function startEmbedded(): { child: ChildProcess; banner: Promise<Banner> } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    LOG_LEVEL: 'warn',
    EMBEDDED_SEED_PATIENTS: SEED_PATIENTS,
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.NODE_ENV;
  const child = spawn('npm', ['start', '--silent'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const banner = new Promise<Banner>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const origin = /serving (http:\/\/[^/\s]+)\/graphql/.exec(out)?.[1];
      const patientId = /^ {2}patient id: ([0-9a-f-]{36})$/m.exec(out)?.[1];
      const doctorId = /^ {2}doctor id: +([0-9a-f-]{36}) /m.exec(out)?.[1];
      const tokens: Record<string, string> = {};
      for (const [, role, token] of out.matchAll(/export ([A-Z]+)_TOKEN=(\S+)/g)) {
        if (role !== undefined && token !== undefined) tokens[role] = token;
      }
      if (origin && patientId && doctorId && Object.keys(tokens).length === 5)
        resolve({ origin, tokens, patientId, doctorId });
    });
    child.once('exit', (code) => {
      reject(new Error(`exited early with ${String(code)}`));
    });
  });
  return { child, banner };
}

describe('the embedded default', () => {
  let child: ChildProcess;
  let banner: Banner;

  beforeAll(async () => {
    const started = startEmbedded();
    child = started.child;
    banner = await started.banner;
  }, 120_000);
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('starts on PGlite, seeds, and prints a token per role with an example', () => {
    expect(Object.keys(banner.tokens).sort()).toEqual([
      'ADMIN',
      'AUDITOR',
      'CLINICIAN',
      'FRONTDESK',
      'PATIENT',
    ]);
  });

  it('serves the chart query with the printed clinician token', async () => {
    const response = await fetch(`${banner.origin}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${banner.tokens.CLINICIAN ?? ''}`,
      },
      body: JSON.stringify({
        query: `query ($id: ID!) { patient(id: $id) { name careTeam { name } records { diagnosis author { name department { name } } } studies { modality orderingDoctor { name } } } }`,
        variables: { id: banner.patientId },
      }),
    });
    const body = (await response.json()) as {
      data: { patient: { records: unknown[]; careTeam: unknown[] } };
      errors?: unknown;
    };
    expect(body.errors).toBeUndefined();
    expect(body.data.patient.records.length).toBeGreaterThanOrEqual(10);
    expect(body.data.patient.careTeam.length).toBeGreaterThanOrEqual(2);
  });

  it('names the same patient and care-team doctor as npm run dev:users does', async () => {
    const { code, stdout } = await runCli('devUsers', ['--tenant', 't1', '--limit', '1'], {
      EMBEDDED_SEED_PATIENTS: SEED_PATIENTS,
    });
    expect(code).toBe(0);
    expect(stdout).toContain(`  ${banner.patientId}  M0000001`);
    expect(stdout).toContain(`care team: ${banner.doctorId}`);
    // It migrates and seeds a database of its own, as npm start did: slow on a busy machine.
  }, 120_000);

  it('drains and exits cleanly on SIGTERM to npm start, the server with it', async () => {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    await expect(fetch(`${banner.origin}/healthz`)).rejects.toThrow();
  });
});
