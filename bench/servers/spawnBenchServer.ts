import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerMode } from './serve.js';

export interface BenchServer {
  readonly mode: ServerMode;
  readonly origin: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
/** The workers of the `caregraph-workers` mode. */
const WORKERS = 2;
const START_TIMEOUT_MS = 120_000;

/**
 * Starts one server under test in its own process and resolves once it listens: for
 * `caregraph-workers`, once every worker does. Its `pid` is then the primary's.
 */
export function spawnBenchServer(
  mode: ServerMode,
  env: Record<string, string>,
  options: { readonly cpuProfileDir?: string } = {},
): Promise<BenchServer> {
  // A V8 CPU profile of the server, written when it stops (bench/profileWarmChart.ts), or of
  // every server of a bench run with BENCH_CPU_PROFILE_DIR=<dir>.
  const profileDir = options.cpuProfileDir ?? process.env.BENCH_CPU_PROFILE_DIR;
  const profile = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
  const workers = mode === 'caregraph-workers';
  const entry = workers ? [MAIN] : [SERVE, mode];
  // main.ts says it listens in its info lines, once per worker.
  const workerEnv = workers
    ? { WEB_CONCURRENCY: String(WORKERS), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' }
    : {};
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', ...entry], {
    env: { ...process.env, ...env, ...workerEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${mode} did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const origin = listeningOrigin(out, workers ? WORKERS : 1);
      if (origin === undefined || child.pid === undefined) return;
      clearTimeout(timer);
      resolve({
        mode,
        origin,
        pid: child.pid,
        stop: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise((done) => child.once('exit', done));
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${mode} exited with ${String(code)} before listening:\n${stderr}`));
    });
  });
}

/** The origin once `listeners` processes have said they listen, from the output so far. */
function listeningOrigin(out: string, listeners: number): string | undefined {
  const lines = [
    ...out.matchAll(/(?:bench server listening at|Server listening at) (http:\/\/[^\s"]+)/g),
  ];
  return lines.length >= listeners ? lines[0]?.[1] : undefined;
}
