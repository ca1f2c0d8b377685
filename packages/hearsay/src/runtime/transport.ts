import dgram from 'node:dgram';
import { isIP } from 'node:net';
import net from 'node:net';
import { BindError } from './errors.js';

/** A UDP socket and a TCP server listening on the same host and port, as memberlist requires. */
export interface Listeners {
  readonly udp: dgram.Socket;
  readonly tcp: net.Server;
  readonly host: string;
  readonly port: number;
}

const BIND_ATTEMPTS = 20;

/**
 * Connections the kernel completes for us before we accept them: Go's listeners (memberlist's)
 * ask for the system's maximum (net.core.somaxconn, 4096 on current Linux), where Node.js asks
 * for 511. A seed that a whole deployment joins at once would otherwise drop the handshakes of
 * hundreds of joiners while its event loop is busy, and they would time out connecting.
 */
const ACCEPT_BACKLOG = 4096;

/**
 * Binds TCP first (port 0 lets the system choose), then UDP on the same port number; when
 * that UDP port is taken, tries another free TCP port, a bounded number of times.
 */
export async function listen(host: string, port: number): Promise<Listeners> {
  const family = isIP(host) === 6 ? 'udp6' : 'udp4';
  let lastError: unknown;
  for (let attempt = 0; attempt < (port === 0 ? BIND_ATTEMPTS : 1); attempt++) {
    const tcp = net.createServer({ pauseOnConnect: false });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host, port, exclusive: true, backlog: ACCEPT_BACKLOG }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      throw bindError(error, host, port, 'TCP');
    }
    const chosen = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket({ type: family, reuseAddr: false });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address: host, port: chosen, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, host, port: chosen };
    } catch (error) {
      lastError = error;
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      if (port !== 0) break;
    }
  }
  throw bindError(lastError, host, port, 'UDP');
}

function bindError(error: unknown, host: string, port: number, protocol: string): BindError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') {
    return new BindError(`${protocol} port ${where} is already in use: choose another port, or 0 for any free one`, { cause: error });
  }
  if (code === 'EADDRNOTAVAIL') {
    return new BindError(`cannot bind ${where}: ${host} is not an address of this machine`, { cause: error });
  }
  if (code === 'EACCES') {
    return new BindError(`not allowed to bind ${protocol} ${where}: use a port above 1023 or run with the needed rights`, { cause: error });
  }
  return new BindError(`cannot bind ${protocol} ${where}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

export function closeListeners(listeners: Listeners, sockets: Iterable<net.Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return Promise.all([
    new Promise<void>((resolve) => {
      try {
        listeners.udp.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    }),
    new Promise<void>((resolve) => listeners.tcp.close(() => resolve())),
  ]).then(() => undefined);
}
