/**
 * What the attacks are made of: UDP sockets that count the victim's answers where they arrive,
 * paced floods, TCP streams sent whole or cut off by the victim, polling, and a dead port.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { LOOPBACK, sleep } from './bench-processes.js';

export const MiB = 2 ** 20;
export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 1 : 0)} MiB`;
export const count = (n: number): string => n.toLocaleString('en-US');

/** A UDP socket on loopback counting what arrives, with a receive buffer big enough for a burst of answers. */
export class Listener {
  readonly socket = dgram.createSocket('udp4');
  packets = 0;
  bytes = 0;
  lastAt = 0;

  static async open(): Promise<Listener> {
    const listener = new Listener();
    await new Promise<void>((resolve) => listener.socket.bind(0, LOOPBACK, resolve));
    try {
      listener.socket.setRecvBufferSize(8 * MiB);
    } catch {
      // capped by net.core.rmem_max: counts may then be low under a burst
    }
    listener.socket.on('message', (data) => {
      listener.packets++;
      listener.bytes += data.length;
      listener.lastAt = performance.now();
    });
    return listener;
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(bytes: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(bytes, port, LOOPBACK, (error) => (error ? reject(error) : resolve())));
  }

  /** Waits until nothing has arrived for `quietMs` (at most `maxMs` in all). */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const started = performance.now();
    while (performance.now() - started < maxMs) {
      await sleep(100);
      const lastOrStart = Math.max(this.lastAt, started);
      if (performance.now() - lastOrStart >= quietMs) return;
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** A UDP attack from a listener: sends, waits for the answers to stop, and closes. */
export async function withListener<T>(use: (listener: Listener) => Promise<T>): Promise<T> {
  const listener = await Listener.open();
  try {
    return await use(listener);
  } finally {
    listener.close();
  }
}

/** Sends the datagrams `make` makes, paced at `perSecond` for `ms`; how many went. */
export async function flood(listener: Listener, port: number, make: (i: number) => Uint8Array, perSecond: number, ms: number): Promise<number> {
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < ms) {
    const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
    for (; sent < due; sent++) listener.socket.send(make(sent), port, LOOPBACK);
    await sleep(10);
  }
  while (listener.socket.getSendQueueCount() > 0) await sleep(10);
  return sent;
}

/** A TCP connection to the victim's gossip port; it resolves once connected (or refused: then null). */
export function connectTo(port: number, timeoutMs = 5_000): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

export interface StreamFate {
  /** Every byte went out (to the kernel) before the victim closed the connection. */
  readonly delivered: boolean;
}

/** Sends `bytes` on its own connection and waits until the victim closes it (at most `timeoutMs`). */
export async function sendStream(port: number, bytes: Uint8Array, timeoutMs: number): Promise<StreamFate> {
  const socket = await connectTo(port);
  if (socket === null) return { delivered: false };
  return new Promise((resolve) => {
    let delivered = false;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ delivered });
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('error', done);
    socket.on('close', done);
    socket.resume(); // the victim's answer, if it gives one
    socket.write(bytes, (error) => {
      delivered = error === undefined || error === null;
    });
  });
}

/** `n` streams at once; how many went out whole before the victim closed them (or `timeoutMs`). */
export async function concurrentStreams(port: number, n: number, bytes: Uint8Array, timeoutMs: number): Promise<number> {
  const fates = await Promise.all(Array.from({ length: n }, () => sendStream(port, bytes, timeoutMs)));
  return fates.filter((fate) => fate.delivered).length;
}

export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<number | null> {
  const started = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) return null;
    await sleep(everyMs);
  }
}

/** A port nothing listens on: forged members live there, so that probing them costs nobody else. */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
