import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redisServer.js';

const run = promisify(execFile);

/** A real Redis Cluster of the test's own: masters only, no replicas, nothing on disk. */
export interface RedisCluster {
  /** Seed node URLs, as REDIS_CLUSTER_NODES takes them. */
  readonly nodes: ReadonlyArray<string>;
  /** Kills one master (SIGKILL): its slots are then served by nobody. */
  killNode(index: number): Promise<void>;
  /** Starts a killed master again, empty; it rejoins with its slots, from its nodes.conf. */
  restartNode(index: number): Promise<void>;
  /** The master serving a key's slot: `redis-cli --cluster create` gives three masters even ranges. */
  nodeOfSlot(slot: number): number;
  stop(): Promise<void>;
}

/**
 * Starts `masters` redis-server processes with `--cluster-enabled yes` on free loopback ports,
 * joins them with `redis-cli --cluster create`, and resolves once every node reports
 * `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'caregraph-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) ports.push(await freePort());
  const serve = (port: number) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore', cwd: dir },
    );
  const children: ChildProcess[] = ports.map(serve);
  const cli = (port: number, ...args: string[]) =>
    run('redis-cli', ['-p', String(port), ...args]).then(({ stdout }) => stdout);
  const stop = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      for (let attempt = 0; ; attempt++) {
        try {
          if ((await cli(port, 'ping')).includes('PONG')) break;
        } catch {
          // not up yet
        }
        if (attempt > 100) throw new Error(`redis-server on ${port} did not start`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (let attempt = 0; ; attempt++) {
      const states = await Promise.all(ports.map((port) => cli(port, 'cluster', 'info')));
      if (states.every((info) => info.includes('cluster_state:ok'))) break;
      if (attempt > 200) throw new Error('the cluster did not come up');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: ports.map((port) => `redis://127.0.0.1:${port}`),
    killNode: async (index) => {
      const child = children[index];
      if (child === undefined || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    restartNode: async (index) => {
      const port = ports[index];
      if (port === undefined) throw new Error(`no node ${index}`);
      children[index] = serve(port);
      for (let attempt = 0; ; attempt++) {
        const states = await Promise.all(
          ports.map((p) => cli(p, 'cluster', 'info').catch(() => '')),
        );
        if (states.every((info) => info.includes('cluster_state:ok'))) return;
        if (attempt > 300) throw new Error('the cluster did not recover');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    nodeOfSlot: (slot) => Math.min(masters - 1, Math.floor((slot * masters) / 16384)),
    stop,
  };
}
