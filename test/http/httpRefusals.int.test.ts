import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.js';

/** Sends raw bytes and reads the whole answer: fetch would refuse to send most of these. */
function rawExchange(
  url: string,
  request: Buffer | string,
  options: { keepOpen?: boolean } = {},
): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // keepOpen sends the bytes and leaves the socket open, as a client that stalls would.
    const socket = connect(Number(port), hostname, () =>
      options.keepOpen === true ? socket.write(request) : socket.end(request),
    );
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => {
      resolve(answer);
    });
    socket.on('error', reject);
  });
}

function parse(answer: string) {
  const at = answer.indexOf('\r\n\r\n');
  const head = answer.slice(0, at);
  let body = answer.slice(at + 4);
  if (/transfer-encoding: chunked/i.test(head)) {
    let decoded = '';
    for (;;) {
      const lineEnd = body.indexOf('\r\n');
      const size = parseInt(body.slice(0, lineEnd), 16);
      if (!(size > 0)) break;
      decoded += body.slice(lineEnd + 2, lineEnd + 2 + size);
      body = body.slice(lineEnd + 2 + size + 2);
    }
    body = decoded;
  }
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
    server = await startTestServer({ REQUEST_TIMEOUT_MS: '1000' });
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

  it('answers a URL that does not decode with BAD_REQUEST, without echoing it', async () => {
    for (const path of ['/graphql%ZZ', '/readyz%ZZ', '/%ZZ']) {
      const answer = await rawExchange(
        server.url,
        `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      const { status, body } = parse(answer);
      expect(status).toBe(400);
      expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
      expect(answer).not.toContain('%ZZ');
    }
  });

  it('answers a request without Host, or with an unknown Expect, with a code', async () => {
    const noHost = parse(
      await rawExchange(server.url, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'),
    );
    expect(noHost.status).toBe(400);
    expect(noHost.body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
    const expectation = parse(
      await rawExchange(
        server.url,
        'POST /graphql HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}',
      ),
    );
    expect(expectation.status).toBe(417);
    expect(expectation.body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
  });

  it('answers a body that stalls with 408 REQUEST_TIMEOUT once the request timeout passes', async () => {
    const answer = await rawExchange(
      server.url,
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"qu',
      { keepOpen: true },
    );
    const { status, body } = parse(answer);
    expect(status).toBe(408);
    expect(body.errors[0]?.extensions.code).toBe('REQUEST_TIMEOUT');
  });

  it('answers a malformed request line with BAD_REQUEST', async () => {
    const { status, body } = parse(await rawExchange(server.url, 'NOT HTTP AT ALL\r\n\r\n'));
    expect(status).toBe(400);
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
  });
});
