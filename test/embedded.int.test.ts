import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARTUP_STEP_MESSAGE } from '../src/startup/startupSteps.js';
import { runCli } from './support/runCli.js';
import { waitFor } from './support/waitFor.js';

interface Banner {
  readonly origin: string;
  readonly tokens: Record<string, string>;
  readonly patientId: string;
  readonly doctorId: string;
}

interface StepLine {
  readonly step: string;
  readonly ms: number;
  readonly snapshot?: string;
}

interface Started {
  readonly child: ChildProcess;
  readonly banner: Banner;
  /** The start-up step lines logged so far, in order. */
  steps(): StepLine[];
}

const SEED_PATIENTS = '20';

/**
 * Runs `npm start`, as the README's quick start does, with neither DATABASE_URL nor REDIS_URL
 * set, keeping its seeded snapshot in `snapshotDir`. The child is npm itself, so a signal to
 * it is a signal to `npm start`.
 */
async function startEmbedded(snapshotDir: string): Promise<Started> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    LOG_LEVEL: 'info',
    EMBEDDED_SEED_PATIENTS: SEED_PATIENTS,
    EMBEDDED_SNAPSHOT_DIR: snapshotDir,
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.NODE_ENV;
  const child = spawn('npm', ['start', '--silent'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const steps = (): StepLine[] =>
    out
      .split('\n')
      .filter((line) => line.includes(`"msg":"${STARTUP_STEP_MESSAGE}"`))
      .map((line) => JSON.parse(line) as StepLine);
  const banner = await new Promise<Banner>((resolve, reject) => {
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
  // The ready line follows the banner.
  await waitFor('the ready line', () => steps().some((line) => line.step === 'ready'), 30_000);
  return { child, banner, steps };
}

async function chart(banner: Banner): Promise<{ data: unknown; errors?: unknown }> {
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
  return (await response.json()) as { data: unknown; errors?: unknown };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

const snapshotDir = mkdtempSync(join(tmpdir(), 'caregraph-snapshot-'));
const snapshots = () => readdirSync(snapshotDir).filter((name) => name.endsWith('.tar'));
afterAll(() => {
  rmSync(snapshotDir, { recursive: true, force: true });
});

describe('the embedded default', () => {
  let started: Started;
  let banner: Banner;
  let seededChart: unknown;

  beforeAll(async () => {
    started = await startEmbedded(snapshotDir);
    banner = started.banner;
  }, 120_000);
  afterAll(() => {
    if (started.child.exitCode === null) started.child.kill('SIGKILL');
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

  it('logs each start-up step with its duration, the schema check before the database', () => {
    const lines = started.steps();
    expect(lines.map((line) => line.step)).toEqual([
      'load',
      'config',
      'schema',
      'pglite',
      'migrate',
      'seed',
      'snapshot',
      'l2',
      'feed',
      'server',
      'listen',
      'banner',
      'ready',
    ]);
    for (const line of lines)
      expect(Number.isInteger(line.ms) && line.ms >= 0, line.step).toBe(true);
    expect(lines.find((line) => line.step === 'pglite')?.snapshot).toBe('none');
  });

  it('serves the chart query with the printed clinician token', async () => {
    const body = (await chart(banner)) as {
      data: { patient: { records: unknown[]; careTeam: unknown[] } };
      errors?: unknown;
    };
    expect(body.errors).toBeUndefined();
    expect(body.data.patient.records.length).toBeGreaterThanOrEqual(10);
    expect(body.data.patient.careTeam.length).toBeGreaterThanOrEqual(2);
    seededChart = body.data;
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

  it('keeps the seeded database as a snapshot, and drains and exits cleanly on SIGTERM', async () => {
    expect(await stop(started.child)).toBe(0);
    expect(snapshots()).toHaveLength(1);
    await expect(fetch(`${banner.origin}/healthz`)).rejects.toThrow();
  });

  it('starts again from the snapshot, without seeding, with the same data', async () => {
    const again = await startEmbedded(snapshotDir);
    try {
      const steps = again.steps().map((line) => line.step);
      expect(steps).not.toContain('seed');
      expect(steps.indexOf('schema')).toBeLessThan(steps.indexOf('pglite'));
      expect(again.steps().find((line) => line.step === 'pglite')?.snapshot).toBe('loaded');
      expect(again.banner.patientId).toBe(banner.patientId);
      const body = await chart(again.banner);
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual(seededChart);
    } finally {
      await stop(again.child);
    }
  }, 120_000);
});

describe('npm start with a schema that breaks a cache rule', () => {
  const copy = mkdtempSync(join(tmpdir(), 'caregraph-badschema-'));
  afterAll(() => {
    rmSync(copy, { recursive: true, force: true });
  });

  it('fails before any database work, the error last and plain', async () => {
    // A copy of the project whose schema/ keeps a patient for 301 s, over the HIPAA cap.
    const root = fileURLToPath(new URL('..', import.meta.url));
    for (const entry of [
      'src',
      'schema',
      'drizzle',
      'persisted-queries',
      'package.json',
      'tsconfig.json',
    ])
      cpSync(join(root, entry), join(copy, entry), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const file = join(copy, 'schema', 'patient.graphql');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('type Patient @phi {', 'type Patient @phi(maxAge: 301) {'),
    );

    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'info' };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    delete env.NODE_ENV;
    // One pipe for both streams, as a terminal shows them: their order is the order written.
    const child = spawn('sh', ['-c', 'npm start --silent 2>&1'], {
      cwd: copy,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];

    expect(code).not.toBe(0);
    const lines = out.trimEnd().split('\n');
    const error = lines.findIndex((line) =>
      line.startsWith('caregraph did not start: Invalid cache policy'),
    );
    expect(error, out).toBeGreaterThanOrEqual(0);
    expect(lines.slice(error + 1)).toEqual([
      '  - Patient: @phi(maxAge: 301) exceeds the HIPAA cap of 300 seconds',
    ]);
    const steps = lines
      .filter((line) => line.includes(`"msg":"${STARTUP_STEP_MESSAGE}"`))
      .map((line) => (JSON.parse(line) as StepLine).step);
    expect(steps).toEqual(['load', 'config']);
    expect(out).not.toContain('PGlite');
  }, 120_000);
});
