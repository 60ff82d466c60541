import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy to a real service that a test can cut: `cut()` resets every
 * connection through it and refuses new ones, as a network partition would look to the
 * client; `restore()` lets connections through again.
 */
export interface TcpProxy {
  readonly port: number;
  cut(): void;
  /**
   * The connections open now stop carrying anything, in either direction, with no FIN or
   * RST (a NAT or conntrack drop); new connections go through as before.
   */
  blackhole(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function tcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  // Blackholed connections: still open, carrying nothing, destroyed on close.
  const silenced = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const drop = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no proxy port');
  return {
    port: address.port,
    blackhole: () => {
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
        socket.removeAllListeners('data');
        silenced.add(socket);
      }
      sockets.clear();
    },
    cut: () => {
      cut = true;
      for (const socket of sockets) socket.resetAndDestroy();
      sockets.clear();
    },
    restore: () => {
      cut = false;
    },
    close: async () => {
      cut = true;
      for (const socket of [...sockets, ...silenced]) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
