import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * Which of `pids` holds the server end of the TCP connection from `clientPort` to
 * `serverPort` on 127.0.0.1: the process that answers the requests on it. Read from Linux's
 * /proc (the connection's socket inode, then each process's descriptors), so the service
 * needs no way of its own to say which worker answered.
 *
 * @returns the pid, or undefined when none of them holds it.
 */
export function socketOwner(
  serverPort: number,
  clientPort: number,
  pids: ReadonlyArray<number>,
): number | undefined {
  const inode = serverSocketInode(serverPort, clientPort);
  if (inode === undefined) return undefined;
  const link = `socket:[${inode}]`;
  return pids.find((pid) => {
    try {
      return readdirSync(`/proc/${String(pid)}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${String(pid)}/fd/${fd}`) === link;
        } catch {
          // The descriptor closed while the directory was read.
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

/** The inode of the socket whose local port is `serverPort` and remote port `clientPort`. */
function serverSocketInode(serverPort: number, clientPort: number): string | undefined {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  // Columns: sl, local_address (ip:port in hex), rem_address, st, queues, timers, …, inode.
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const columns = line.trim().split(/\s+/);
    const local = columns[1]?.split(':')[1];
    const remote = columns[2]?.split(':')[1];
    if (local === hex(serverPort) && remote === hex(clientPort)) return columns[9];
  }
  return undefined;
}
