import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.js';

/** Sends raw bytes and reads the whole answer: fetch would refuse to send most of these. */
function rawExchange(url: string, request: Buffer | string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => {
      resolve(answer);
    });
    socket.on('error', reject);
  });
}

function parse(answer: string) {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return {
    status,
    head: head.toLowerCase(),
    body: JSON.parse(body) as { errors: Array<{ extensions: { code: string } }> },
  };
}

describe('refusals of the HTTP layer', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers bytes a header may not hold with BAD_REQUEST', async () => {
    const answer = await rawExchange(
      server.url,
      Buffer.concat([
        Buffer.from('POST /graphql HTTP/1.1\r\nHost: x\r\nX-Bad: a'),
        Buffer.from([0x00, 0x01]),
        Buffer.from('b\r\nContent-Length: 2\r\n\r\n{}'),
      ]),
    );
    const { status, head, body } = parse(answer);
    expect(status).toBe(400);
    expect(head).toContain('cache-control: no-store');
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
  });

  it('answers headers over the size limit with 431 HEADERS_TOO_LARGE', async () => {
    const answer = await rawExchange(
      server.url,
      `GET /graphql HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
    );
    const { status, body } = parse(answer);
    expect(status).toBe(431);
    expect(body.errors[0]?.extensions.code).toBe('HEADERS_TOO_LARGE');
  });

  it('answers a malformed request line with BAD_REQUEST', async () => {
    const { status, body } = parse(await rawExchange(server.url, 'NOT HTTP AT ALL\r\n\r\n'));
    expect(status).toBe(400);
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
  });
});
