/**
 * `npx tsx bench/startupTime.ts [--runs N] [--cold] [--port P]`: how long `npm start` on the
 * embedded database takes, from the spawn to the first chart query that succeeds with the
 * banner's clinician token. `--cold` empties the seed snapshot cache before each run, as on a
 * fresh clone. Prints each run's time and its start-up steps, then the spread. It asserts
 * nothing: on a shared machine the figures say what this machine did, not what it can do.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SNAPSHOT_CACHE_DIR } from '../src/startup/seedSnapshot.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    cold: { type: 'boolean', default: false },
    port: { type: 'string', default: '4310' },
  },
});

const CHART = `query ($id: ID!) { patient(id: $id) { name careTeam { name } records { diagnosis author { name department { name } } } studies { modality orderingDoctor { name } } } }`;

interface Run {
  readonly ms: number;
  readonly steps: string;
}

async function measureOnce(port: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: port };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.NODE_ENV;
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  try {
    const { token, patientId } = await new Promise<{ token: string; patientId: string }>(
      (resolve, reject) => {
        const poll = setInterval(() => {
          const token = /export CLINICIAN_TOKEN=(\S+)/.exec(out)?.[1];
          const patientId = /patient\(id: \\"([0-9a-f-]{36})\\"\)/.exec(out)?.[1];
          if (token !== undefined && patientId !== undefined) {
            clearInterval(poll);
            resolve({ token, patientId });
          }
        }, 5);
        child.once('exit', (code) => {
          clearInterval(poll);
          reject(new Error(`npm start exited with ${String(code)}:\n${out}`));
        });
      },
    );
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: CHART, variables: { id: patientId } }),
    });
    const body = (await response.json()) as { errors?: unknown };
    if (!response.ok || body.errors !== undefined) throw new Error('the chart query failed');
    const ms = performance.now() - started;
    const steps = [...out.matchAll(/"step":"(\w+)","ms":(\d+)/g)]
      .map(([, step, stepMs]) => `${step ?? ''} ${stepMs ?? ''}`)
      .join(', ');
    return { ms, steps };
  } finally {
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  }
}

const runs: Run[] = [];
for (let i = 0; i < Number(values.runs); i++) {
  if (values.cold) rmSync(SNAPSHOT_CACHE_DIR, { recursive: true, force: true });
  const run = await measureOnce(values.port);
  runs.push(run);
  process.stdout.write(`run ${String(i + 1)}: ${(run.ms / 1000).toFixed(2)} s  (${run.steps})\n`);
}
const seconds = runs.map((run) => run.ms / 1000).sort((a, b) => a - b);
const median = seconds[Math.floor(seconds.length / 2)] ?? 0;
process.stdout.write(
  `${values.cold ? 'cold' : 'warm'}: median ${median.toFixed(2)} s, min ${(seconds[0] ?? 0).toFixed(2)} s, max ${(seconds.at(-1) ?? 0).toFixed(2)} s over ${String(seconds.length)} runs\n`,
);
