import { createServer, request, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExportAgent } from '../../src/tracing/exportAgent.js';

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((_req, res) => {
    // A collector that refuses at once: the answer comes before the upload is read.
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

/** Sends one upload through the agent; resolves with its socket once the answer has ended. */
function upload(agent: ReturnType<typeof createExportAgent>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve(req.socket as Socket);
      });
    });
    req.on('error', reject);
    req.end('{"resourceSpans":[]}');
  });
}

describe('the OTLP export agent', () => {
  it('keeps an error listener on sockets no request owns any more', async () => {
    const agent = createExportAgent('http:');
    const socket = await upload(agent);
    await new Promise((resolve) => setImmediate(resolve));
    // What a late EPIPE does: without a listener this throws, and in the server it would be
    // an uncaught exception that ends the process.
    expect(() =>
      socket.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })),
    ).not.toThrow();
    agent.destroy();
  });

  it('builds an https agent for an https collector', () => {
    const agent = createExportAgent('https:');
    expect(agent.constructor.name).toContain('Https');
    agent.destroy();
  });
});
