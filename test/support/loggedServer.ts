import { startTestServer, type TestServer } from './testServer.js';

/** A line of the server's log, as pino wrote it. */
export type Line = Record<string, unknown> & {
  level: number;
  msg: string;
  time: string;
  reqId?: string;
};

/** A server whose every log line, at debug, is kept as written. */
export async function loggedServer(): Promise<{ server: TestServer; output: () => string }> {
  const written: string[] = [];
  const server = await startTestServer({ LOG_LEVEL: 'debug' }, undefined, {
    logDestination: { write: (text: string) => written.push(text) },
  });
  return { server, output: () => written.join('') };
}

export function linesOf(output: string): Line[] {
  return output
    .split('\n')
    .filter((text) => text !== '')
    .map((text) => JSON.parse(text) as Line);
}
