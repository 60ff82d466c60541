/**
 * `npm run bench:profile -- [--mode caregraph] [--out dir]`: a V8 CPU profile of one server
 * under test while it answers the warm chart alone, and the profile's self time summed by
 * subsystem (package, or caregraph's own module folder). The way to see where a warm chart's
 * CPU goes before and after a change; the bench proper never profiles.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchServerEnv, seedBenchData } from './benchData.js';
import { benchServices, connectRedis } from './environment.js';
import { SERVER_MODES, type ServerMode } from './servers/modes.js';
import { spawnBenchServer } from './servers/spawnBenchServer.js';
import { measureWarmChart, prepareWarmChart } from './warmChart.js';
import { summarizeProfile, type CpuProfile } from './profileSummary.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'caregraph' },
      patients: { type: 'string', default: '2000' },
      seconds: { type: 'string', default: '10' },
      out: { type: 'string', default: join(tmpdir(), 'caregraph-profile') },
    },
  });
  const mode = values.mode as ServerMode;
  if (!SERVER_MODES.includes(mode))
    throw new Error(`--mode must be one of ${SERVER_MODES.join(', ')}`);
  const services = benchServices(process.env);
  const redis = await connectRedis(services.redisUrl);
  const work = mkdtempSync(join(tmpdir(), 'caregraph-profile-'));
  mkdirSync(values.out, { recursive: true });
  try {
    const { workload, jwt } = await seedBenchData(services, {
      patients: Number(values.patients),
      doctorsPerTenant: 60,
      seed: 42,
      streamLength: 20_000,
    });
    const plan = prepareWarmChart(workload, work, {
      charts: 50,
      warmUpSeconds: 3,
      seconds: Number(values.seconds),
    });
    await redis.flush();
    const before = new Set(readdirSync(values.out));
    const server = await spawnBenchServer(mode, benchServerEnv(services, jwt, 'cgprofile'), {
      cpuProfileDir: values.out,
    });
    let result;
    try {
      result = await measureWarmChart(server, redis, plan, join(work, 'spec.json'));
    } finally {
      await server.stop();
    }
    const written = readdirSync(values.out).filter(
      (f) => f.endsWith('.cpuprofile') && !before.has(f),
    );
    const file = written[0];
    if (file === undefined) throw new Error('the server wrote no CPU profile');
    const profile = JSON.parse(readFileSync(join(values.out, file), 'utf8')) as CpuProfile;
    // The measured window ended just before the server was stopped; a margin either side.
    const seconds = Number(values.seconds);
    const summary = summarizeProfile(profile, process.cwd(), {
      skipEndMicros: 1_000_000,
      lengthMicros: (seconds - 1) * 1_000_000,
    });
    const lines = [
      `${mode}: ${result.load.requestsPerSecond.toFixed(0)} req/s on 1 connection, server CPU ` +
        `${result.cpuMsPerRequest.server?.toFixed(3) ?? '–'} ms/req (the profiler's own cost included)`,
      '',
      '| Subsystem | self % |',
      '|---|---|',
      ...summary.slice(0, 25).map((s) => `| ${s.name} | ${s.percent.toFixed(1)} |`),
    ];
    writeFileSync(join(values.out, `${mode}-summary.md`), `${lines.join('\n')}\n`);
    process.stdout.write(`${lines.join('\n')}\nprofile: ${join(values.out, file)}\n`);
  } finally {
    await redis.close();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
