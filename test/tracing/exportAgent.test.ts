import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExportAgent } from '../../src/tracing/exportAgent.js';

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((_req, res) => {
    // A collector that refuses at once.
    res.writeHead(404, { 'content-length': '0' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  url = `http://127.0.0.1:${String(address.port)}/v1/traces`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('the OTLP export agent', () => {
  it('keeps an error listener on a socket between its answer and the agent taking it back', async () => {
    const agent = createExportAgent('http:');
    let thrown: unknown;
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          // Node has removed the request's error listener and not yet added the free socket's.
          // A write failing now (a collector that closed early) found no listener: in the
          // server that was an uncaught EPIPE, and the process ended.
          try {
            req.socket?.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
          } catch (error) {
            thrown = error;
          }
          resolve();
        });
      });
      req.on('error', reject);
      req.end('{"resourceSpans":[]}');
    });
    expect(thrown).toBeUndefined();
    agent.destroy();
  });

  it('builds an https agent for an https collector', () => {
    const agent = createExportAgent('https:');
    expect(agent.constructor.name).toContain('Https');
    agent.destroy();
  });
});
