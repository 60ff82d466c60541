import { Agent as HttpAgent, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';

/**
 * The HTTP agent the OTLP exporter sends through. Its sockets always have an error listener.
 * A collector (or a proxy before it) that answers before the upload is done and closes the
 * connection makes Node's client write into a socket the request has already let go of: an
 * EPIPE with no listener, which is an uncaught exception that ends the process. The exporter
 * still sees the failure through its request, and drops or retries that batch; spans are never
 * worth the API.
 */
export function createExportAgent(protocol: string): HttpAgent {
  return protocol === 'https:'
    ? new QuietHttpsAgent({ keepAlive: true })
    : new QuietHttpAgent({ keepAlive: true });
}

class QuietHttpAgent extends HttpAgent {
  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    return quiet(super.createConnection(options, callback));
  }
}

class QuietHttpsAgent extends HttpsAgent {
  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    return quiet(super.createConnection(options, callback));
  }
}

function quiet(socket: Duplex | null | undefined): Duplex | null | undefined {
  socket?.on('error', ignore);
  return socket;
}

function ignore(): void {
  // The request that owns the socket reports the error; a socket no request owns has no one
  // to report to.
}
