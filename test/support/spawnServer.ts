import { spawn, type ChildProcess } from 'node:child_process';

export interface SpawnedServer {
  readonly origin: string;
  readonly child: ChildProcess;
  /** Everything the process has written to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `src/main.ts` as its own process and resolves once it listens: once `listeners`
 * processes do, for a primary of WEB_CONCURRENCY workers.
 */
export function spawnServer(env: Record<string, string>, listeners = 1): Promise<SpawnedServer> {
  // Warming off unless a test asks for it: its background statements would blur what tests count.
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    LOG_LEVEL: 'info',
    CACHE_WARM: 'off',
    ...env,
  };
  delete base.NODE_ENV;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: base,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const listening = [...out.matchAll(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/g)];
      const origin = listening[0]?.[1];
      if (origin !== undefined && listening.length >= listeners) {
        resolve({
          origin,
          child,
          output: () => out + err,
          stop: async () => {
            if (child.exitCode !== null) return;
            const exited = new Promise((done) => child.once('exit', done));
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => {
      reject(new Error(`server exited with ${String(code)} before listening`));
    });
  });
}
