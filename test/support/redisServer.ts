import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createClient } from '@keyv/redis';

/** A free loopback port, found by binding port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** A throwaway redis-server of the test's own on a given loopback port, with no persistence. */
export interface RedisProcess {
  readonly url: string;
  start(): Promise<void>;
  kill(): Promise<void>;
  /** Sends a signal to the server: SIGSTOP freezes it (sockets stay open), SIGCONT thaws it. */
  signal(signal: NodeJS.Signals): void;
}

export function redisProcess(port: number): RedisProcess {
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  return {
    url,
    start: async () => {
      child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--enable-debug-command',
          'yes',
        ],
        { stdio: 'ignore' },
      );
      for (let attempt = 0; attempt < 100; attempt++) {
        const client = createClient({ url, socket: { reconnectStrategy: false } });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.ping();
          await client.quit();
          return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      throw new Error(`redis-server on ${port} did not start`);
    },
    signal: (signal) => {
      if (child === undefined || child.exitCode !== null)
        throw new Error('redis-server is not running');
      child.kill(signal);
    },
    kill: async () => {
      if (child === undefined || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
